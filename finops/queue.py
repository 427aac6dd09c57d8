"""RQ transport. Jobs carry a review id and nothing else; status lives in SQLite."""

from __future__ import annotations

import sqlite_utils
from redis import Redis
from rq import Callback, Queue
from rq.job import JobStatus

from finops.config import Settings
from finops.errors import ConfigError

JOB_FUNCTION = "jobs.review.run_review_job"
HELD = (JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)  # and QUEUED while in the list


def redis_connection(settings: Settings) -> Redis:
    if not settings.redis_url:
        raise ConfigError("FINOPS_REDIS_URL is not set and no embedded Redis was started")
    return Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=10)


def review_queue(settings: Settings, connection: Redis | None = None) -> Queue:
    return Queue(settings.queue_name, connection=connection or redis_connection(settings))


def job_id(review_id: str, attempt: int) -> str:
    """Deterministic: the same submission can never become two jobs."""
    return f"review-{review_id}-{attempt}"


def attempt_of(jid: str) -> int:
    return int(jid.rsplit("-", 1)[1])  # review ids may contain "-": the attempt is the last part


def enqueue_review(settings: Settings, review_id: str, attempt: int, connection: Redis | None = None) -> None:
    queue = review_queue(settings, connection)
    jid = job_id(review_id, attempt)
    if queue.fetch_job(jid) is not None:
        return
    queue.enqueue(
        JOB_FUNCTION,
        review_id,
        job_id=jid,
        job_timeout=settings.scan_timeout,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        on_failure=Callback("jobs.review.on_review_job_failed"),
        description=f"savings review {review_id[:6]} attempt {attempt}",
    )


def requeue_lost_reviews(settings: Settings, db: sqlite_utils.Database, connection: Redis | None = None) -> list[str]:
    """Queue again every review SQLite says is queued but the queue does not hold.

    A Redis that lost its data, or a stop between the two writes of a submit, leaves such a
    review; without this it would wait for a scanner forever. The deterministic job id makes it
    safe to run at every start, from every process: one attempt is still one job, and a review
    only starts from ``queued`` once (``reviews.start``).
    """
    from finops import reviews

    queue = review_queue(settings, connection)
    requeued = []
    for review in reviews.queued(db):
        jid = job_id(review["id"], review["attempt"])
        job = queue.fetch_job(jid)
        if job is not None:
            status = job.get_status(refresh=False)
            if status in HELD or (status == JobStatus.QUEUED and queue.get_job_position(jid) is not None):
                continue
            job.delete()  # a finished or failed record of this attempt, or a job no longer in the list
        enqueue_review(settings, review["id"], review["attempt"], connection=queue.connection)
        requeued.append(review["id"])
    return requeued
