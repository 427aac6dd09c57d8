"""The scan job: one account, on any host with Redis and the scanner's AWS identity. No SQLite.

The job assumes the account's role with the review's External ID (after its own safety probe),
scans it, and leaves the result in Redis for the store job (``finops.pipeline``): read, or the
sentence saying why the account could not be read. Steps and progress go to Redis too, in one
round trip at most every ``FLUSH_SECONDS``, and a progress job is queued for the store worker
when none is waiting, at most every ``PROGRESS_COALESCE`` seconds.

An account that cannot be read is an outcome, not a job failure: only a lost worker (killed,
out of memory, stopped past its grace) fails the job, and RQ then runs it again (``Retry``),
that account only. The management account of an organization review also lists the accounts
and leaves the cost data its members' checks need.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from rq import get_current_job

from finops import pipeline, wire
from finops.config import Settings
from finops.errors import FinopsError, ReadOnlyViolation
from finops.models import ScanResult

log = logging.getLogger(__name__)

SINGLE, MANAGEMENT, MEMBER = "single", "management", "member"
BEAT_SECONDS = 3
FLUSH_SECONDS = 0.5  # steps and progress reach Redis at most this often (and at the end of the scan)


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
    from finops.scan import SharedCosts, run_scan

    shared = None
    if spec["kind"] == MEMBER:
        data = pipeline.get(connection, pipeline.shared_key(spec["review_id"], spec["attempt"]))
        if data is None:
            raise FinopsError("shared cost data expired", customer_message=(
                "The organization's cost data was no longer available when this account's turn came "
                "(it is kept for a day). Run the review again."))
        shared = wire.load(SharedCosts, data)
    result = run_scan(
        spec["role_arn"], spec["external_id"], settings, threshold_overrides=spec.get("thresholds") or {},
        shared_costs=shared, on_step=on_step, on_progress=on_progress,
    )
    if spec["kind"] == MANAGEMENT:
        from finops.organization import organization_accounts

        organization_id, accounts = organization_accounts(result)  # not the management account: raises
        payload["organization_id"] = organization_id
        payload["accounts"] = accounts
        pipeline.put(connection, pipeline.shared_key(spec["review_id"], spec["attempt"]),
                     wire.dump(SharedCosts.of(result)))
    return result


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
