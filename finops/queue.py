"""RQ transport. Jobs carry an id (a review, a connection check, an outbox message) and nothing else;
status lives in SQLite.

Jobs are serialized as JSON, never pickled: a job is a function name and a review id, so nothing
needs pickle, and whoever can write to Redis cannot make a worker unpickle code. Workers also run
only the job functions and callbacks named here (RQ would import and call any name a job holds).
"""

from __future__ import annotations

import logging
import time

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
CONNECTION_JOB = "jobs.connection.run_connection_check"
CONNECTION_FAILURE_CALLBACK = "jobs.connection.on_connection_check_failed"
MAIL_JOB = "jobs.mail.send_outbox_message"
JOB_FUNCTIONS = frozenset({JOB_FUNCTION, CONNECTION_JOB, MAIL_JOB})  # what a worker will run
JOB_CALLBACKS = frozenset({FAILURE_CALLBACK, CONNECTION_FAILURE_CALLBACK})
SERIALIZER = JSONSerializer
CLAIM_GRACE_SECONDS = 2  # a worker marks a job started within this of popping it
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

    def not_held(candidates: dict[str, str]) -> dict[str, tuple[str, Job | None]]:
        """review id -> (job id, its job or None) for each candidate no worker has or will run."""
        found = {review_id: (jid, queue.fetch_job(jid)) for review_id, jid in candidates.items()}
        return {review_id: (jid, job) for review_id, (jid, job) in found.items()
                if job is None or not _held(queue, job)}

    lost = not_held({review["id"]: job_id(review["id"], review["attempt"]) for review in reviews.queued(db)})
    if any(job is not None and trusted_job(job) and job.get_status(refresh=False) == JobStatus.QUEUED
           for _, job in lost.values()):
        # A queued job in no list may be one a worker has just popped and not yet marked started
        # (with two queues RQ pops with LPOP): look again after a moment before calling it lost.
        time.sleep(CLAIM_GRACE_SECONDS)
        lost = not_held({review_id: jid for review_id, (jid, _) in lost.items()})
    requeued = []
    for review_id, (jid, job) in lost.items():
        if job is not None:
            queue.remove(jid)
            job.delete()  # a finished or failed record of this attempt, or a job no longer in the list
        if reviews.get_review(db, review_id)["status"] != "queued":
            continue  # started (or cancelled) meanwhile
        enqueue_review(settings, review_id, attempt_of(jid), connection=queue.connection)
        requeued.append(review_id)
    return requeued


def _held(queue: Queue, job: Job) -> bool:
    """A job some worker has or will run: started, deferred, scheduled, or queued in a list.

    A pickled job (before JSON) is not held: it is queued again as JSON.
    """
    if not trusted_job(job):
        return False
    status = job.get_status(refresh=False)
    if status in HELD:
        return True
    if status != JobStatus.QUEUED:
        return False  # finished or failed: a record of this attempt, not a job to run
    jid = job.id  # in the queue's list, or in its intermediate list (RQ's LMOVE, one queue)
    return (queue.get_job_position(jid) is not None
            or queue.connection.lpos(queue.intermediate_queue_key, jid) is not None)


# -- the quick queue: Test connection and report emails ------------------------------------------
# Short jobs a person may be waiting on. Every worker takes them before scans (it lists this queue
# first), and `serve` runs one more embedded worker for this queue only, so a Test connection
# never waits behind a scan that takes minutes.
CONNECTION_TIMEOUT = 90  # seconds: AssumeRole x3 and GetCallerIdentity, with few retries
MAIL_TIMEOUT = 120


def quick_queue_name(settings: Settings) -> str:
    return f"{settings.queue_name}-quick"


def quick_queue(settings: Settings, connection: Redis | None = None) -> Queue:
    reviews = review_queue(settings, connection)  # the same connection and serializer as the scans'
    return Queue(quick_queue_name(settings), connection=reviews.connection, serializer=reviews.serializer)


def worker_queue_names(settings: Settings, quick_only: bool = False) -> list[str]:
    return [quick_queue_name(settings)] if quick_only else [quick_queue_name(settings), settings.queue_name]


def enqueue_connection_check(settings: Settings, check_id: str, connection: Redis | None = None) -> None:
    quick_queue(settings, connection).enqueue(
        CONNECTION_JOB, check_id, job_id=f"connection-{check_id}", job_timeout=CONNECTION_TIMEOUT,
        result_ttl=600, failure_ttl=24 * 3600, on_failure=Callback(CONNECTION_FAILURE_CALLBACK),
        description=f"test connection {check_id[:6]}",
    )


def enqueue_mail(settings: Settings, message_id: int, tries: int, connection: Redis | None = None) -> None:
    """One try at sending an outbox message; the same try is never queued twice."""
    queue = quick_queue(settings, connection)
    jid = f"mail-{message_id}-{tries}"
    existing = queue.fetch_job(jid)
    if existing is not None and existing.get_status(refresh=False) not in (JobStatus.FINISHED, JobStatus.FAILED):
        return
    if existing is not None:
        existing.delete()
    queue.enqueue(MAIL_JOB, message_id, job_id=jid, job_timeout=MAIL_TIMEOUT, result_ttl=600,
                  failure_ttl=7 * 24 * 3600, description=f"report email {message_id} try {tries + 1}")
