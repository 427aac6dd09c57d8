"""Capability links: the invitation (one review's wizard) and the report (that report only).

SQLite stores each link's SHA-256 hash, never the link: a copy of the database opens nothing.
The plain token is derived when a link is given out (the invitation shown to the operator, the
report email, the customer's "Open your report"):

    token = base64url(HMAC-SHA256(HMAC-SHA256(secret key, "links v1"), kind | review id | nonce))

so the operator can copy a review's links again from the dashboard, and the mail job can put
the report link in an email, without any copy of them at rest. The secret key is already the
deployment's master key (it signs operator sessions, so whoever holds it can sign in as an
operator); keep it out of database backups. "Replace link" draws a new nonce: the old link stops
working at once. Links issued before this scheme (``nonce`` null) still open until they expire
but cannot be shown again; replacing them issues a derived one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

import sqlite_utils

from finops.config import Settings

INVITATION, REPORT = "invitation", "report"
_COLUMNS = {INVITATION: ("invitation_hash", "invitation_nonce"), REPORT: ("report_token_hash", "report_nonce")}
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_nonce() -> str:
    return secrets.token_hex(16)


def derive(secret_key: str, kind: str, review_id: str, nonce: str) -> str:
    if not secret_key:
        raise ValueError("links need the secret key (Settings.with_secret_key())")
    key = hmac.new(secret_key.encode(), b"finops-pack capability links v1", hashlib.sha256).digest()
    mac = hmac.new(key, f"{kind}\0{review_id}\0{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()  # 256 bits, 43 characters


def new_columns(settings: Settings, review_id: str) -> dict[str, str]:
    """Nonces and hashes of a new review's two links."""
    key = settings.with_secret_key().secret_key
    row = {}
    for kind, (hash_column, nonce_column) in _COLUMNS.items():
        nonce = new_nonce()
        row[nonce_column] = nonce
        row[hash_column] = token_hash(derive(key, kind, review_id, nonce))
    return row


def token(settings: Settings, review: dict, kind: str) -> str | None:
    """The review's current link token, or None if it cannot be derived (an older link, or a changed key)."""
    hash_column, nonce_column = _COLUMNS[kind]
    nonce = review.get(nonce_column)
    if not nonce:
        return None
    value = derive(settings.with_secret_key().secret_key, kind, review["id"], nonce)
    return value if hmac.compare_digest(token_hash(value), review[hash_column] or "") else None


def invitation_token(settings: Settings, review: dict) -> str | None:
    return token(settings, review, INVITATION)


def report_token(settings: Settings, review: dict) -> str | None:
    return token(settings, review, REPORT)


def invitation_url(settings: Settings, review: dict) -> str | None:
    value = invitation_token(settings, review)
    return f"{settings.base_url}/reviews/{value}" if value else None


def report_url(settings: Settings, review: dict) -> str | None:
    value = report_token(settings, review)
    return f"{settings.base_url}/r/{value}" if value else None


def replace_link(db: sqlite_utils.Database, settings: Settings, review_id: str, kind: str) -> str:
    """A new link for the review; the previous one stops working now. Returns the new token."""
    hash_column, nonce_column = _COLUMNS[kind]
    nonce = new_nonce()
    value = derive(settings.with_secret_key().secret_key, kind, review_id, nonce)
    db.execute(f"update reviews set {hash_column} = ?, {nonce_column} = ? where id = ?",  # noqa: S608 - fixed names
               [token_hash(value), nonce, review_id])
    return value


def ensure_token(db: sqlite_utils.Database, settings: Settings, review: dict, kind: str) -> str:
    """The current token, replacing an older, underivable link first (it cannot be given out again)."""
    return token(settings, review, kind) or replace_link(db, settings, review["id"], kind)


def mask(value: str) -> str:
    """A token as logs may show it: its first six characters."""
    return value[:6] + "…" if len(value) > 6 else value
