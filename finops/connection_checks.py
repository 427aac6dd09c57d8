"""Test connection, as a job: the web tier records the request, a worker assumes the role.

The web tier holds no AWS identity: it validates what it can without AWS (the ARN's shape and
partition, the External ID), stores the request here, and queues ``jobs.connection``; the page
polls this row until the worker has written its sentence. Rows are deleted with their review.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

import sqlite_utils

from finops.aws.arn import parse_role_arn
from finops.db import iso, parse_iso, utcnow
from finops.errors import ExternalIdMismatch, FinopsError, ReviewNotFound

PENDING, DONE = "pending", "done"
STALLED_AFTER = timedelta(seconds=30)
NOT_PICKED_UP = (
    "No scanner has picked the test up yet. It runs as soon as one is free; if this lasts, tell your "
    "FinOps Pack contact (the operator needs to start finops-pack worker)."
)
DID_NOT_FINISH = "The connection test did not finish in time. Nothing was changed in your account: try again."


def validate(role_arn: str, external_id: str, review_external_id: str) -> None:
    """What can be refused without AWS, with the same sentences the scanner's path gives."""
    parse_role_arn(role_arn)
    if external_id.strip() != review_external_id:
        raise ExternalIdMismatch("submitted External ID differs from the review's")


def create(db: sqlite_utils.Database, review_id: str, role_arn: str) -> str:
    check_id = secrets.token_urlsafe(12)
    db["connection_checks"].insert({"id": check_id, "review_id": review_id, "role_arn": role_arn.strip(),
                                    "status": PENDING, "created_at": iso(utcnow())})
    return check_id


def get(db: sqlite_utils.Database, review_id: str, check_id: str) -> dict:
    rows = list(db.query("select * from connection_checks where id = ? and review_id = ?", [check_id, review_id]))
    if not rows:
        raise ReviewNotFound("no such connection check")
    return rows[0]


def finish(db: sqlite_utils.Database, check_id: str, ok: bool, code: str, message: str,
           account_id: str | None = None, details: dict[str, Any] | None = None) -> None:
    """The worker's answer. ``details``: an organization review's member accounts, each reachable or
    why not (``OrganizationConnection.as_dict``), stored as JSON."""
    db.execute("update connection_checks set status = ?, ok = ?, code = ?, message = ?, account_id = ?, "
               "details = ?, finished_at = ? where id = ? and status = ?",
               [DONE, int(ok), code, message, account_id, json.dumps(details) if details is not None else None,
                iso(utcnow()), check_id, PENDING])


def details_of(check: dict) -> dict[str, Any] | None:
    """The stored per-member outcome of an organization's connection test (None for one account)."""
    raw = check.get("details")
    if not raw:
        return None
    try:
        details = json.loads(raw)
    except ValueError:
        return None
    return details if isinstance(details, dict) else None


def fail(db: sqlite_utils.Database, check_id: str, error: FinopsError | None = None) -> None:
    finish(db, check_id, False, error.code if error else "did_not_finish",
           error.customer_message if error else DID_NOT_FINISH)


def stalled(check: dict) -> bool:
    created = parse_iso(check["created_at"])
    return bool(check["status"] == PENDING and created and utcnow() - created > STALLED_AFTER)
