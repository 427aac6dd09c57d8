"""Store jobs: the only jobs that write SQLite, run by the worker where the database is.

``store_account_job`` writes one account's result (or why it has none) when its scan job has
ended, however it ended (an RQ dependency that allows failure). ``register_accounts_job`` writes
an organization's member accounts as its management account's scan listed them, before their
scans end. ``finish_review_job`` runs after every store job of the review and finishes it.
``store_progress`` moves the steps and progress scan jobs leave in Redis into SQLite, and keeps
the review's heartbeat.

Every store job is safe to run twice (a store worker killed mid-job is run again by RQ): the
account's rows are replaced, member jobs have deterministic ids, and a result leaves Redis only
once it is stored.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from typing import Any

from rq import get_current_job

from finops import pipeline, reviews, wire
from finops.aws.arn import parse_role_arn
from finops.config import Settings
from finops.db import connect, iso
from finops.errors import AssumeRoleDenied, FinopsError, StorageError, WorkerLost
from finops.models import FAILED, SKIPPED, ScanResult
from finops.organization import (
    ACTIVE,
    AccountScan,
    OrgAccount,
    member_role_arn,
    not_active_sentence,
    refusal_sentence,
    summarize,
)
from jobs.scan import MANAGEMENT, MEMBER

log = logging.getLogger(__name__)

SCANNING = "scanning"  # an account's row while its scan job runs (or its result waits to be stored)


def store_progress(review_id: str, attempt: int) -> str:
    connection = _connection()
    pipeline.progress_started(connection, review_id, attempt)
    db = connect(Settings.from_env().db_path)
    if not reviews.is_running(db, review_id, attempt):
        return "skipped"
    _write_steps(db, review_id, pipeline.take_steps(connection, review_id, attempt))
    reviews.heartbeat(db, review_id, overall_progress(db, review_id, pipeline.progress(connection, review_id, attempt)))
    return "ok"


def overall_progress(db: Any, review_id: str, by_account: dict[str, int]) -> int:
    """One percentage for the progress bar: the account's own for a single account; for an
    organization, 30 % for the management account's scan and 69 % for the members' average (they
    are listed, and start, while the management account's scan still reads its cost data)."""
    review = reviews.get_review(db, review_id)
    if review["scope"] != "organization":
        return min(max(by_account.values(), default=1), 99)
    management = parse_role_arn(review["role_arn"]).account_id
    members = [row["account_id"] for row in reviews.account_rows(db, review_id)
               if not row["management"] and row["status"] != SKIPPED]
    done = sum(by_account.get(account, 0) for account in members) / len(members) if members else 0
    return min(int(30 * by_account.get(management, 0) / 100 + 69 * done / 100), 99)


def store_account_job(spec: dict[str, Any]) -> str:
    settings = Settings.from_env()
    connection = _connection()
    db = connect(settings.db_path, busy_timeout=settings.db_busy_timeout)
    review_id, attempt, account_id, kind = spec["review_id"], spec["attempt"], spec["account_id"], spec["kind"]
    key = pipeline.result_key(review_id, attempt, account_id)
    if not reviews.is_running(db, review_id, attempt):
        connection.delete(key)
        return "skipped"
    _write_steps(db, review_id, pipeline.take_steps(connection, review_id, attempt))
    data = pipeline.get(connection, key)
    stored = wire.load(dict, data) if data is not None else None  # type: ignore[type-abstract]
    outcome = (stored or {}).get("outcome") or {}
    result = wire.decode(ScanResult, stored["result"]) if stored and stored.get("result") else None
    listed = [wire.decode(OrgAccount, a) for a in (stored or {}).get("accounts") or []]
    name = spec.get("name") or next((a.name for a in listed if a.account_id == account_id), "")
    account = OrgAccount(account_id, name, ACTIVE)
    reason = _reason(kind, account, spec["role_arn"], outcome, lost=stored is None)
    scan = AccountScan(account, spec["role_arn"], management=kind != MEMBER, result=result,
                       status="" if result else FAILED, reason=reason)
    row = reviews.account_row(
        summarize(scan), spec["role_arn"], error_code=outcome.get("code") or ("" if result else WorkerLost.code),
        scan_seconds=outcome.get("seconds"), attempts=outcome.get("attempts"),
    )
    try:
        stored_now = reviews.store_account(db, review_id, attempt, row, result, with_costs=kind != MEMBER)
    except StorageError as error:
        return _storage_refused(db, review_id, attempt, error)  # or raises: RQ tries again
    if not stored_now:
        connection.delete(key)
        return "skipped"
    log.info("review=%s account=%s state=stored read=%s", review_id[:6], account_id, result is not None)
    if result is None and reason:
        reviews.add_step(db, review_id, reason, "error" if kind != MEMBER else "warning")
    if kind == MANAGEMENT and result is None:
        _management_not_read(settings, connection, review_id, attempt)
    connection.delete(key)
    return "stored" if result is not None else "not-read"


def _reason(kind: str, account: OrgAccount, role_arn: str, outcome: dict[str, Any], lost: bool) -> str:
    if outcome.get("read"):
        return ""
    if kind == MEMBER:
        if lost:
            return (f"{account.label()}: the scan of this account was lost (its scan worker stopped each time it "
                    "was tried); the other accounts were scanned. Run the review again.")
        kind_of_error = AssumeRoleDenied if outcome.get("code") == AssumeRoleDenied.code else FinopsError
        return refusal_sentence(account, role_arn, kind_of_error(customer_message=outcome.get("message") or None))
    return WorkerLost.customer_message if lost else (outcome.get("message") or WorkerLost.customer_message)


def _management_not_read(settings: Settings, connection: Any, review_id: str, attempt: int) -> None:
    """No account list, or no cost data: member scans still to start, or waiting for that data, stop
    at once (``jobs.scan``), and the finish fails the review with the management account's sentence
    (the finish its scan queued with the members, after their stores; the rest of that queuing,
    if its worker died in the middle of it; or a finish of its own if it queued no member)."""
    from finops.queue import enqueue_finish, resume_members

    pipeline.put(connection, pipeline.failed_key(review_id, attempt), b"1")
    if not resume_members(settings, review_id, attempt, connection):
        enqueue_finish(settings, review_id, attempt, [], connection)


def register_accounts_job(spec: dict[str, Any], organization_id: str, accounts: list[Any]) -> str:
    """The organization's member accounts as its management account's scan listed them: a row for
    each (``scanning``, or ``skipped`` with the sentence when not active), while their scans run."""
    settings = Settings.from_env()
    db = connect(settings.db_path, busy_timeout=settings.db_busy_timeout)
    review_id, attempt = spec["review_id"], spec["attempt"]
    listed = [wire.decode(OrgAccount, a) for a in accounts]
    members = [a for a in listed if a.account_id != spec["account_id"]]
    active = [a for a in members if a.state == ACTIVE]
    rows = []
    for account in members:
        if account.state != ACTIVE:
            rows.append(reviews.account_row(summarize(AccountScan(
                account, "", status=SKIPPED, reason=not_active_sentence(account))), ""))
        else:
            rows.append({"account_id": account.account_id, "name": account.name, "state": account.state,
                         "management": 0, "role_arn": member_role_arn(spec["role_arn"], account.account_id),
                         "status": SCANNING, "reason": ""})
    me = next((a for a in listed if a.account_id == spec["account_id"]), OrgAccount(spec["account_id"], "", ACTIVE))
    management = {"account_id": me.account_id, "name": me.name, "state": me.state or ACTIVE, "management": 1,
                  "role_arn": spec["role_arn"], "status": SCANNING, "reason": ""}
    if not reviews.register_accounts(db, review_id, attempt, organization_id, rows, management):
        return "skipped"
    reviews.add_step(db, review_id, (
        f"Organization {organization_id}: {len(listed)} accounts, {len(active)} active member accounts to scan"
        + (f", {len(members) - len(active)} not active (not scanned)" if len(members) > len(active) else "")))
    return "registered"


def _storage_refused(db: Any, review_id: str, attempt: int, error: StorageError) -> str:
    """SQLite refused the write (busy past its timeout, disk full): RQ runs the job again while it
    has tries left (the result waits in Redis); after the last one the review fails with the
    error's sentence, if even that can be written."""
    job = get_current_job()
    if job is not None and job.retries_left:
        log.warning("review=%s state=store-retry code=%s tries-left=%s", review_id[:6], error.code, job.retries_left)
        raise error
    from jobs.review import fail_or_log

    log.error("review=%s state=failed code=%s", review_id[:6], error.code)
    fail_or_log(db, review_id, error, attempt=attempt)
    return "failed"


def finish_review_job(review_id: str, attempt: int) -> str:
    from jobs.review import send_report_email

    settings = Settings.from_env()
    connection = _connection()
    db = connect(settings.db_path, busy_timeout=settings.db_busy_timeout)
    if reviews.is_running(db, review_id, attempt):
        _write_steps(db, review_id, pipeline.take_steps(connection, review_id, attempt))
    try:
        status = reviews.finish_review(db, review_id, attempt, retention_days=settings.retention_days)
    except StorageError as error:
        return _storage_refused(db, review_id, attempt, error)
    pipeline.forget(connection, review_id, attempt)
    log.info("review=%s attempt=%s state=%s", review_id[:6], attempt, status or "skipped")
    if status and status != FAILED:
        send_report_email(settings, db, review_id)
    return status or "skipped"


def _write_steps(db: Any, review_id: str, steps: list[dict[str, Any]]) -> None:
    """Best effort: a database too busy or full for the step log loses those lines, never the scan."""
    if not steps:
        return
    try:
        db["review_steps"].insert_all(
            {"review_id": review_id, "at": iso(datetime.fromtimestamp(step["at"], UTC)), "level": step["level"],
             "message": step["message"]}
            for step in steps
        )
    except sqlite3.Error as error:
        log.warning("review=%s state=steps-not-saved count=%d error=%s", review_id[:6], len(steps), error)


def _connection() -> Any:
    job = get_current_job()
    assert job is not None, "a store job runs in an RQ worker"
    return job.connection

