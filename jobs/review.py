"""The review job: claim the review and queue its first account. It runs where the database is.

The scan itself runs in scan jobs on any worker (``jobs.scan``), and only store jobs write its
results (``jobs.store``); ``finops.pipeline`` draws the whole graph. A single-account review is
one account's scan, store and finish; an organization review starts with its management account,
whose store job queues the members.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from redis.exceptions import RedisError

from finops import reviews
from finops.config import Settings
from finops.db import connect
from finops.errors import FinopsError, WorkerLost
from finops.queue import attempt_of, enqueue_first_account

log = logging.getLogger(__name__)


def run_review_job(review_id: str) -> str:
    settings = Settings.from_env()
    db = connect(settings.db_path, busy_timeout=settings.db_busy_timeout)
    review = reviews.start(db, review_id)
    if review is None:
        log.info("review=%s state=skipped reason=not-queued", review_id[:6])
        return "skipped"
    attempt = review["attempt"]
    log.info("review=%s state=running attempt=%s scope=%s", review_id[:6], attempt, review["scope"])
    reviews.add_step(db, review_id, "Scanning the management account first: it lists the organization's accounts"
                     if review["scope"] == "organization" else "Waiting for a scan worker to take the account")
    try:
        enqueue_first_account(settings, review)
    except FinopsError as error:
        fail_or_log(db, review_id, error)
        return "failed"
    except RedisError as error:  # the review stays running: the store worker's maintenance queues it again
        log.warning("review=%s state=enqueue-failed error=%s (resumed once Redis answers)", review_id[:6],
                    type(error).__name__)
        return "enqueue-failed"
    except Exception as error:
        log.exception("review=%s state=failed code=enqueue error=%s", review_id[:6], type(error).__name__)
        fail_or_log(db, review_id, WorkerLost(f"could not queue the scan: {type(error).__name__}"))
        return "failed"
    return "queued-scan"


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


def fail_or_log(db: Any, review_id: str, error: FinopsError, attempt: int | None = None) -> None:
    """Fail the review with the error's sentence; when the database refuses even that, log it."""
    try:
        reviews.fail(db, review_id, error, attempt=attempt)
    except (FinopsError, sqlite3.Error) as second:  # the database refuses even that: the heartbeat
        # stops, and the review is failed as lost once FINOPS_HEARTBEAT_TIMEOUT has passed
        log.error("review=%s state=fail-not-saved code=%s error=%s", review_id[:6], error.code, second)


def on_review_job_failed(job: Any, connection: Any, exc_type: Any, exc_value: Any, traceback: Any) -> None:
    """RQ failure callback (job timeout, work-horse killed): the customer gets a sentence."""
    review_id = job.args[0]
    settings = Settings.from_env()
    reviews.fail(connect(settings.db_path), review_id, WorkerLost(f"rq job failed: {exc_type}"),
                 attempt=attempt_of(job.id))
