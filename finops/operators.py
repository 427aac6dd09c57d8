"""Operators: the consultants who sign in to the dashboard.

Passwords are hashed with scrypt (werkzeug's ``generate_password_hash``, a maintained KDF with a
per-password salt). A one-time set-password link is a capability like the others: its SHA-256
hash is stored, it expires after ``SET_PASSWORD_HOURS`` and works once. ``session_nonce`` is part
of the id a session carries: setting a new password changes it, which signs out every session.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash

from finops.db import iso, parse_iso, utcnow
from finops.errors import FinopsError
from finops.links import token_hash

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
SET_PASSWORD_HOURS = 24
PASSWORD_METHOD = "scrypt"  # noqa: S105 - the KDF's name, not a password


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the email is unknown, so a wrong email takes as long as a wrong password."""
    return generate_password_hash(secrets.token_hex(16), method=PASSWORD_METHOD)


class OperatorError(FinopsError):
    code = "operator"


@dataclass(frozen=True)
class Operator:
    id: int
    email: str
    session_nonce: str

    # Flask-Login's user protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
        raise OperatorError("bad email", customer_message=f"{email!r} is not an email address.")
    return email


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise OperatorError("short password", customer_message=(
            f"The password must be at least {MIN_PASSWORD} characters long."))
    if len(password) > MAX_PASSWORD:
        raise OperatorError("long password", customer_message="That password is too long.")


def _row(db: sqlite_utils.Database, email: str) -> dict | None:
    return next(iter(db.query("select * from operators where email = ?", [email])), None)


def _operator(row: dict) -> Operator:
    return Operator(row["id"], row["email"], row["session_nonce"])


def add(db: sqlite_utils.Database, email: str, password: str | None = None) -> Operator:
    """Create an operator (or, for an existing email, set a new password). Without a password the
    account can only be used after the set-password link (``set_password_link``) is followed."""
    email = normalise_email(email)
    if password is not None:
        check_password_rules(password)
    row = _row(db, email)
    values = {"password_hash": generate_password_hash(password, method=PASSWORD_METHOD) if password else None,
              "session_nonce": secrets.token_hex(8), "disabled": 0}
    if row is None:
        db["operators"].insert({"email": email, "created_at": iso(utcnow()), **values})
    elif password is not None:
        db["operators"].update(row["id"], values)
    found = _row(db, email)
    assert found is not None
    return _operator(found)


def set_password_token(db: sqlite_utils.Database, operator_id: int) -> str:
    token = secrets.token_urlsafe(32)
    db["operators"].update(operator_id, {
        "set_password_hash": token_hash(token),
        "set_password_expires_at": iso(utcnow() + timedelta(hours=SET_PASSWORD_HOURS)),
    })
    return token


def by_set_password_token(db: sqlite_utils.Database, token: str) -> Operator | None:
    row = next(iter(db.query("select * from operators where set_password_hash = ? and disabled = 0",
                             [token_hash(token or "")])), None)
    if row is None:
        return None
    expires = parse_iso(row["set_password_expires_at"])
    return _operator(row) if expires and utcnow() < expires else None


def set_password(db: sqlite_utils.Database, operator_id: int, password: str) -> Operator:
    """A new password; the set-password link is used up and every existing session is signed out."""
    check_password_rules(password)
    db["operators"].update(operator_id, {
        "password_hash": generate_password_hash(password, method=PASSWORD_METHOD),
        "set_password_hash": None, "set_password_expires_at": None, "session_nonce": secrets.token_hex(8),
    })
    return _operator(db["operators"].get(operator_id))


def authenticate(db: sqlite_utils.Database, email: str, password: str) -> Operator | None:
    row = _row(db, (email or "").strip().lower())
    usable = bool(row and not row["disabled"] and row["password_hash"])
    stored = row["password_hash"] if usable and row else _dummy_hash()
    if not check_password_hash(stored, password or "") or not usable or row is None:
        return None
    db["operators"].update(row["id"], {"last_sign_in_at": iso(utcnow())})
    return _operator(row)


def load(db: sqlite_utils.Database, session_id: str) -> Operator | None:
    """The operator a session's id names, if that session is still valid (nonce unchanged)."""
    operator_id, _, nonce = (session_id or "").partition(":")
    if not operator_id.isdigit() or not nonce:
        return None
    row = next(iter(db.query("select * from operators where id = ? and disabled = 0", [int(operator_id)])), None)
    if row is None or not secrets.compare_digest(row["session_nonce"], nonce):
        return None
    return _operator(row)


def list_all(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("select id, email, created_at, last_sign_in_at, disabled, "
                         "password_hash is not null as has_password from operators order by id"))


def remove(db: sqlite_utils.Database, email: str) -> bool:
    """Disable an operator (their reviews keep them as the Reply-To of past emails): signs them out."""
    return bool(db.execute("update operators set disabled = 1, session_nonce = ?, password_hash = null, "
                           "set_password_hash = null where email = ?",
                           [secrets.token_hex(8), normalise_email(email)]).rowcount)


def get(db: sqlite_utils.Database, operator_id: int) -> dict | None:
    return next(iter(db.query("select id, email from operators where id = ?", [operator_id])), None)
