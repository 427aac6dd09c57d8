"""RQ transport. Jobs carry an id (a review, a connection check, an outbox message) and nothing else;
status lives in SQLite.

Jobs are serialized as JSON, never pickled: a job is a function name and a review id, so nothing
needs pickle, and whoever can write to Redis cannot make a worker unpickle code. Workers also run
only the job functions and callbacks named here (RQ would import and call any name a job holds).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import sqlite_utils
from redis import Redis
from rq import Callback, Queue, Retry
from rq.exceptions import DeserializationError
from rq.job import Dependency, Job, JobStatus
from rq.serializers import JSONSerializer

from finops.config import Settings
from finops.errors import ConfigError

log = logging.getLogger(__name__)

JOB_FUNCTION = "jobs.review.run_review_job"
FAILURE_CALLBACK = "jobs.review.on_review_job_failed"
CONNECTION_JOB = "jobs.connection.run_connection_check"
CONNECTION_FAILURE_CALLBACK = "jobs.connection.on_connection_check_failed"
MAIL_JOB = "jobs.mail.send_outbox_message"
SCAN_JOB = "jobs.scan.scan_account"
STORE_JOB = "jobs.store.store_account_job"
FINISH_JOB = "jobs.store.finish_review_job"
PROGRESS_JOB = "jobs.store.store_progress"
ACCOUNTS_JOB = "jobs.store.register_accounts_job"
JOB_FUNCTIONS = frozenset({  # what a worker will run
    JOB_FUNCTION, CONNECTION_JOB, MAIL_JOB, SCAN_JOB, STORE_JOB, FINISH_JOB, PROGRESS_JOB, ACCOUNTS_JOB,
})
SCAN_JOBS = frozenset({SCAN_JOB})  # the only jobs a worker without the database runs
# Tries after the first of a store job SQLite refused (each waits FINOPS_DB_BUSY_TIMEOUT for a busy
# database), or whose worker died. At once: a delay would need RQ's scheduler, one more process.
STORE_RETRIES = 5
JOB_CALLBACKS = frozenset({FAILURE_CALLBACK, CONNECTION_FAILURE_CALLBACK})
SERIALIZER = JSONSerializer
CLAIM_GRACE_SECONDS = 2  # a worker marks a job started within this of popping it
HELD = (JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)  # and QUEUED while in the list


def redis_connection(settings: Settings) -> Redis:
    if not settings.redis_url:
        raise ConfigError("FINOPS_REDIS_URL is not set and no embedded Redis was started")
    return Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=10)


def review_queue(settings: Settings, connection: Redis | None = None) -> Queue:
    """The store queue: review claims, stores, finishes, progress. Only a worker with the database
    (``serve``'s, or ``worker --store``) takes them."""
    return Queue(store_queue_name(settings), connection=connection or redis_connection(settings),
                 serializer=SERIALIZER)


def scan_queue(settings: Settings, connection: Redis | None = None) -> Queue:
    """One job per account to scan; any worker with Redis and the scanner's AWS identity takes them."""
    return Queue(settings.queue_name, connection=connection or redis_connection(settings), serializer=SERIALIZER)


def store_queue_name(settings: Settings) -> str:
    return f"{settings.queue_name}-store"


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
    return requeued + resume_running_reviews(settings, db, queue.connection)


RESUME_AFTER_SECONDS = 10  # a claimed review has its jobs in Redis within milliseconds


def resume_running_reviews(settings: Settings, db: sqlite_utils.Database, connection: Redis) -> list[str]:
    """Queue again the first account of every running review Redis holds no live job of (a Redis
    that restarted empty: at most a scan that finished into it, with no store job after it): its
    scan starts again, what was stored is replaced, and the review completes instead of waiting
    for a job that no longer exists."""
    from finops import reviews

    def jobless() -> list[dict]:  # no job of the attempt that can still run: none queued, deferred or running
        return [review for review in reviews.running(db, older_than=RESUME_AFTER_SECONDS)
                if not any(job.get_status(refresh=False) in (*HELD, JobStatus.QUEUED)
                           for job in review_jobs(settings, review, connection))]

    candidates = jobless()
    if not candidates:
        return []
    time.sleep(CLAIM_GRACE_SECONDS)
    again = {review["id"] for review in jobless()}
    resumed = []
    for review in candidates:
        if review["id"] in again and reviews.is_running(db, review["id"], review["attempt"]):
            enqueue_first_account(settings, review, connection)
            reviews.add_step(db, review["id"], "The queue lost this review's jobs (it restarted); scanning again")
            log.warning("review=%s state=resumed reason=running-but-no-job-in-redis", review["id"][:6])
            resumed.append(review["id"])
    return resumed


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


def worker_queue_names(settings: Settings, *, store: bool = True, scan: bool = True) -> list[str]:
    """In the order a worker takes them: a person waiting (quick), results waiting (store), scans."""
    names = [quick_queue_name(settings), store_queue_name(settings)] if store else []
    return names + ([settings.queue_name] if scan else [])


def enqueue_ready_dependents(settings: Settings, connection: Redis, tries: int = 3) -> int:
    """Queue now the jobs whose dependencies are met but that RQ left waiting; returns how many.

    When a job ends, RQ 3 moves its dependents (a store job after its scan, the finish after the
    last store) to a "ready" registry and queues them at once, under a WATCH of that registry.
    If another worker touches the same registry at that moment (several scan workers finishing
    together), RQ skips the job and leaves it to a registry clean-up, which here runs every
    LOST_REVIEWS_CHECK_SECONDS: a store job, and so the whole review, waited 15 s
    (``bench/org.py`` caught it in about one 4-worker run in three). Every worker calls this after
    each job; a job is queued at most once either way (RQ checks that its registry still holds it).
    """
    from rq.registry import ReadyJobRegistry

    queued = 0
    for name in worker_queue_names(settings):
        registry = ReadyJobRegistry(name, connection=connection, serializer=SERIALIZER)
        for _ in range(tries):
            if not connection.zcard(registry.key):
                break
            queued += len(registry.cleanup())
    return queued


# -- the review's jobs after its claim (finops.pipeline draws the graph) ---------------------------
def scan_job_id(review_id: str, attempt: int, account_id: str) -> str:
    return f"scan-{review_id}-{attempt}-{account_id}"


def store_job_id(review_id: str, attempt: int, account_id: str) -> str:
    return f"store-{review_id}-{attempt}-{account_id}"


def enqueue_account(settings: Settings, spec: dict[str, Any], *, external_id: str, thresholds: dict[str, Any],
                    connection: Redis | None = None, after: tuple[Job, ...] = ()) -> Job:
    """One account's scan job (any scan worker) and its store job (after the scan, however it
    ended, and after ``after``); returns the store job. Ids are deterministic: queuing an account
    twice queues it once. A management account's scan that runs again (its worker was lost) goes
    to the front of the queue: its members' scans may be waiting for its cost data."""
    scans = scan_queue(settings, connection)
    stores = review_queue(settings, scans.connection)
    review_id, attempt, account_id = spec["review_id"], spec["attempt"], spec["account_id"]
    existing = stores.fetch_job(store_job_id(review_id, attempt, account_id))
    if existing is not None:
        return existing
    scan = _scan_job(settings, scans, spec, external_id, thresholds)
    return stores.enqueue(
        STORE_JOB, spec, job_id=store_job_id(review_id, attempt, account_id),
        depends_on=Dependency(jobs=[scan, *after], allow_failure=True),
        job_timeout=600, result_ttl=3600, failure_ttl=7 * 24 * 3600,
        retry=Retry(max=STORE_RETRIES),
        description=f"store account {spec['account_id']} of review {spec['review_id'][:6]}",
    )


def _scan_job(settings: Settings, scans: Queue, spec: dict[str, Any], external_id: str,
              thresholds: dict[str, Any]) -> Job:
    """The account's scan job, queued unless it already is (its id is deterministic)."""
    review_id, attempt, account_id = spec["review_id"], spec["attempt"], spec["account_id"]
    scan_id = scan_job_id(review_id, attempt, account_id)
    retry = Retry(max=settings.scan_retries, enqueue_at_front=spec["kind"] == "management") \
        if settings.scan_retries else None
    return scans.fetch_job(scan_id) or scans.enqueue(
        SCAN_JOB, {**spec, "external_id": external_id, "thresholds": thresholds}, job_id=scan_id,
        job_timeout=settings.scan_timeout, result_ttl=3600, failure_ttl=7 * 24 * 3600,
        retry=retry, meta={"retries": settings.scan_retries},
        description=f"scan account {account_id} of review {review_id[:6]}",
    )


def enqueue_finish(settings: Settings, review_id: str, attempt: int, after: list[Job | str],
                   connection: Redis | None = None) -> Job:
    stores = review_queue(settings, connection)
    jid = finish_job_id(review_id, attempt)
    existing = stores.fetch_job(jid)
    if existing is not None:
        return existing
    return stores.enqueue(
        FINISH_JOB, review_id, attempt, job_id=jid,
        depends_on=Dependency(jobs=after, allow_failure=True) if after else None,
        job_timeout=600, result_ttl=3600, failure_ttl=7 * 24 * 3600,
        retry=Retry(max=STORE_RETRIES),
        description=f"finish review {review_id[:6]} attempt {attempt}",
    )


def finish_job_id(review_id: str, attempt: int) -> str:
    return f"finish-{review_id}-{attempt}"


def accounts_job_id(review_id: str, attempt: int) -> str:
    return f"accounts-{review_id}-{attempt}"


def resume_members(settings: Settings, review_id: str, attempt: int, connection: Redis) -> bool:
    """Queue what a management account's scan had left to queue when its worker died while it
    queued the members (a member's scan without its store, members not queued, the finish), as it
    would have: their scans stop before calling AWS once the management account has failed, and the
    finish waits for every store. False when it had queued nothing (no accounts job)."""
    from finops import wire
    from finops.organization import OrgAccount

    registered = review_queue(settings, connection).fetch_job(accounts_job_id(review_id, attempt))
    if registered is None:
        return _resume_early_scans(settings, review_id, attempt, connection)
    order, organization_id, accounts = registered.args
    management = scan_queue(settings, connection).fetch_job(scan_job_id(review_id, attempt, order["account_id"]))
    if management is None:  # its record expired: nothing to queue the members with
        return False
    enqueue_members(settings, management.args[0], organization_id, [wire.decode(OrgAccount, a) for a in accounts],
                    connection)
    return True


def _resume_early_scans(settings: Settings, review_id: str, attempt: int, connection: Redis) -> bool:
    """The management account's scan queued members' scans page by page (``enqueue_member_scans``)
    and never got to the rest (its list failed on a later page, or its worker was lost): those
    accounts get their rows, stores and the finish as ``enqueue_members`` gives them. False when
    it queued no member scan."""
    from finops.organization import ACTIVE, OrgAccount

    members = [job.args[0] for job in review_jobs(settings, {"id": review_id, "attempt": attempt}, connection)
               if job.id.startswith("scan-") and job.args[0].get("kind") == "member"]
    if not members:
        return False
    management = scan_queue(settings, connection).fetch_job(scan_job_id(review_id, attempt, members[0]["management"]))
    if management is None:
        return False
    accounts = [OrgAccount(m["account_id"], m.get("name") or "", ACTIVE) for m in members]
    enqueue_members(settings, management.args[0], members[0].get("organization_id") or "", accounts, connection)
    return True


def enqueue_member_scans(settings: Settings, management: dict[str, Any], organization_id: str,
                         accounts: list[Any], connection: Redis) -> int:
    """Queue the scans of the member accounts listed so far (one ListAccounts page at a time), from
    the management account's scan: only the scans, which need no database. ``enqueue_members``, once
    the list is complete, queues the rest (the rows, every store, the finish) and finds these
    scans by their ids. Returns how many it queued."""
    from finops.organization import ACTIVE

    if review_queue(settings, connection).fetch_job(finish_job_id(management["review_id"], management["attempt"])):
        return 0
    scans = scan_queue(settings, connection)
    members = [a for a in accounts if a.account_id != management["account_id"] and a.state == ACTIVE]
    for account in members:
        _scan_job(settings, scans, _member_spec(management, organization_id, account),
                  management["external_id"], management.get("thresholds") or {})
    return len(members)


def _member_spec(management: dict[str, Any], organization_id: str, account: Any) -> dict[str, Any]:
    from finops.organization import member_role_arn

    return {"review_id": management["review_id"], "attempt": management["attempt"], "account_id": account.account_id,
            "name": account.name, "kind": "member", "organization_id": organization_id,
            "role_arn": member_role_arn(management["role_arn"], account.account_id),
            "management": management["account_id"]}


def enqueue_members(settings: Settings, management: dict[str, Any], organization_id: str, accounts: list[Any],
                    connection: Redis) -> int:
    """Queue an organization's member accounts, from the management account's scan job as soon
    as it has listed them (``management`` is that job's order, ``accounts`` ``OrgAccount``s): the
    accounts job (their rows in SQLite, at the front of the store queue), every active member's
    scan and store, and the finish (after the management account's store, the accounts job and
    every member's store). Returns how many member scans were queued: 0 when an earlier run of
    the same scan job (its worker lost) queued them, as deterministic ids make sure."""
    from finops import wire
    from finops.organization import ACTIVE

    review_id, attempt, me = management["review_id"], management["attempt"], management["account_id"]
    stores = review_queue(settings, connection)
    if stores.fetch_job(finish_job_id(review_id, attempt)) is not None:
        return 0
    jid = accounts_job_id(review_id, attempt)
    order = {"review_id": review_id, "attempt": attempt, "account_id": me, "role_arn": management["role_arn"]}
    registered = stores.fetch_job(jid) or stores.enqueue(
        ACCOUNTS_JOB, order, organization_id, wire.encode(accounts), job_id=jid, at_front=True,
        job_timeout=600, result_ttl=3600, failure_ttl=7 * 24 * 3600, retry=Retry(max=STORE_RETRIES),
        description=f"member accounts of review {review_id[:6]}",
    )
    members = [
        enqueue_account(
            settings, _member_spec(management, organization_id, account),
            external_id=management["external_id"], thresholds=management.get("thresholds") or {},
            connection=connection, after=(registered,),
        )
        for account in accounts if account.account_id != me and account.state == ACTIVE
    ]
    enqueue_finish(settings, review_id, attempt, [store_job_id(review_id, attempt, me), registered, *members],
                   connection)
    return len(members)


def enqueue_progress(settings: Settings, review_id: str, attempt: int, connection: Redis | None = None) -> None:
    review_queue(settings, connection).enqueue(
        PROGRESS_JOB, review_id, attempt, job_id=f"progress-{review_id}-{attempt}-{uuid.uuid4().hex[:12]}",
        job_timeout=60, result_ttl=0, failure_ttl=3600, description=f"progress of review {review_id[:6]}",
    )


def review_jobs(settings: Settings, review: dict[str, Any], connection: Redis | None = None) -> list[Job]:
    """Every job Redis holds for this attempt of the review: claim, scans, accounts, stores, finish
    (progress jobs are not looked at: they only copy steps)."""
    queue = review_queue(settings, connection)
    ids = [key.decode().removeprefix("rq:job:")
           for kind in ("review", "scan", "accounts", "store", "finish")
           for key in queue.connection.scan_iter(f"rq:job:{kind}-{review['id']}-{review['attempt']}*", count=1000)]
    ids = [jid for jid in ids if jid.count("-") >= 2 and _attempt_matches(jid, review)]
    return [job for job in Job.fetch_many(ids, connection=queue.connection, serializer=SERIALIZER) if job is not None]


def _attempt_matches(jid: str, review: dict[str, Any]) -> bool:
    """``scan-<id>-<n>-<account>`` or ``review-<id>-<n>``: review ids may contain "-"."""
    rest = jid.split("-", 1)[1].removeprefix(f"{review['id']}-")
    return rest.split("-", 1)[0] == str(review["attempt"])


def review_jobs_alive(settings: Settings, review: dict[str, Any], connection: Redis | None = None, *,
                      running_counts: bool = True) -> bool | None:
    """Whether the review's attempt is still moving: a job of it waits in a queue (for a free
    worker), or runs on a worker whose lease is current. A job whose worker died (its lease ran
    out) does not count until a worker's maintenance queues it again; a job waiting for another
    (deferred) does not count by itself. ``running_counts=False``, for a start-up that knows every
    worker that could run a job is gone: a scan that was running (or stopped) means interrupted,
    and only waiting jobs count. None when Redis cannot say."""
    try:
        connection = connection or redis_connection(settings)
        jobs = review_jobs(settings, review, connection)
        expired: set[str] = set()
        for queue in (review_queue(settings, connection), scan_queue(settings, connection)):
            expired.update(queue.started_job_registry.get_expired_job_ids())
        if not running_counts and any(job.id.startswith("scan-") and job.get_status(refresh=False) in (
                JobStatus.STARTED, JobStatus.STOPPED) for job in jobs):
            return False  # a scan was running when its worker went: interrupted, whatever waits after it
        for job in jobs:
            status = job.get_status(refresh=False)
            if status in (JobStatus.QUEUED, JobStatus.SCHEDULED) or (
                    running_counts and status == JobStatus.STARTED and job.id not in expired):
                return True
        return False
    except Exception:  # noqa: BLE001 - Redis down or a review without a role: the heartbeat decides
        return None


def drop_review_jobs(settings: Settings, review: dict[str, Any], connection: Redis | None = None) -> int:
    """Delete every job of this attempt of the review that has not ended (a review just failed):
    no worker runs a scan, a store or a finish for it later."""
    dropped = 0
    for job in review_jobs(settings, review, connection):
        if job.get_status(refresh=False) not in (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED):
            try:
                job.delete(remove_from_queue=True)
            except Exception:  # noqa: BLE001 - a record half written when its worker died: remove the key
                job.connection.delete(job.key)
            dropped += 1
    return dropped


def enqueue_first_account(settings: Settings, review: dict[str, Any], connection: Redis | None = None) -> None:
    """The review's first account (its single account, or the organization's management account)
    and, for a single account, the finish. Deterministic ids: safe to call again."""
    from finops.aws.arn import parse_role_arn

    organization = review["scope"] == "organization"
    store = enqueue_review_account(settings, review, account_id=parse_role_arn(review["role_arn"]).account_id,
                                   name="", kind="management" if organization else "single",
                                   role_arn=review["role_arn"], connection=connection)
    if not organization:  # an organization's finish waits for its members: the management scan queues it
        enqueue_finish(settings, review["id"], review["attempt"], [store], connection)


def enqueue_review_account(settings: Settings, review: dict[str, Any], *, account_id: str, name: str, kind: str,
                           role_arn: str, connection: Redis | None = None) -> Job:
    """``enqueue_account`` for one account of this attempt of ``review`` (its External ID and
    threshold overrides go with the scan order); returns the store job."""
    import json

    spec = {"review_id": review["id"], "attempt": review["attempt"], "account_id": account_id, "name": name,
            "kind": kind, "role_arn": role_arn}
    return enqueue_account(settings, spec, external_id=review["external_id"],
                           thresholds=json.loads(review["thresholds"] or "{}"), connection=connection)


def liveness(settings: Settings, *, running_counts: bool = True) -> Any:
    """``review_jobs_alive`` for these settings, as ``reviews.reap_if_stale`` and
    ``reviews.interrupt_running`` take it."""
    return lambda review: review_jobs_alive(settings, review, running_counts=running_counts)


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
