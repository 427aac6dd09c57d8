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

from finops.aws.arn import new_external_id, parse_role_arn
from finops.config import Settings
from finops.cost import CE_REQUEST_PRICE
from finops.db import REVIEW_CHILD_TABLES, atomic, iso, parse_iso, utcnow
from finops.errors import (
    ExternalIdMismatch,
    FinopsError,
    QueueUnavailable,
    ReviewNotFound,
    ReviewStateError,
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

log = logging.getLogger(__name__)

SUBMITTABLE = (DRAFT, FAILED)


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    company: str


def create_review(db: sqlite_utils.Database, settings: Settings, now: datetime | None = None) -> dict:
    now = now or utcnow()
    row = {
        "id": secrets.token_urlsafe(16),  # 128 bits: the wizard URL is a capability too
        "external_id": new_external_id(),
        "report_token": secrets.token_urlsafe(32),  # 256 bits
        "status": DRAFT,
        "progress": 0,
        "attempt": 0,
        "created_at": iso(now),
        "expires_at": iso(now + timedelta(days=settings.retention_days)),
    }
    db["reviews"].insert(row)
    return get_review(db, row["id"])


def get_review(db: sqlite_utils.Database, review_id: str) -> dict:
    rows = list(db.query("select * from reviews where id = ?", [review_id]))
    if not rows:
        raise ReviewNotFound(review_id)
    return rows[0]


def get_by_token(db: sqlite_utils.Database, token: str, now: datetime | None = None) -> dict:
    rows = list(db.query("select * from reviews where report_token = ?", [token]))
    if not rows or is_expired(rows[0], now):
        raise ReviewNotFound("no such report")
    return rows[0]


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
    review = get_review(db, review_id)
    if review["status"] in ACTIVE_STATUSES:
        return review  # a double submit: the scan is already queued or running
    if review["status"] not in SUBMITTABLE:
        raise ReviewStateError(
            f"status {review['status']}",
            customer_message="This review has already finished. Open its report, or start a new review.",
        )
    role = parse_role_arn(role_arn)
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
    try:
        enqueue(review_id, attempt)
    except Exception as error:
        log.warning("review=%s state=enqueue-failed error=%s: %s", review_id[:6], type(error).__name__, error)
        with atomic(db):
            db.execute("update reviews set status = ?, attempt = ? where id = ?", [DRAFT, attempt - 1, review_id])
            add_step(db, review_id, QueueUnavailable.customer_message, "error")
        raise QueueUnavailable(f"enqueue failed: {type(error).__name__}") from None
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
            "where id = ? and status = ?",
            [RUNNING, now, now, review_id, QUEUED],
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


def store_result(db: sqlite_utils.Database, review_id: str, result: ScanResult) -> str:
    """Write inventory, coverage and findings, and finish the review, in one transaction."""
    status = PARTIAL if result.partial else COMPLETE
    with atomic(db):
        _clear_results(db, review_id, keep_steps=True)
        db["coverage"].insert_all(
            {
                "review_id": review_id, "source": c.source, "region": c.region, "status": c.status,
                "api_calls": c.api_calls, "retries": c.retries, "detail": c.detail,
            }
            for c in result.coverage
        )
        db["inventory"].insert_all(
            {
                "review_id": review_id, "uid": i.uid, "collector": i.collector,
                "resource_type": i.resource_type, "account_id": i.account_id, "region": i.region,
                "resource_id": i.resource_id, "arn": i.arn, "data": json.dumps(i.data, sort_keys=True),
            }
            for i in result.inventory
        )
        db["findings"].insert_all(finding_row(review_id, f) for f in [*result.findings, *result.commitments])
        checks = result.checks
        db["check_runs"].insert({
            "review_id": review_id, "evaluated_at": checks.evaluated_at, "thresholds": json.dumps(checks.thresholds),
            "checks": json.dumps(checks.checks, sort_keys=True),
            "catalogue_generated_at": checks.catalogue_generated_at,
            "catalogue_generator": checks.catalogue_generator,
            "catalogue_sources": json.dumps(checks.catalogue_sources),
        })
        _store_costs(db, review_id, result)
        db.execute(
            "update reviews set status = ?, account_id = ?, regions = ?, progress = 100, finished_at = ?, "
            "heartbeat_at = ? where id = ?",
            [status, result.account_id, json.dumps(result.regions), iso(utcnow()), iso(utcnow()), review_id],
        )
        gaps = sum(1 for c in result.coverage if c.status != "ok" and not c.source.startswith(CHECK_SOURCE_PREFIX))
        add_step(
            db, review_id,
            "Report ready" + (f", with {gaps} part(s) that could not be read (listed in the report)" if gaps else ""),
        )
    return status


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


def interrupt_running(db: sqlite_utils.Database, error: FinopsError) -> list[str]:
    """Fail every running review: for a start-up that knows no scanner of its own survived."""
    running = [r["id"] for r in db.query("select id from reviews where status = ?", [RUNNING])]
    for review_id in running:
        fail(db, review_id, error)
    return running


def reap_if_stale(db: sqlite_utils.Database, review: dict, settings: Settings, now: datetime | None = None) -> dict:
    """A running review whose worker stopped sending heartbeats has failed: say so."""
    if review["status"] != RUNNING:
        return review
    beat = parse_iso(review["heartbeat_at"]) or parse_iso(review["started_at"])
    if beat and (now or utcnow()) - beat > timedelta(seconds=settings.heartbeat_timeout):
        fail(db, review["id"], WorkerLost(f"no heartbeat since {review['heartbeat_at']}"))
        return get_review(db, review["id"])
    return review


def delete_review(db: sqlite_utils.Database, review_id: str) -> None:
    with atomic(db):
        for table in REVIEW_CHILD_TABLES:
            db.execute(f"delete from {table} where review_id = ?", [review_id])  # noqa: S608 - fixed names
        db.execute("delete from reviews where id = ?", [review_id])


def purge_expired(db: sqlite_utils.Database, now: datetime | None = None) -> int:
    """Delete every review past its retention date, with everything stored for it."""
    expired = [r["id"] for r in db.query("select id from reviews where expires_at <= ?", [iso(now or utcnow())])]
    for review_id in expired:
        delete_review(db, review_id)
    return len(expired)


def _clear_results(db: sqlite_utils.Database, review_id: str, keep_steps: bool = False) -> None:
    for table in REVIEW_CHILD_TABLES:
        if keep_steps and table == "review_steps":
            continue
        db.execute(f"delete from {table} where review_id = ?", [review_id])  # noqa: S608 - fixed names
