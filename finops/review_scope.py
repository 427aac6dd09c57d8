"""What a review covers: the role's own account, or the whole AWS organization it manages.

The customer picks it in the wizard, before submitting; the scan reads ``reviews.scope``. It can
change only while the review is being set up (draft, or failed and about to be submitted again):
once a scan is queued, running or done, the review's scope is what that scan covered.
"""

from __future__ import annotations

import sqlite_utils

from finops.errors import InvalidInput, ReviewStateError
from finops.models import DRAFT, FAILED

ACCOUNT, ORGANIZATION = "account", "organization"
SCOPES = (ACCOUNT, ORGANIZATION)
CHANGEABLE = (DRAFT, FAILED)
CHOOSE = "Choose what to review: just this account, or your whole organization."


def checked(scope: str | None) -> str:
    """``scope`` when it is one of SCOPES; InvalidInput with a sentence otherwise."""
    if scope not in SCOPES:
        raise InvalidInput(f"unknown scope {str(scope)[:40]!r}", customer_message=CHOOSE)
    return scope


def set_scope(db: sqlite_utils.Database, review_id: str, scope: str) -> str:
    """Store the review's scope (one conditional UPDATE: never on a submitted review)."""
    scope = checked(scope)
    changed = db.execute(
        f"update reviews set scope = ? where id = ? and status in ({','.join('?' * len(CHANGEABLE))})",  # noqa: S608
        [scope, review_id, *CHANGEABLE],
    ).rowcount
    if not changed:
        raise ReviewStateError(f"scope not changeable for review {review_id[:6]}", customer_message=(
            "What this review covers can no longer be changed: its scan has already started."))
    return scope


def scope_of(review: dict) -> str:
    """A review row's scope (rows read before migration 005 have none: one account)."""
    return review.get("scope") or ACCOUNT
