"""The scan job: one account, on any host with Redis and the scanner's AWS identity. No SQLite.

The job assumes the account's role with the review's External ID (after its own safety probe),
scans it, and leaves the result in Redis for the store job (``finops.pipeline``): read, or the
sentence saying why the account could not be read. Steps and progress go to Redis too, and a
progress job is queued for the store worker when none is waiting, at most every
``PROGRESS_COALESCE`` seconds.

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


def scan_account(spec: dict[str, Any]) -> dict[str, Any]:
    job = get_current_job()
    assert job is not None, "a scan job runs in an RQ worker"
    connection = job.connection
    settings = Settings.from_env()
    review_id, attempt, account_id, kind = spec["review_id"], spec["attempt"], spec["account_id"], spec["kind"]
    prefix = {SINGLE: "", MANAGEMENT: "[management] "}.get(kind, f"[{account_id}] ")
    nudge = _nudger(connection, settings, review_id, attempt)

    def on_step(message: str) -> None:
        _best_effort(review_id, pipeline.push_step, connection, review_id, attempt, prefix + message)
        nudge()

    def on_progress(percent: int) -> None:
        _best_effort(review_id, pipeline.set_progress, connection, review_id, attempt, account_id, percent)
        nudge()

    stop = threading.Event()
    beat = threading.Thread(target=_beat, args=(nudge, stop), daemon=True, name="scan-beat")
    beat.start()
    started = time.monotonic()
    outcome: dict[str, Any] = {"read": False, "code": "", "message": "", "attempts": _attempt_number(job)}
    payload: dict[str, Any] = {}
    try:
        result = _scan(spec, settings, connection, on_step, on_progress, payload)
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
    pipeline.put(connection, pipeline.result_key(review_id, attempt, account_id), data)
    pipeline.set_progress(connection, review_id, attempt, account_id, 100)
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


def _best_effort(review_id: str, write: Any, *args: Any) -> None:
    """A progress write a Redis down for a moment skips (logged) instead of failing the scan."""
    try:
        write(*args)
    except Exception as error:  # noqa: BLE001 - progress, not the result
        log.warning("review=%s state=progress-not-saved error=%s", review_id[:6], type(error).__name__)


def _attempt_number(job: Any) -> int:
    """1 for the first run of this job, 2 after RQ ran it again (its worker was lost), ..."""
    retries = getattr(job, "retries_left", None)
    total = (job.meta or {}).get("retries")
    return 1 + (total - retries) if isinstance(total, int) and isinstance(retries, int) else 1


def _nudger(connection: Any, settings: Settings, review_id: str, attempt: int) -> Any:
    from finops.queue import enqueue_progress

    def nudge() -> None:
        try:
            if pipeline.progress_wanted(connection, review_id, attempt):
                enqueue_progress(settings, review_id, attempt, connection)
        except Exception as error:  # noqa: BLE001 - progress is best effort; the result is what counts
            log.warning("review=%s state=progress-not-queued error=%s", review_id[:6], type(error).__name__)

    return nudge


def _beat(nudge: Any, stop: threading.Event) -> None:
    """A progress job every few seconds even when no step is written: it keeps the review's
    heartbeat fresh in SQLite while a long read runs."""
    while not stop.wait(BEAT_SECONDS):
        nudge()
