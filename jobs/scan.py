"""The scan job: one account, on any host with Redis and the scanner's AWS identity. No SQLite.

The job assumes the account's role with the review's External ID (after its own safety probe),
scans it, and leaves the result in Redis for the store job (``finops.pipeline``): read, or the
sentence saying why the account could not be read. Steps and progress go to Redis too, in one
round trip at most every ``FLUSH_SECONDS``, and a progress job is queued for the store worker
when none is waiting, at most every ``PROGRESS_COALESCE`` seconds.

An account that cannot be read is an outcome, not a job failure: only a lost worker (killed,
out of memory, stopped past its grace) fails the job, and RQ then runs it again (``Retry``),
that account only.

The management account of an organization review also lists the accounts and, as soon as it has,
queues every member's scan (``finops.queue.enqueue_members``, on a thread of its own while its
scan goes on); at its end it leaves the cost data its members' checks need (``pipeline.shared_key``).
A member's scan reads its inventory meanwhile and waits for that data on its cost thread
(``_SharedCosts``): it stops with a sentence when the management account could not be read, and
gives its worker back (RQ runs it again later) when the management account's scan went back to
the queue, so that scan never waits for a worker its own members hold.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from rq import get_current_job
from rq.job import Job, JobStatus

from finops import pipeline, wire
from finops.config import Settings
from finops.errors import FinopsError, ManagementUnavailable, ReadOnlyViolation
from finops.models import Coverage, InventoryItem, ScanResult

log = logging.getLogger(__name__)

SINGLE, MANAGEMENT, MEMBER = "single", "management", "member"
BEAT_SECONDS = 3
FLUSH_SECONDS = 0.5  # steps and progress reach Redis at most this often (and at the end of the scan)
SHARED_POLL_SECONDS = 0.05  # a member waiting for the organization's cost data looks this often...
LEASE_CHECK_SECONDS = 2  # ...whether the management account's worker is gone this often...
YIELD_AFTER_SECONDS = 2  # ...and gives its worker back once that scan has waited in the queue this long


ENDED_WITHOUT_DATA = (
    "This account was not checked: its savings checks need the organization's cost data, which the management "
    "account's scan reads, and that data was not there when this account's turn came (that scan failed, or ended "
    "more than a day before: the data is kept a day). Run the review again."
)


class ManagementRequeued(Exception):  # noqa: N818 - a signal to RQ, not an error of the account
    """Not an outcome: the management account's scan is back in the queue while this member's scan
    waits for its cost data. The job fails, RQ runs it again later (``Retry``), and this worker is
    free to take the management account's scan, which went to the front of the queue."""


def scan_account(spec: dict[str, Any]) -> dict[str, Any]:
    job = get_current_job()
    assert job is not None, "a scan job runs in an RQ worker"
    connection = job.connection
    settings = Settings.from_env()
    review_id, attempt, account_id, kind = spec["review_id"], spec["attempt"], spec["account_id"], spec["kind"]
    prefix = {SINGLE: "", MANAGEMENT: "[management] "}.get(kind, f"[{account_id}] ")
    reporter = _Reporter(connection, settings, review_id, attempt, account_id, prefix)
    stop = threading.Event()
    beat = threading.Thread(target=_beat, args=(reporter, stop), daemon=True, name="scan-beat")
    beat.start()
    started = time.monotonic()
    outcome: dict[str, Any] = {"read": False, "code": "", "message": "", "attempts": _attempt_number(job)}
    payload: dict[str, Any] = {}
    try:
        result = _scan(spec, settings, connection, reporter.step, reporter.progress, payload)
        outcome["read"] = True
    except ManagementRequeued:
        log.warning("review=%s account=%s state=yielded reason=management-scan-requeued", review_id[:6], account_id)
        raise
    except ReadOnlyViolation as error:  # a bug of ours, never one account's gap: the store fails the review
        log.error("review=%s account=%s state=stopped code=%s", review_id[:6], account_id, error.code)
        outcome.update(code=error.code, message=error.customer_message, fatal=True)
        result = None
    except FinopsError as error:
        log.info("review=%s account=%s state=not-read code=%s", review_id[:6], account_id, error.code)
        outcome.update(code=error.code, message=error.customer_message)
        result = None
    except Exception as error:  # this account's failure; the other accounts go on
        log.exception("review=%s account=%s state=failed error=%s", review_id[:6], account_id, type(error).__name__)
        outcome.update(code=FinopsError.code, message=FinopsError.customer_message, internal=type(error).__name__)
        result = None
    finally:
        stop.set()
    outcome["seconds"] = round(time.monotonic() - started, 3)
    data = wire.dump({"outcome": outcome, "result": result, **payload})
    reporter.progress(100)
    reporter.flush()  # every step is in Redis before the result, which the store job reads after them
    pipeline.put(connection, pipeline.result_key(review_id, attempt, account_id), data)
    return {"account_id": account_id, "read": outcome["read"], "bytes": len(data), "seconds": outcome["seconds"]}


def _scan(spec: dict[str, Any], settings: Settings, connection: Any, on_step: Any, on_progress: Any,
          payload: dict[str, Any]) -> ScanResult:
    from finops.organization import organization_accounts
    from finops.scan import SharedCosts, run_scan

    kind, shared, fan_out = spec["kind"], None, None
    if kind == MEMBER:
        shared = _SharedCosts(connection, settings, spec)
        shared.check()  # the management account already failed: not one call to this account
    elif kind == MANAGEMENT:
        fan_out = _FanOut(settings, connection, spec)
    try:
        result = run_scan(
            spec["role_arn"], spec["external_id"], settings, threshold_overrides=spec.get("thresholds") or {},
            shared_costs=shared, on_step=on_step, on_progress=on_progress,
            on_read=fan_out.on_read if fan_out else None, on_partial=fan_out.on_partial if fan_out else None,
        )
        if fan_out is None:
            return result
        organization_id, accounts = organization_accounts(result)  # not the management account: raises
        payload["organization_id"] = organization_id
        payload["accounts"] = accounts
        pipeline.put(connection, pipeline.shared_key(spec["review_id"], spec["attempt"]),
                     wire.dump(SharedCosts.of(result)))
        fan_out.done(organization_id, accounts)
        return result
    finally:
        if fan_out is not None:
            fan_out.join()


class _FanOut:
    """The management account's scan queues its members as its ``account.organization`` read lists
    them, on a thread of its own (50 accounts are some 200 Redis round trips), instead of after its
    whole scan: Cost Explorer's paid requests go one after the other and are the longest part of
    that scan, and a member's scan needs their answers only for its checks.

    Page by page (``on_partial``): each ListAccounts page's members get their scans at once
    (``enqueue_member_scans``: scans only, no database). Once the list is complete (``on_read``),
    ``enqueue_members`` queues the rest: the rows, every member's store, the finish. A list that
    fails on a later page leaves the early scans to the management account's store job
    (``finops.queue.resume_members``): they stop without calling AWS, and each is named."""

    def __init__(self, settings: Settings, connection: Any, spec: dict[str, Any]):
        self._settings, self._connection, self._spec = settings, connection, spec
        self._lock = threading.Lock()
        self._batches: queue.SimpleQueue[tuple[str, str, list[Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._complete = False  # the whole list is handed over: nothing more to queue
        self._error: Exception | None = None

    def on_partial(self, source: str, items: list[InventoryItem]) -> None:
        from finops.organization import ORGANIZATION_SOURCE, OrganizationUnavailable, listed_accounts

        if source != ORGANIZATION_SOURCE:
            return
        try:
            organization_id, accounts = listed_accounts(self._spec["account_id"], None, items)
        except OrganizationUnavailable:
            return
        self._hand_over(("some", organization_id, accounts))

    def on_read(self, record: Coverage, items: list[InventoryItem]) -> None:
        from finops.organization import ORGANIZATION_SOURCE, OrganizationUnavailable, listed_accounts

        if record.source != ORGANIZATION_SOURCE:
            return
        try:
            organization_id, accounts = listed_accounts(self._spec["account_id"], record, items)
        except OrganizationUnavailable:
            return  # the scan ends with that sentence (``organization_accounts``)
        self._hand_over(("all", organization_id, accounts))

    def _hand_over(self, batch: tuple[str, str, list[Any]]) -> None:
        with self._lock:
            if self._complete:
                return
            self._complete = batch[0] == "all"
            self._batches.put(batch)
            if self._thread is None:
                self._thread = threading.Thread(target=self._queue, daemon=True, name="fan-out")
                self._thread.start()

    def _queue(self) -> None:
        from finops.queue import enqueue_member_scans, enqueue_members

        review = self._spec["review_id"][:6]
        queued: set[str] = set()
        while (batch := self._batches.get()) is not None:
            kind, organization_id, accounts = batch
            try:
                if kind == "all":
                    count = enqueue_members(self._settings, self._spec, organization_id, accounts, self._connection)
                    log.info("review=%s state=members-queued count=%d", review, count)
                    return
                new = [a for a in accounts if a.account_id not in queued]
                count = enqueue_member_scans(self._settings, self._spec, organization_id, new, self._connection)
                queued.update(a.account_id for a in new)
                log.info("review=%s state=member-scans-queued count=%d listed=%d", review, count, len(accounts))
            except Exception as error:  # noqa: BLE001 - queued again at the end of the scan (``done``)
                log.warning("review=%s state=members-not-queued error=%s", review, type(error).__name__)
                if kind == "all":
                    self._error = error
                    return

    def join(self) -> None:
        with self._lock:
            self._complete = True
            thread = self._thread
            self._batches.put(None)  # the end, after whatever was handed over
        if thread is not None:
            thread.join()

    def done(self, organization_id: str, accounts: list[Any]) -> None:
        """At the end of the scan (whose listing ``on_read`` saw): the members are queued, or this
        raises (the job's outcome)."""
        self.join()
        if self._error is not None or self._thread is None:
            from finops.queue import enqueue_members

            enqueue_members(self._settings, self._spec, organization_id, accounts, self._connection)


class _SharedCosts:
    """A member's wait for the organization's cost data, called on its scan's cost thread."""

    def __init__(self, connection: Any, settings: Settings, spec: dict[str, Any]):
        from finops.queue import scan_job_id, scan_queue

        review_id, attempt = spec["review_id"], spec["attempt"]
        self._connection = connection
        self._keys = (pipeline.shared_key(review_id, attempt), pipeline.failed_key(review_id, attempt))
        self._management_job = scan_job_id(review_id, attempt, spec["management"])
        self._registry = scan_queue(settings, connection).started_job_registry
        self._deadline = time.monotonic() + settings.scan_timeout * 0.9  # before RQ's own timeout stops the job

    def check(self) -> None:
        """Before the scan: raise (and call no AWS) when the management account's scan has already
        failed or ended without its data."""
        self._look(load=False)

    def _look(self, load: bool = True) -> tuple[Any, str | None]:
        """(the cost data, or None while it is not there, and the management scan job's status), or
        raises why there will be none. ``load=False``: True instead of the data."""
        from finops.scan import SharedCosts

        with self._connection.pipeline() as pipe:  # MULTI: the data is written before the job ends
            (pipe.get if load else pipe.exists)(self._keys[0])
            pipe.exists(self._keys[1])
            pipe.hget(Job.key_for(self._management_job), "status")
            data, failed, status = pipe.execute()
        if data:
            return (wire.load(SharedCosts, data) if load else True), None
        status = status.decode() if status else None
        if failed or status == JobStatus.FAILED:  # its store job recorded why the review fails, or will
            raise ManagementUnavailable(f"the management account's scan failed ({status})")
        if status not in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED):
            raise ManagementUnavailable(f"management scan {status or 'gone'} without the cost data",
                                        customer_message=ENDED_WITHOUT_DATA)
        return None, status

    def __call__(self) -> Any:
        queued_since: float | None = None
        lease_checked = time.monotonic()
        while True:
            shared, status = self._look()
            if shared is not None:
                return shared
            now = time.monotonic()
            if status == JobStatus.STARTED:
                queued_since = None
                if now - lease_checked >= LEASE_CHECK_SECONDS:
                    lease_checked = now
                    if self._management_job in self._registry.get_expired_job_ids():
                        # Its worker is gone: what RQ's maintenance would do between two jobs of a
                        # free worker (a worker waiting here is not free): run that scan again.
                        log.warning("job=%s state=abandoned seen-by=member", self._management_job[:24])
                        self._registry.cleanup()
            else:
                queued_since = queued_since or now
                if now - queued_since >= YIELD_AFTER_SECONDS:
                    raise ManagementRequeued(self._management_job)
            if now > self._deadline:
                raise ManagementUnavailable(f"management scan still {status} after the member's time")
            time.sleep(SHARED_POLL_SECONDS)


def _attempt_number(job: Any) -> int:
    """1 for the first run of this job, 2 after RQ ran it again (its worker was lost), ..."""
    retries = getattr(job, "retries_left", None)
    total = (job.meta or {}).get("retries")
    return 1 + (total - retries) if isinstance(total, int) and isinstance(retries, int) else 1


class _Reporter:
    """One scan's steps and progress, written to Redis in one round trip at most every
    ``FLUSH_SECONDS`` (the first at once, the rest by ``flush``), each write followed by a
    progress job for the store worker when none is waiting (``pipeline.progress_wanted``). A scan
    reports a step or a percentage about 70 times; a round trip and a nudge for each cost its
    thread more time than the reads they describe. A Redis down for a moment skips a write (logged)
    instead of failing the scan: progress, not the result."""

    def __init__(self, connection: Any, settings: Settings, review_id: str, attempt: int, account_id: str,
                 prefix: str):
        self._connection, self._settings = connection, settings
        self._review_id, self._attempt, self._account_id, self._prefix = review_id, attempt, account_id, prefix
        self._lock = threading.Lock()
        self._steps: list[dict[str, Any]] = []
        self._percent: int | None = None
        self._flushed = float("-inf")

    def step(self, message: str) -> None:
        with self._lock:
            self._steps.append(pipeline.step(self._prefix + message))
            self._flush_if_due()

    def progress(self, percent: int) -> None:
        with self._lock:
            self._percent = percent
            self._flush_if_due()

    def flush(self) -> None:
        """Write what is waiting, and nudge even when nothing is: the beat keeps the review's
        heartbeat fresh in SQLite while a long read runs."""
        with self._lock:
            self._flush()

    def _flush_if_due(self) -> None:
        if time.monotonic() - self._flushed >= FLUSH_SECONDS:
            self._flush()

    def _flush(self) -> None:
        from finops.queue import enqueue_progress

        steps, percent = self._steps, self._percent
        self._steps, self._percent, self._flushed = [], None, time.monotonic()
        review, attempt = self._review_id, self._attempt
        try:
            pipeline.report(self._connection, review, attempt, self._account_id, steps, percent)
        except Exception as error:  # noqa: BLE001 - progress, not the result
            log.warning("review=%s state=progress-not-saved error=%s", review[:6], type(error).__name__)
        try:
            if pipeline.progress_wanted(self._connection, review, attempt):
                enqueue_progress(self._settings, review, attempt, self._connection)
        except Exception as error:  # noqa: BLE001 - progress is best effort; the result is what counts
            log.warning("review=%s state=progress-not-queued error=%s", review[:6], type(error).__name__)


def _beat(reporter: _Reporter, stop: threading.Event) -> None:
    """Steps and a progress job every few seconds even when the scan writes none: it keeps the
    review's heartbeat fresh in SQLite while a long read runs."""
    while not stop.wait(BEAT_SECONDS):
        reporter.flush()
