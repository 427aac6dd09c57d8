"""Review lifecycle: creation, the connect form, status transitions, results, retention.

All state lives in SQLite. Transitions are conditional UPDATEs, so a double submit, a second
worker or a late heartbeat cannot move a review backwards.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlite_utils

from finops import links
from finops.aws.arn import new_external_id, parse_role_arn
from finops.config import Settings
from finops.cost import CE_REQUEST_PRICE
from finops.db import COST_TABLES, REVIEW_CHILD_TABLES, REVIEW_RESULT_TABLES, atomic, iso, parse_iso, utcnow
from finops.errors import (
    ExternalIdMismatch,
    FinopsError,
    ManagementUnavailable,
    QueueUnavailable,
    ReadOnlyViolation,
    ReviewDeleted,
    ReviewExpired,
    ReviewNotFound,
    ReviewStateError,
    StorageError,
    WorkerLost,
)
from finops.models import (
    ACTIVE_STATUSES,
    CHECK_SOURCE_PREFIX,
    COMPLETE,
    DRAFT,
    FAILED,
    PARTIAL,
    QUEUED,
    RUNNING,
    Finding,
    ScanResult,
)
from finops.money import to_micros
from finops.validation import check_contact

log = logging.getLogger(__name__)

SUBMITTABLE = (DRAFT, FAILED)


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    company: str


def create_review(
    db: sqlite_utils.Database, settings: Settings, now: datetime | None = None, *,
    contact: Contact | None = None, operator_id: int | None = None, note: str | None = None,
) -> dict:
    """A new review (draft). Its two links are derived on demand (``finops.links``); only their hashes are stored."""
    now = now or utcnow()
    review_id = secrets.token_urlsafe(16)  # not a capability: operators' pages need sign-in
    row = {
        "id": review_id,
        "external_id": new_external_id(),
        "status": DRAFT,
        "progress": 0,
        "attempt": 0,
        "created_at": iso(now),
        "expires_at": iso(now + timedelta(days=settings.retention_days)),
        "operator_id": operator_id,
        "operator_note": note or None,
        **links.new_columns(settings, review_id),
    }
    if contact is not None:
        row.update(contact_name=contact.name or None, contact_email=contact.email or None,
                   contact_company=contact.company or None, invited_at=iso(now))
    db["reviews"].insert(row)
    return get_review(db, review_id)


def create_invitation(
    db: sqlite_utils.Database, settings: Settings, *, company: str, email: str, name: str = "",
    note: str | None = None, operator_id: int | None = None,
) -> tuple[dict, str]:
    """A review prepared for one customer, and its invitation URL (the wizard's capability link).

    The contact details are checked as the web form checks them (InvalidInput with a sentence):
    the CLI and other callers get the same protection.
    """
    check_contact(name=name.strip(), email=email.strip(), company=company.strip())
    review = create_review(db, settings, contact=Contact(name.strip(), email.strip(), company.strip()),
                           operator_id=operator_id, note=(note or "").strip() or None)
    url = links.invitation_url(settings, review)
    assert url is not None
    return review, url


def get_review(db: sqlite_utils.Database, review_id: str) -> dict:
    rows = list(db.query("select * from reviews where id = ?", [review_id]))
    if not rows:
        raise ReviewNotFound(review_id)
    return rows[0]


def live_review(db: sqlite_utils.Database, review_id: str, now: datetime | None = None) -> dict:
    """A review that has not expired: an expired one is gone for every purpose, purged or not."""
    return ensure_live(get_review(db, review_id), now)


def ensure_live(review: dict, now: datetime | None = None) -> dict:
    if is_expired(review, now):
        raise ReviewExpired(f"review {review['id'][:6]} expired at {review['expires_at']}")
    return review


def _by_link(db: sqlite_utils.Database, column: str, token: str, now: datetime | None) -> dict:
    if not links.TOKEN_RE.match(token or ""):
        raise ReviewNotFound("malformed link")
    digest = links.token_hash(token)
    rows = list(db.query(f"select * from reviews where {column} = ?", [digest]))  # noqa: S608 - fixed names
    if rows:
        return ensure_live(rows[0], now)
    gone = list(db.query(f"select deleted_by from deletions where {column} = ? limit 1", [digest]))  # noqa: S608
    if gone:
        if gone[0]["deleted_by"] == RETENTION:
            raise ReviewExpired("purged after its retention date")
        raise ReviewDeleted("deleted")
    raise ReviewNotFound("no such link")


def get_by_token(db: sqlite_utils.Database, token: str, now: datetime | None = None) -> dict:
    """The review a report link opens (the report and nothing else)."""
    return _by_link(db, "report_token_hash", token, now)


def get_by_invitation(db: sqlite_utils.Database, token: str, now: datetime | None = None) -> dict:
    """The review an invitation link opens (its wizard)."""
    return _by_link(db, "invitation_hash", token, now)


def is_expired(review: dict, now: datetime | None = None) -> bool:
    expires = parse_iso(review["expires_at"])
    return bool(expires and (now or utcnow()) >= expires)


def steps(db: sqlite_utils.Database, review_id: str) -> list[dict]:
    return list(db.query("select at, level, message from review_steps where review_id = ? order by id", [review_id]))


def add_step(db: sqlite_utils.Database, review_id: str, message: str, level: str = "info") -> None:
    db["review_steps"].insert({"review_id": review_id, "at": iso(utcnow()), "level": level, "message": message})


def submit(
    db: sqlite_utils.Database,
    review_id: str,
    *,
    role_arn: str,
    external_id: str,
    contact: Contact,
    enqueue: Callable[[str, int], None],
) -> dict:
    """Validate the connect form, save it, and queue exactly one scan.

    Raises a FinopsError with a customer sentence on bad input; nothing typed is lost because
    the caller re-renders the form with the submitted values.
    """
    review = live_review(db, review_id)
    if review["status"] in ACTIVE_STATUSES:
        return review  # a double submit: the scan is already queued or running
    if review["status"] not in SUBMITTABLE:
        raise ReviewStateError(
            f"status {review['status']}",
            customer_message="This review has already finished. Open its report, or start a new review.",
        )
    role = parse_role_arn(role_arn)
    check_contact(name=contact.name, email=contact.email, company=contact.company)
    if external_id.strip() != review["external_id"]:
        raise ExternalIdMismatch("submitted External ID differs from the review's")
    attempt = review["attempt"] + 1
    with atomic(db):
        changed = db.execute(
            "update reviews set role_arn = ?, contact_name = ?, contact_email = ?, contact_company = ?, "  # noqa: S608
            "status = ?, attempt = ?, progress = 0, error_code = null, error_message = null, "
            "submitted_at = ?, started_at = null, heartbeat_at = null, finished_at = null "
            f"where id = ? and status in ({','.join('?' * len(SUBMITTABLE))})",
            [role.arn, contact.name, contact.email, contact.company, QUEUED, attempt, iso(utcnow()),
             review_id, *SUBMITTABLE],
        ).rowcount
        if changed:
            _clear_results(db, review_id)
            add_step(db, review_id, "Scan queued")
    if not changed:
        return get_review(db, review_id)  # lost a race with a concurrent submit: it queued the scan
    _enqueue_or_undo(db, review_id, attempt, review["status"], enqueue)
    return get_review(db, review_id)


def _enqueue_or_undo(db: sqlite_utils.Database, review_id: str, attempt: int, previous_status: str,
                     enqueue: Callable[[str, int], None]) -> None:
    try:
        enqueue(review_id, attempt)
    except Exception as error:
        log.warning("review=%s state=enqueue-failed error=%s: %s", review_id[:6], type(error).__name__, error)
        back = DRAFT if previous_status in SUBMITTABLE else previous_status
        with atomic(db):
            db.execute("update reviews set status = ?, attempt = ? where id = ?", [back, attempt - 1, review_id])
            add_step(db, review_id, QueueUnavailable.customer_message, "error")
        raise QueueUnavailable(f"enqueue failed: {type(error).__name__}") from None


RESCANNABLE = (COMPLETE, PARTIAL, FAILED)


def rescan(db: sqlite_utils.Database, review_id: str, *, enqueue: Callable[[str, int], None]) -> dict:
    """The operator scans a finished review again: a new attempt, the same role and External ID.

    The current report stays stored until the new results replace it.
    """
    review = live_review(db, review_id)
    if review["status"] in ACTIVE_STATUSES:
        return review
    if review["status"] not in RESCANNABLE or not review["role_arn"]:
        raise ReviewStateError(f"status {review['status']}", customer_message=(
            "This review has no connected role yet: the customer has to finish the wizard first."))
    attempt = review["attempt"] + 1
    with atomic(db):
        changed = db.execute(
            "update reviews set status = ?, attempt = ?, progress = 0, error_code = null, error_message = null, "  # noqa: S608
            "submitted_at = ?, started_at = null, heartbeat_at = null, finished_at = null "
            f"where id = ? and status in ({','.join('?' * len(RESCANNABLE))})",
            [QUEUED, attempt, iso(utcnow()), review_id, *RESCANNABLE],
        ).rowcount
        if changed:
            add_step(db, review_id, "Scan queued again by the operator (same role and External ID)")
    if changed:
        _enqueue_or_undo(db, review_id, attempt, review["status"], enqueue)
    return get_review(db, review_id)


def set_thresholds(db: sqlite_utils.Database, review_id: str, overrides: dict[str, Any]) -> dict:
    """Give one review its own thresholds (over the deployment's); used by its next scan."""
    from finops.checks.thresholds import Thresholds

    get_review(db, review_id)
    effective = Thresholds(overrides).overrides()  # validates: an unknown name or bad value raises
    db.execute("update reviews set thresholds = ? where id = ?", [json.dumps(effective) if effective else None,
                                                                   review_id])
    return get_review(db, review_id)


def start(db: sqlite_utils.Database, review_id: str) -> dict | None:
    """Claim a queued review for a worker; None if it is not queued (already run or cancelled)."""
    now = iso(utcnow())
    with atomic(db):
        changed = db.execute(
            "update reviews set status = ?, started_at = ?, heartbeat_at = ?, progress = 1 "
            "where id = ? and status = ? and expires_at > ?",  # an expired review is never scanned
            [RUNNING, now, now, review_id, QUEUED, now],
        ).rowcount
        if changed:
            add_step(db, review_id, "Scanner started")
    return get_review(db, review_id) if changed else None


def heartbeat(db: sqlite_utils.Database, review_id: str, progress: int | None = None) -> None:
    sql = "update reviews set heartbeat_at = ?"
    args: list[Any] = [iso(utcnow())]
    if progress is not None:
        sql += ", progress = max(progress, ?)"
        args.append(progress)
    db.execute(sql + " where id = ? and status = ?", [*args, review_id, RUNNING])


def store_result(
    db: sqlite_utils.Database, review_id: str, result: ScanResult, retention_days: int | None = None,
) -> str:
    """Write one account's scan and finish the review, in one transaction (``finops-pack scan``,
    and any caller that holds a whole single-account result).

    With ``retention_days``, the report is kept that many days from now (the report email says
    until when), never less than the review already had.
    """
    from finops.organization import AccountScan, OrgAccount, summarize

    review = get_review(db, review_id)
    scan = AccountScan(OrgAccount(result.account_id, "", "ACTIVE"), review["role_arn"] or "", management=True,
                       result=result)
    with atomic(db):
        _clear_results(db, review_id, keep_steps=True)
        _insert_account(db, review_id, account_row(summarize(scan), scan.role_arn), result, with_costs=True)
        status = _finish(db, review_id, retention_days)
    return status


def account_row(summary: Any, role_arn: str, **extra: Any) -> dict[str, Any]:
    """A ``review_accounts`` row from ``finops.organization.AccountSummary``."""
    return {
        "account_id": summary.account_id, "name": summary.name, "state": summary.state,
        "management": int(summary.management), "role_arn": role_arn, "status": summary.status,
        "reason": summary.reason, "monthly_savings_micros": to_micros(summary.monthly_savings),
        "commitment_monthly_savings_micros": to_micros(summary.commitment_monthly_savings),
        "findings": summary.findings, "reads": summary.reads, "reads_ok": summary.reads_ok,
        "finished_at": iso(utcnow()), **extra,
    }


def store_account(
    db: sqlite_utils.Database, review_id: str, attempt: int, row: dict[str, Any], result: ScanResult | None,
    *, with_costs: bool,
) -> bool:
    """One account's outcome (its row, and its scan when it was read), in one transaction.

    Storing the same account again replaces it (a store retried after a crash). ``with_costs``:
    this account's scan read the review's cost sources (the management account, or the one
    account of a single-account review). False, and nothing written, when this attempt of the
    review is no longer running (failed meanwhile, or a newer attempt).
    """
    with atomic(db):
        if not is_running(db, review_id, attempt):
            return False
        for table in ("coverage", "inventory", "findings"):
            db.execute(f"delete from {table} where review_id = ? and account_id = ?",  # noqa: S608 - fixed names
                       [review_id, row["account_id"]])
        if with_costs:
            for table in (*COST_TABLES, "check_runs"):
                db.execute(f"delete from {table} where review_id = ?", [review_id])  # noqa: S608 - fixed names
        _insert_account(db, review_id, row, result, with_costs=with_costs)
        db.execute("update reviews set heartbeat_at = ? where id = ?", [iso(utcnow()), review_id])
    return True


def account_rows(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """The per-account table: the management account first, then by name and id."""
    return list(db.query(
        "select * from review_accounts where review_id = ? order by management desc, lower(name), account_id",
        [review_id],
    ))


def account_counts(db: sqlite_utils.Database, review_id: str) -> dict[str, int]:
    """Accounts of a review by progress: read (complete or partial), scanning, failed, skipped."""
    counts = {"read": 0, "scanning": 0, "failed": 0, "skipped": 0}
    for row in db.query("select status, count(*) as n from review_accounts where review_id = ? group by status",
                        [review_id]):
        key = "read" if row["status"] in (COMPLETE, PARTIAL) else row["status"]
        counts[key] = counts.get(key, 0) + row["n"]
    return counts


def finish_review(db: sqlite_utils.Database, review_id: str, attempt: int, retention_days: int | None = None) -> str:
    """Finish a review from its stored accounts: complete, partial (some account or read missing),
    or failed when the account the review depends on (the management account, or the single
    account) could not be read. Returns the status, or "" when this attempt is no longer running."""
    with atomic(db):
        if not is_running(db, review_id, attempt):
            return ""
        db.execute(  # the management account's store job never ran to the end: its scan is lost
            "update review_accounts set status = ?, reason = ?, error_code = ? where review_id = ? "
            "and management = 1 and status = 'scanning'",
            [FAILED, WorkerLost.customer_message, WorkerLost.code, review_id],
        )
        _not_checked_without_management(db, review_id)
        db.execute(  # a member whose store job never ran to the end (its result could not be stored)
            "update review_accounts set status = ?, reason = 'Account ' || account_id || "
            "': its result could not be stored; the other accounts were. Run the review again.', "
            "error_code = ? where review_id = ? and status = 'scanning'",
            [FAILED, StorageError.code, review_id],
        )
        accounts = account_rows(db, review_id)
        main = next((a for a in accounts if a["management"]), None)
        fatal = next((a for a in accounts if a["error_code"] == ReadOnlyViolation.code), None)
        failed = fatal or (main if main is None or main["status"] == FAILED else None)
        if main is None or failed is not None:
            message = failed["reason"] if failed else WorkerLost.customer_message
            error = FinopsError(message, customer_message=message)
            error.code = (failed or {}).get("error_code") or WorkerLost.code
            fail(db, review_id, error, attempt=attempt)
            return FAILED
        return _finish(db, review_id, retention_days)


def _not_checked_without_management(db: sqlite_utils.Database, review_id: str) -> None:
    """Members still waiting when the management account's scan failed or was lost (its worker
    died while it queued them, so some were never queued): not checked, and the sentence says why."""
    from finops.organization import OrgAccount

    main = db.execute("select status from review_accounts where review_id = ? and management = 1",
                      [review_id]).fetchone()
    if main is None or main[0] != FAILED:
        return
    for row in list(db.query("select account_id, name, state from review_accounts where review_id = ? and "
                             "management = 0 and status = 'scanning'", [review_id])):
        label = OrgAccount(row["account_id"], row["name"] or "", row["state"] or "").label()
        db.execute("update review_accounts set status = ?, reason = ?, error_code = ? where review_id = ? "
                   "and account_id = ?", [FAILED, f"{label}: {ManagementUnavailable.customer_message}",
                                          ManagementUnavailable.code, review_id, row["account_id"]])


def _finish(db: sqlite_utils.Database, review_id: str, retention_days: int | None) -> str:
    accounts = account_rows(db, review_id)
    main = next(a for a in accounts if a["management"])
    status = PARTIAL if any(a["status"] in (PARTIAL, FAILED) for a in accounts) else COMPLETE
    regions = sorted({r for a in accounts for r in json.loads(a["regions"] or "[]")})
    finished = utcnow()
    db.execute(
        "update reviews set status = ?, account_id = ?, regions = ?, progress = 100, finished_at = ?, "
        "heartbeat_at = ? where id = ?",
        [status, main["account_id"], json.dumps(regions), iso(finished), iso(finished), review_id],
    )
    if retention_days:
        db.execute("update reviews set expires_at = max(expires_at, ?) where id = ?",
                   [iso(finished + timedelta(days=retention_days)), review_id])
    gaps = db.execute(
        "select count(*) from coverage where review_id = ? and status != 'ok' and source not like ?",
        [review_id, CHECK_SOURCE_PREFIX + "%"],
    ).fetchone()[0]
    missing = [a for a in accounts if a["status"] == FAILED]
    add_step(
        db, review_id,
        "Report ready"
        + (f", with {gaps} part(s) that could not be read (listed in the report)" if gaps else "")
        + (f"; {len(missing)} account(s) could not be read (named in the report)" if missing else ""),
    )
    return status


def register_accounts(db: sqlite_utils.Database, review_id: str, attempt: int, organization_id: str,
                      rows: list[dict[str, Any]], management: dict[str, Any] | None = None) -> bool:
    """An organization's member accounts as the management account listed them: their rows
    (``scanning``, or ``skipped`` with the sentence) before their scans end; and the management
    account's own row (``scanning``) unless its store job has already written it, so that the
    progress counts every account of the organization from the moment they are listed."""
    with atomic(db):
        if not is_running(db, review_id, attempt):
            return False
        db.execute("update reviews set organization_id = ? where id = ?", [organization_id, review_id])
        db["review_accounts"].upsert_all(({"review_id": review_id, **row} for row in rows),
                                         pk=("review_id", "account_id"))
        if management is not None:
            db["review_accounts"].insert({"review_id": review_id, **management}, pk=("review_id", "account_id"),
                                         ignore=True)
    return True


def is_running(db: sqlite_utils.Database, review_id: str, attempt: int) -> bool:
    row = db.execute("select status, attempt from reviews where id = ?", [review_id]).fetchone()
    return row is not None and row[0] == RUNNING and row[1] == attempt




def _insert_account(db: sqlite_utils.Database, review_id: str, row: dict[str, Any], result: ScanResult | None,
                    *, with_costs: bool) -> None:
    account_id = row["account_id"]
    if result is not None:
        row = {**row, "regions": json.dumps(result.regions),
               "api_calls": sum(c.api_calls for c in result.coverage)}
        db["coverage"].insert_all(
            {
                "review_id": review_id, "account_id": account_id, "source": c.source, "region": c.region,
                "status": c.status, "api_calls": c.api_calls, "retries": c.retries, "detail": c.detail,
            }
            for c in result.coverage
        )
        db["inventory"].insert_all(
            (
                {
                    "review_id": review_id, "uid": i.uid, "collector": i.collector,
                    "resource_type": i.resource_type, "account_id": i.account_id, "region": i.region,
                    "resource_id": i.resource_id, "arn": i.arn, "data": json.dumps(i.data, sort_keys=True),
                }
                for i in result.inventory
            ),
            replace=True,
        )
        db["findings"].insert_all((finding_row(review_id, f) for f in [*result.findings, *result.commitments]),
                                  replace=True)
        if with_costs:
            checks = result.checks
            db["check_runs"].insert({
                "review_id": review_id, "evaluated_at": checks.evaluated_at,
                "thresholds": json.dumps(checks.thresholds), "checks": json.dumps(checks.checks, sort_keys=True),
                "catalogue_generated_at": checks.catalogue_generated_at,
                "catalogue_generator": checks.catalogue_generator,
                "catalogue_sources": json.dumps(checks.catalogue_sources),
            })
            _store_costs(db, review_id, result)
    db["review_accounts"].upsert({"review_id": review_id, **row}, pk=("review_id", "account_id"), alter=False)


def _optional_micros(amount: Decimal | None) -> int | None:
    return None if amount is None else to_micros(amount)


def finding_row(review_id: str, f: Finding) -> dict[str, Any]:
    """One findings row: every field of the contract, JSON columns for the nested parts."""
    return {
        "review_id": review_id, "uid": f.uid, "check_id": f.check_id, "title": f.title, "action": f.action,
        "kind": f.kind, "category": f.category, "resource_type": f.resource_type, "resource_id": f.resource_id,
        "resource_arn": f.resource_arn, "resource_name": f.resource_name, "region": f.region,
        "account_id": f.account_id, "monthly_savings_micros": _optional_micros(f.monthly_savings),
        "current_monthly_cost_micros": _optional_micros(f.current_monthly_cost), "currency": f.currency,
        "recommended": f.recommended, "confidence": f.confidence, "effort": f.effort,
        "restart_needed": int(f.restart_needed), "rollback_possible": int(f.rollback_possible),
        "evidence": json.dumps(f.evidence, sort_keys=True, default=str),
        "price_lines": json.dumps([line.as_dict() for line in f.price_lines]), "formula": f.formula,
        "remediation": f.remediation, "console_url": f.console_url, "sources": json.dumps(list(f.sources)),
        "alternatives": json.dumps(list(f.alternatives), default=str), "price_status": f.price_status,
        "price_note": f.price_note, "covers": json.dumps(list(f.covers)),
        "coh": json.dumps(f.coh, default=str) if f.coh is not None else None,
        "capped": json.dumps(f.capped, default=str) if f.capped is not None else None,
    }


def _store_costs(db: sqlite_utils.Database, review_id: str, result: ScanResult) -> None:
    costs = result.costs
    db["spend_monthly"].insert_all(
        {
            "review_id": review_id, "period_start": m.start, "period_end": m.end, "service": m.service,
            "linked_account": m.linked_account, "linked_account_name": m.linked_account_name,
            "unblended_micros": to_micros(m.unblended), "net_amortized_micros": _optional_micros(m.net_amortized),
            "currency": m.currency, "estimated": int(m.estimated),
        }
        for m in costs.monthly
    )
    db["spend_daily"].insert_all(
        {
            "review_id": review_id, "day": d.day, "unblended_micros": to_micros(d.unblended),
            "currency": d.currency, "estimated": int(d.estimated),
        }
        for d in costs.daily
    )
    db["resource_costs"].insert_all(
        {
            "review_id": review_id, "service": r.service, "resource_id": r.resource_id,
            "cost_micros": to_micros(r.cost), "currency": r.currency, "period_start": r.start,
            "period_end": r.end, "days": r.days,
        }
        for r in costs.resource_costs
    )
    db["cost_recommendations"].insert_all(
        {
            "review_id": review_id, "recommendation_id": c.recommendation_id, "account_id": c.account_id,
            "region": c.region, "resource_id": c.resource_id, "resource_arn": c.resource_arn,
            "action_type": c.action_type, "current_resource_type": c.current_resource_type,
            "recommended_resource_type": c.recommended_resource_type,
            "current_resource_summary": c.current_resource_summary,
            "recommended_resource_summary": c.recommended_resource_summary,
            "estimated_monthly_savings_micros": to_micros(c.estimated_monthly_savings),
            "estimated_monthly_cost_micros": _optional_micros(c.estimated_monthly_cost),
            "estimated_savings_percentage": (
                None if c.estimated_savings_percentage is None else str(c.estimated_savings_percentage)
            ),
            "currency": c.currency, "implementation_effort": c.implementation_effort,
            "restart_needed": None if c.restart_needed is None else int(c.restart_needed),
            "rollback_possible": None if c.rollback_possible is None else int(c.rollback_possible),
            "lookback_days": c.lookback_days, "source": c.source, "last_refresh": c.last_refresh,
            "tags": json.dumps(c.tags, sort_keys=True),
        }
        for c in costs.recommendations
    )
    db["cost_summary"].insert({
        "review_id": review_id, "spend_start": costs.spend_start, "spend_end": costs.spend_end,
        "daily_start": costs.daily_start, "daily_end": costs.daily_end,
        "resources_start": costs.resources_start, "resources_end": costs.resources_end,
        "grouped_by_account": int(costs.grouped_by_account), "coh_enrollment": costs.coh_enrollment,
        "coh_savings_estimation_mode": costs.coh_savings_estimation_mode,
        "coh_deduped_savings_micros": _optional_micros(costs.coh_deduped_savings),
        "coh_commitment_savings_micros": _optional_micros(costs.coh_commitment_savings),
        "coh_currency": costs.coh_currency, "ce_requests": costs.ce_requests,
        "ce_request_price_micros": to_micros(CE_REQUEST_PRICE),
    })


def fail(db: sqlite_utils.Database, review_id: str, error: FinopsError, attempt: int | None = None) -> None:
    """Fail an active review. With ``attempt``, only that attempt: a late word about an earlier
    job (an RQ callback, a stopped worker) must not fail the customer's retry."""
    sql = (
        "update reviews set status = ?, error_code = ?, error_message = ?, finished_at = ? "  # noqa: S608
        f"where id = ? and status in ({','.join('?' * len(ACTIVE_STATUSES))})"
    )
    args: list[Any] = [FAILED, error.code, error.customer_message, iso(utcnow()), review_id, *ACTIVE_STATUSES]
    if attempt is not None:
        sql += " and attempt = ?"
        args.append(attempt)
    with atomic(db):
        changed = db.execute(sql, args).rowcount
        if changed:
            add_step(db, review_id, error.customer_message, "error")


def queued(db: sqlite_utils.Database) -> list[dict]:
    """Reviews waiting for a scanner: (id, attempt) is their job's identity in the queue."""
    return list(db.query("select id, attempt from reviews where status = ? order by submitted_at", [QUEUED]))


def running(db: sqlite_utils.Database, older_than: float = 0) -> list[dict]:
    """Running reviews claimed at least ``older_than`` seconds ago."""
    cutoff = iso(utcnow() - timedelta(seconds=older_than))
    return list(db.query("select * from reviews where status = ? and started_at <= ?", [RUNNING, cutoff]))


def interrupt_running(db: sqlite_utils.Database, error: FinopsError,
                      alive: Callable[[dict], bool | None] | None = None) -> list[str]:
    """Fail every running review whose jobs are not moving (``alive``; all of them without it):
    for a start-up or a stop that knows no scanner of its own survived. A review whose scan
    waits in the queue is not failed: it goes on when a worker takes it."""
    stopped = [r["id"] for r in running(db) if not (alive is not None and alive(r))]
    for review_id in stopped:
        fail(db, review_id, error)
    return stopped


def reap_if_stale(db: sqlite_utils.Database, review: dict, settings: Settings, now: datetime | None = None,
                  alive: Callable[[dict], bool | None] | None = None) -> dict:
    """A running review whose worker stopped sending heartbeats has failed: say so.

    ``alive`` (``finops.queue.review_jobs_alive``) asks the queue first: a review whose account
    waits for a free scan worker sends no heartbeat, and is not lost while its jobs are queued.
    """
    if review["status"] != RUNNING:
        return review
    beat = parse_iso(review["heartbeat_at"]) or parse_iso(review["started_at"])
    if beat and (now or utcnow()) - beat > timedelta(seconds=settings.heartbeat_timeout):
        if alive is not None and alive(review):
            return review
        fail(db, review["id"], WorkerLost(f"no heartbeat since {review['heartbeat_at']}"))
        return get_review(db, review["id"])
    return review


RETENTION = "retention"
BY_CUSTOMER = "customer via report link"
BY_CLI = "operator via command line"


def by_operator(email: str) -> str:
    return f"operator {email}"


def delete_review(db: sqlite_utils.Database, review_id: str, by: str) -> dict:
    """The one deletion: every row of the review in one transaction, overwritten on disk, and an audit row.

    The report button, the operator's delete (dashboard or CLI, e.g. answering a reply to the
    report email) and retention all come here. The connection has ``secure_delete`` on (set for
    every connection in ``finops.db.connect``), so freed pages are zeroed; the WAL is then
    checkpointed and truncated, so no copy of the rows is left in it either. The audit row says
    when and by whom, with the first six characters of the review id (what logs show) and the
    hashes of its links (so they answer "deleted" rather than "not found"), and no data.
    """
    db.conn.execute("PRAGMA secure_delete = ON")
    with atomic(db):
        review = get_review(db, review_id)
        rows = 0
        for table in REVIEW_CHILD_TABLES:
            rows += db.execute(f"delete from {table} where review_id = ?", [review_id]).rowcount  # noqa: S608
        rows += db.execute("delete from reviews where id = ?", [review_id]).rowcount
        audit = {
            "deleted_at": iso(utcnow()), "deleted_by": by, "review_ref": review_id[:6], "rows_deleted": rows,
            "report_token_hash": review["report_token_hash"], "invitation_hash": review["invitation_hash"],
        }
        db["deletions"].insert(audit)
    checkpoint(db)
    log.info("review=%s state=deleted by=%r rows=%d", review_id[:6], by if by == RETENTION or by == BY_CUSTOMER
             else "operator", rows)
    return audit


def checkpoint(db: sqlite_utils.Database) -> None:
    """Fold the WAL into the database file and truncate it (best effort: a reader may hold it)."""
    try:
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except Exception as error:  # noqa: BLE001 - the deletion is committed; this only tidies the WAL
        log.warning("wal checkpoint failed: %s", error)


def deletions(db: sqlite_utils.Database, limit: int = 50) -> list[dict]:
    return list(db.query("select deleted_at, deleted_by, review_ref, rows_deleted from deletions "
                         "order by id desc limit ?", [limit]))


def purge_expired(db: sqlite_utils.Database, now: datetime | None = None) -> int:
    """Delete every review past its retention date, with everything stored for it."""
    expired = [r["id"] for r in db.query("select id from reviews where expires_at <= ?", [iso(now or utcnow())])]
    for review_id in expired:
        delete_review(db, review_id, RETENTION)
    return len(expired)


def _clear_results(db: sqlite_utils.Database, review_id: str, keep_steps: bool = False) -> None:
    for table in REVIEW_RESULT_TABLES:
        if keep_steps and table == "review_steps":
            continue
        db.execute(f"delete from {table} where review_id = ?", [review_id])  # noqa: S608 - fixed names
