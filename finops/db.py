"""SQLite through sqlite-utils: connection setup, migrations, small helpers.

SQLite is the truth for reviews, progress, coverage, inventory and findings. Every schema change
is a new function appended to ``MIGRATIONS``; applied migrations are recorded by name.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if dt else None


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _m001_initial(db: sqlite_utils.Database) -> None:
    db["reviews"].create(
        {
            "id": str,
            "external_id": str,
            "report_token": str,
            "status": str,
            "role_arn": str,
            "account_id": str,
            "contact_name": str,
            "contact_email": str,
            "contact_company": str,
            "regions": str,  # JSON list of the regions scanned
            "progress": int,
            "attempt": int,
            "error_code": str,
            "error_message": str,
            "created_at": str,
            "expires_at": str,
            "submitted_at": str,
            "started_at": str,
            "heartbeat_at": str,
            "finished_at": str,
        },
        pk="id",
        not_null={"external_id", "report_token", "status", "created_at", "expires_at"},
        defaults={"progress": 0, "attempt": 0},
    )
    db["reviews"].create_index(["report_token"], unique=True)
    db["reviews"].create_index(["expires_at"])
    db["review_steps"].create(
        {"id": int, "review_id": str, "at": str, "level": str, "message": str},
        pk="id",
        foreign_keys=[("review_id", "reviews", "id")],
    )
    db["review_steps"].create_index(["review_id", "id"])
    db["coverage"].create(
        {
            "review_id": str,
            "source": str,
            "region": str,
            "status": str,
            "api_calls": int,
            "retries": int,
            "detail": str,
        },
        pk=("review_id", "source", "region"),
        foreign_keys=[("review_id", "reviews", "id")],
    )
    db["inventory"].create(
        {
            "review_id": str,
            "uid": str,
            "collector": str,
            "resource_type": str,
            "account_id": str,
            "region": str,
            "resource_id": str,
            "arn": str,
            "data": str,  # JSON of the normalized fields
        },
        pk=("review_id", "uid"),
        foreign_keys=[("review_id", "reviews", "id")],
    )
    db["findings"].create(
        {
            "review_id": str,
            "uid": str,  # check:account:region:resource
            "check_id": str,
            "title": str,
            "resource_type": str,
            "resource_id": str,
            "region": str,
            "account_id": str,
            "monthly_savings_micros": int,
            "currency": str,
            "confidence": str,
            "evidence": str,  # JSON: formula inputs, price date, quantities
        },
        pk=("review_id", "uid"),
        foreign_keys=[("review_id", "reviews", "id")],
    )


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("001_initial", _m001_initial),
]

# Child tables, deleted before their review (foreign keys are enforced).
REVIEW_CHILD_TABLES = ("review_steps", "coverage", "inventory", "findings")


def connect(path: Path | str, *, migrations: bool = True) -> sqlite_utils.Database:
    """Open the database with WAL, foreign keys and a busy timeout; migrate it unless told not to."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
    db = sqlite_utils.Database(conn)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 30000")
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    if migrations:
        migrate(db)
    return db


def migrate(db: sqlite_utils.Database) -> list[str]:
    with atomic(db):
        if "_migrations" not in db.table_names():
            db["_migrations"].create({"name": str, "applied_at": str}, pk="name")
        done = {row["name"] for row in db["_migrations"].rows}
        applied = []
        for name, fn in MIGRATIONS:
            if name in done:
                continue
            fn(db)
            db["_migrations"].insert({"name": name, "applied_at": iso(utcnow())})
            applied.append(name)
    return applied


@contextmanager
def atomic(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction (BEGIN IMMEDIATE, so concurrent writers queue instead of failing)."""
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")
