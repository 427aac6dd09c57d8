"""The Test connection job: assume the customer's role exactly as a scan would, store one sentence."""

from __future__ import annotations

import logging
from typing import Any

from finops import connection_checks, review_scope, reviews
from finops.aws.connection import check_connection, check_organization_connection
from finops.config import Settings
from finops.db import connect
from finops.errors import FinopsError

log = logging.getLogger(__name__)


def run_connection_check(check_id: str) -> str:
    settings = Settings.from_env()
    db = connect(settings.db_path)
    rows = list(db.query("select * from connection_checks where id = ?", [check_id]))
    if not rows or rows[0]["status"] != connection_checks.PENDING:
        return "skipped"
    check = rows[0]
    try:
        review = reviews.live_review(db, check["review_id"])
    except FinopsError as error:
        connection_checks.fail(db, check_id, error)
        return "refused"
    if review_scope.scope_of(review) == review_scope.ORGANIZATION:
        # The management account as below, then every active member account's role.
        result, organization = check_organization_connection(
            check["role_arn"], review["external_id"], review_external_id=review["external_id"],
            scanner_principal_arn=settings.scanner_principal_arn)
        connection_checks.finish(db, check_id, result.ok, result.code, result.message, result.account_id,
                                 organization.as_dict() if organization is not None else None)
        return result.code
    result = check_connection(check["role_arn"], review["external_id"], review_external_id=review["external_id"],
                              scanner_principal_arn=settings.scanner_principal_arn)
    connection_checks.finish(db, check_id, result.ok, result.code, result.message, result.account_id)
    return result.code


def on_connection_check_failed(job: Any, connection: Any, exc_type: Any, exc_value: Any, traceback: Any) -> None:
    """RQ failure callback (timeout, work-horse killed): the page gets a sentence, not a spinner forever."""
    settings = Settings.from_env()
    connection_checks.fail(connect(settings.db_path), job.args[0])
    log.warning("connection-check=%s state=failed error=%s", job.args[0][:6], getattr(exc_type, "__name__", exc_type))
