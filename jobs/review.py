"""The review job: claim the review, scan, store, and keep a heartbeat while doing it."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from finops import reviews
from finops.config import Settings
from finops.db import connect
from finops.errors import FinopsError, WorkerLost
from finops.queue import attempt_of
from finops.scan import run_scan

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 3


def run_review_job(review_id: str) -> str:
    settings = Settings.from_env()
    db = connect(settings.db_path)
    review = reviews.start(db, review_id)
    if review is None:
        log.info("review=%s state=skipped reason=not-queued", review_id[:6])
        return "skipped"
    log.info("review=%s state=running attempt=%s", review_id[:6], review["attempt"])
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(settings, review_id, stop), daemon=True)
    beat.start()
    try:
        result = run_scan(
            review["role_arn"],
            review["external_id"],
            settings,
            threshold_overrides=json.loads(review["thresholds"] or "{}"),
            on_step=lambda message: reviews.add_step(db, review_id, message),
            on_progress=lambda pct: reviews.heartbeat(db, review_id, pct),
        )
        status = reviews.store_result(db, review_id, result, retention_days=settings.retention_days)
    except FinopsError as error:
        log.warning("review=%s state=failed code=%s", review_id[:6], error.code)
        reviews.fail(db, review_id, error)
        return "failed"
    except Exception:
        log.exception("review=%s state=failed code=internal", review_id[:6])
        reviews.fail(db, review_id, FinopsError("internal error"))
        return "failed"
    finally:
        stop.set()
    log.info("review=%s state=%s findings=%d", review_id[:6], status, len(result.findings))
    send_report_email(settings, db, review_id)
    return status


def send_report_email(settings: Settings, db: Any, review_id: str) -> None:
    """Queue the report email (the outbox row first: the maintenance loop retries a lost enqueue)."""
    from finops import mail
    from finops.queue import enqueue_mail

    message_id = mail.queue_report_email(db, settings, review_id)
    if message_id is None or not settings.mail_enabled:
        return
    try:
        enqueue_mail(settings, message_id, 0)
    except Exception as error:  # noqa: BLE001 - the row stays queued; the worker loop sends it
        log.warning("outbox=%s state=enqueue-failed error=%s", message_id, type(error).__name__)


def _heartbeat(settings: Settings, review_id: str, stop: threading.Event) -> None:
    db = connect(settings.db_path)  # its own connection: the scan thread holds the other
    while not stop.wait(HEARTBEAT_SECONDS):
        reviews.heartbeat(db, review_id)


def on_review_job_failed(job: Any, connection: Any, exc_type: Any, exc_value: Any, traceback: Any) -> None:
    """RQ failure callback (job timeout, work-horse killed): the customer gets a sentence."""
    review_id = job.args[0]
    settings = Settings.from_env()
    reviews.fail(connect(settings.db_path), review_id, WorkerLost(f"rq job failed: {exc_type}"),
                 attempt=attempt_of(job.id))
