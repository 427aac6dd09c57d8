"""The review job: claim the review, scan, store, and keep a heartbeat while doing it.

Progress lines and heartbeats are best effort: a database busy (or full) for a moment must not
stop a scan whose result can still be stored. Storing is one transaction: if SQLite refuses it
(busy past ``FINOPS_DB_BUSY_TIMEOUT``, disk full) nothing of it is kept and the review fails with
the sentence of ``StorageBusy`` / ``StorageFull``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable
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
    db = connect(settings.db_path, busy_timeout=settings.db_busy_timeout)
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
            on_step=best_effort(review_id, lambda message: reviews.add_step(db, review_id, message)),
            on_progress=best_effort(review_id, lambda pct: reviews.heartbeat(db, review_id, pct)),
        )
        status = reviews.store_result(db, review_id, result, retention_days=settings.retention_days)
    except FinopsError as error:
        log.warning("review=%s state=failed code=%s", review_id[:6], error.code)
        _fail(db, review_id, error)
        return "failed"
    except Exception:
        log.exception("review=%s state=failed code=internal", review_id[:6])
        _fail(db, review_id, FinopsError("internal error"))
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


def best_effort(review_id: str, write: Callable[[Any], None]) -> Callable[[Any], None]:
    """A progress write that a busy or full database skips (logged) instead of failing the scan."""

    def run(value: Any) -> None:
        try:
            write(value)
        except sqlite3.OperationalError as error:
            log.warning("review=%s state=progress-not-saved error=%s", review_id[:6], error)

    return run


def _fail(db: Any, review_id: str, error: FinopsError) -> None:
    try:
        reviews.fail(db, review_id, error)
    except (FinopsError, sqlite3.Error) as second:  # the database refuses even that: the heartbeat
        # stops, and the review is failed as lost once FINOPS_HEARTBEAT_TIMEOUT has passed
        log.error("review=%s state=fail-not-saved code=%s error=%s", review_id[:6], error.code, second)


def _heartbeat(settings: Settings, review_id: str, stop: threading.Event) -> None:
    db = connect(settings.db_path, busy_timeout=settings.db_busy_timeout)  # the scan thread holds the other
    beat = best_effort(review_id, lambda _: reviews.heartbeat(db, review_id))
    while not stop.wait(HEARTBEAT_SECONDS):
        beat(None)


def on_review_job_failed(job: Any, connection: Any, exc_type: Any, exc_value: Any, traceback: Any) -> None:
    """RQ failure callback (job timeout, work-horse killed): the customer gets a sentence."""
    review_id = job.args[0]
    settings = Settings.from_env()
    reviews.fail(connect(settings.db_path), review_id, WorkerLost(f"rq job failed: {exc_type}"),
                 attempt=attempt_of(job.id))
