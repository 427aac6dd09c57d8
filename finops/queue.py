"""RQ transport. Jobs carry a review id and nothing else; status lives in SQLite."""

from __future__ import annotations

from redis import Redis
from rq import Callback, Queue

from finops.config import Settings
from finops.errors import ConfigError

JOB_FUNCTION = "jobs.review.run_review_job"


def redis_connection(settings: Settings) -> Redis:
    if not settings.redis_url:
        raise ConfigError("FINOPS_REDIS_URL is not set and no embedded Redis was started")
    return Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=10)


def review_queue(settings: Settings, connection: Redis | None = None) -> Queue:
    return Queue(settings.queue_name, connection=connection or redis_connection(settings))


def job_id(review_id: str, attempt: int) -> str:
    """Deterministic: the same submission can never become two jobs."""
    return f"review-{review_id}-{attempt}"


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
