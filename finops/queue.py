"""RQ transport. Jobs carry a review id and nothing else; status lives in SQLite.

Jobs are serialized as JSON, never pickled: a job is a function name and a review id, so nothing
needs pickle, and whoever can write to Redis cannot make a worker unpickle code. Workers also run
only the job functions and callbacks named here (RQ would import and call any name a job holds).
"""

from __future__ import annotations

import logging

import sqlite_utils
from redis import Redis
from rq import Callback, Queue
from rq.exceptions import DeserializationError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from finops.config import Settings
from finops.errors import ConfigError

log = logging.getLogger(__name__)

JOB_FUNCTION = "jobs.review.run_review_job"
FAILURE_CALLBACK = "jobs.review.on_review_job_failed"
JOB_FUNCTIONS = frozenset({JOB_FUNCTION})  # what a worker will run
JOB_CALLBACKS = frozenset({FAILURE_CALLBACK})
SERIALIZER = JSONSerializer
HELD = (JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)  # and QUEUED while in the list


def redis_connection(settings: Settings) -> Redis:
    if not settings.redis_url:
        raise ConfigError("FINOPS_REDIS_URL is not set and no embedded Redis was started")
    return Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=10)


def review_queue(settings: Settings, connection: Redis | None = None) -> Queue:
    return Queue(settings.queue_name, connection=connection or redis_connection(settings), serializer=SERIALIZER)


def trusted_job(job: Job) -> bool:
    """A job a worker may run: one of our functions, our callbacks only, and JSON it can read."""
    try:
        function = job.func_name
        job.args  # noqa: B018 - deserializes: a pickled or garbled payload fails here
    except (DeserializationError, ValueError, TypeError, UnicodeDecodeError):
        return False
    callbacks = {getattr(job, f"_{kind}_callback_name", None) for kind in ("success", "failure", "stopped")}
    return function in JOB_FUNCTIONS and callbacks - {None, ""} <= JOB_CALLBACKS


def refuse_job(job: Job, reason: str) -> None:
    log.error("job=%s state=refused reason=%s", job.id, reason)
    job.delete()


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
        on_failure=Callback(FAILURE_CALLBACK),
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
            waiting = status == JobStatus.QUEUED and queue.get_job_position(jid) is not None
            if trusted_job(job) and (status in HELD or waiting):  # a pickled job (before JSON) is queued again
                continue
            queue.remove(jid)
            job.delete()  # a finished or failed record of this attempt, or a job no longer in the list
        enqueue_review(settings, review["id"], review["attempt"], connection=queue.connection)
        requeued.append(review["id"])
    return requeued
