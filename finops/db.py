"""SQLite through sqlite-utils: connection setup, migrations, small helpers.

SQLite is the truth for reviews, progress, coverage, inventory and findings. Every schema change
is a new function appended to ``MIGRATIONS``; applied migrations are recorded by name.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from finops.errors import StorageBusy, StorageError, StorageFull


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if dt else None


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def seconds_since(value: str | None, now: datetime | None = None) -> float:
    """Seconds since an ISO timestamp (0 when unset): for "waiting for a while" messages."""
    then = parse_iso(value)
    return ((now or utcnow()) - then).total_seconds() if then else 0.0


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


def _m002_cost_data(db: sqlite_utils.Database) -> None:
    """Cost Explorer spend, resource-level costs, Cost Optimization Hub recommendations.

    Money is integer micro-dollars (CE amounts are parsed from strings with Decimal first).
    """
    fk = [("review_id", "reviews", "id")]
    db["spend_monthly"].create(
        {
            "review_id": str, "period_start": str, "period_end": str, "service": str,
            "linked_account": str, "linked_account_name": str, "unblended_micros": int,
            "net_amortized_micros": int,  # null when Cost Explorer did not return NetAmortizedCost
            "currency": str, "estimated": int,
        },
        pk=("review_id", "period_start", "service", "linked_account"), foreign_keys=fk,
    )
    db["spend_daily"].create(
        {"review_id": str, "day": str, "unblended_micros": int, "currency": str, "estimated": int},
        pk=("review_id", "day"), foreign_keys=fk,
    )
    db["resource_costs"].create(
        {
            "review_id": str, "service": str, "resource_id": str, "cost_micros": int, "currency": str,
            "period_start": str, "period_end": str, "days": int,
        },
        pk=("review_id", "service", "resource_id"), foreign_keys=fk,
    )
    db["cost_recommendations"].create(
        {
            "review_id": str, "recommendation_id": str, "account_id": str, "region": str,
            "resource_id": str, "resource_arn": str, "action_type": str,
            "current_resource_type": str, "recommended_resource_type": str,
            "current_resource_summary": str, "recommended_resource_summary": str,
            "estimated_monthly_savings_micros": int, "estimated_monthly_cost_micros": int,
            "estimated_savings_percentage": str,  # decimal string, not a float
            "currency": str, "implementation_effort": str, "restart_needed": int,
            "rollback_possible": int, "lookback_days": int, "source": str, "last_refresh": str,
            "tags": str,  # JSON
        },
        pk=("review_id", "recommendation_id"), foreign_keys=fk,
    )
    db["cost_summary"].create(
        {
            "review_id": str, "spend_start": str, "spend_end": str, "daily_start": str, "daily_end": str,
            "resources_start": str, "resources_end": str, "grouped_by_account": int,
            "coh_enrollment": str, "coh_savings_estimation_mode": str,
            "coh_deduped_savings_micros": int, "coh_commitment_savings_micros": int, "coh_currency": str,
            "ce_requests": int, "ce_request_price_micros": int,
        },
        pk="review_id", foreign_keys=fk,
    )


def _m003_checks_engine(db: sqlite_utils.Database) -> None:
    """Findings carry the checks engine's full contract; commitments share the table (kind).

    ``monthly_savings_micros`` is null for a finding shown without a price. Every JSON column
    holds what the report shows verbatim (price lines, alternatives, Cost Optimization Hub's
    figure, the cap by actual cost). ``check_runs`` keeps what the checks decided with.
    """
    findings = db["findings"]
    for name, kind in (
        ("action", str), ("kind", str), ("category", str), ("resource_arn", str), ("resource_name", str),
        ("current_monthly_cost_micros", int), ("recommended", str), ("effort", str), ("restart_needed", int),
        ("rollback_possible", int), ("price_lines", str), ("formula", str), ("remediation", str),
        ("console_url", str), ("sources", str), ("alternatives", str), ("price_status", str), ("price_note", str),
        ("covers", str), ("coh", str), ("capped", str),
    ):
        findings.add_column(name, kind)
    findings.create_index(["review_id", "kind"])
    db["reviews"].add_column("thresholds", str)  # JSON: this review's own threshold overrides
    db["check_runs"].create(
        {
            "review_id": str, "evaluated_at": str, "thresholds": str, "checks": str,
            "catalogue_generated_at": str, "catalogue_generator": str, "catalogue_sources": str,
        },
        pk="review_id", foreign_keys=[("review_id", "reviews", "id")],
    )


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _m004_workspace(db: sqlite_utils.Database) -> None:
    """Operators, invitations, hashed capability tokens, deletion audit, outbox, notes, connection checks.

    Capability tokens are stored only as SHA-256 hashes: ``report_token`` becomes
    ``report_token_hash`` (existing links keep working until they expire), and a review made
    before this migration keeps its old wizard URL, its id, as its invitation (hashed too).
    Links issued from now on are derived from the secret key and a per-review nonce
    (``finops.links``); ``*_nonce`` is null for the links issued before.
    """
    conn = db.conn
    conn.execute("ALTER TABLE reviews RENAME COLUMN report_token TO report_token_hash")
    reviews = db["reviews"]
    for name, kind in (
        ("report_nonce", str), ("invitation_hash", str), ("invitation_nonce", str), ("operator_id", int),
        ("operator_note", str), ("summary_md", str), ("invited_at", str),
    ):
        reviews.add_column(name, kind)
    for row in list(db.query("select id, report_token_hash from reviews")):
        conn.execute("update reviews set report_token_hash = ?, invitation_hash = ? where id = ?",
                     [sha256_hex(row["report_token_hash"]), sha256_hex(row["id"]), row["id"]])
    reviews.create_index(["invitation_hash"], unique=True)
    fk = [("review_id", "reviews", "id")]
    db["operators"].create(
        {
            "id": int, "email": str, "password_hash": str, "created_at": str, "last_sign_in_at": str,
            "session_nonce": str,  # part of the session's user id: changing it signs every session out
            "set_password_hash": str, "set_password_expires_at": str, "disabled": int,
        },
        pk="id", not_null={"email", "created_at", "session_nonce"}, defaults={"disabled": 0},
    )
    db["operators"].create_index(["email"], unique=True)
    db["operators"].create_index(["set_password_hash"], unique=True)
    db["deletions"].create(
        {
            "id": int, "deleted_at": str, "deleted_by": str, "review_ref": str, "rows_deleted": int,
            # Hashes of the review's links, so that they answer "deleted" (410) rather than "not found".
            "report_token_hash": str, "invitation_hash": str,
        },
        pk="id", not_null={"deleted_at", "deleted_by"},
    )
    db["deletions"].create_index(["report_token_hash"])
    db["deletions"].create_index(["invitation_hash"])
    db["outbox"].create(
        {
            "id": int, "review_id": str, "kind": str, "attempt": int, "recipients": str, "cc": str,
            "reply_to": str, "status": str, "tries": int, "last_error": str, "created_at": str,
            "next_try_at": str, "sent_at": str,
        },
        pk="id", foreign_keys=fk, not_null={"review_id", "kind", "status", "created_at"}, defaults={"tries": 0},
    )
    db["outbox"].create_index(["review_id", "kind", "attempt"], unique=True)
    db["outbox"].create_index(["status", "next_try_at"])
    db["finding_notes"].create(
        {"review_id": str, "uid": str, "body": str, "updated_at": str, "updated_by": str},
        pk=("review_id", "uid"), foreign_keys=fk,
    )
    db["connection_checks"].create(
        {
            "id": str, "review_id": str, "role_arn": str, "status": str, "ok": int, "code": str, "message": str,
            "account_id": str, "created_at": str, "finished_at": str,
        },
        pk="id", foreign_keys=fk, not_null={"review_id", "status", "created_at"},
    )
    db["connection_checks"].create_index(["review_id"])


def _m005_organizations(db: sqlite_utils.Database) -> None:
    """Organization reviews: a review's scope, one row per account, coverage per account.

    ``scope`` is ``account`` (the role's own account, as before) or ``organization`` (the
    management account and every member). ``review_accounts`` is the per-account table of the
    report, written by the store step as each account's scan is stored; a single-account review
    has one row. Coverage rows gain ``account_id`` (part of their key: every account reads the
    same sources in the same regions); rows written before are given their review's account.
    """
    db["reviews"].add_column("scope", str, not_null_default="account")
    db["reviews"].add_column("organization_id", str)
    db["connection_checks"].add_column("details", str)  # JSON: each member account, reachable or why not
    fk = [("review_id", "reviews", "id")]
    db["review_accounts"].create(
        {
            "review_id": str, "account_id": str, "name": str, "state": str, "management": int,
            "role_arn": str, "status": str,  # scanning / complete / partial / failed / skipped
            "reason": str,  # the customer's sentence when the account was not (fully) read
            "monthly_savings_micros": int, "commitment_monthly_savings_micros": int, "findings": int,
            "reads": int, "reads_ok": int, "api_calls": int, "scan_seconds": float, "attempts": int,
            "regions": str,  # JSON list of the regions scanned in this account
            "error_code": str,  # why it was not read (a FinopsError code), for a failed account
            "finished_at": str,
        },
        pk=("review_id", "account_id"), foreign_keys=fk, defaults={"management": 0, "findings": 0},
    )
    coverage = db["coverage"]
    coverage.add_column("account_id", str)
    db.execute("update coverage set account_id = coalesce((select account_id from reviews "
               "where reviews.id = coverage.review_id), '')")
    db.execute("update coverage set account_id = '' where account_id is null")
    coverage.transform(pk=("review_id", "account_id", "source", "region"))


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("001_initial", _m001_initial),
    ("002_cost_data", _m002_cost_data),
    ("003_checks_engine", _m003_checks_engine),
    ("004_workspace", _m004_workspace),
    ("005_organizations", _m005_organizations),
]

# Child tables, deleted before their review (foreign keys are enforced).
COST_TABLES = ("spend_monthly", "spend_daily", "resource_costs", "cost_recommendations", "cost_summary")
REVIEW_CHILD_TABLES = (
    "review_steps", "coverage", "inventory", "findings", *COST_TABLES, "check_runs",
    "review_accounts", "outbox", "finding_notes", "connection_checks",
)
# What a new scan replaces: the operator's notes, the outbox and connection checks stay.
REVIEW_RESULT_TABLES = REVIEW_CHILD_TABLES[:11]


PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(directory: Path) -> Path:
    """Create ``directory`` (and parents) as 0700, or make an existing one of ours 0700: the
    database, the generated secret key and the embedded queue live there."""
    directory.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _chmod_if_ours(directory, PRIVATE_DIR)
    return directory


def private_database(path: Path) -> None:
    """The database file and its WAL/SHM as 0600, in a 0700 directory.

    The file is created 0600 before SQLite opens it: SQLite gives the -wal and -shm files it
    creates the database file's own permissions, so they are born 0600 too. Files left by an
    older version (0644) are narrowed when we own them.
    """
    private_dir(path.parent)
    # Only ever O_EXCL: opening and closing a descriptor of a database this process already has
    # open would drop SQLite's POSIX locks on it (they are per process) and corrupt it. A file
    # that does not exist yet is open nowhere.
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        pass
    for candidate in (path, *(path.with_name(path.name + suffix) for suffix in SIDE_FILES)):
        _chmod_if_ours(candidate, PRIVATE_FILE)  # chmod opens nothing


def _chmod_if_ours(path: Path, mode: int) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) != mode:
        os.chmod(path, mode)


def connect(path: Path | str, *, migrations: bool = True, busy_timeout: float = 30) -> sqlite_utils.Database:
    """Open the database with WAL, foreign keys and a busy timeout; migrate it unless told not to.

    ``busy_timeout`` (seconds) is how long a write waits for another writer (web and workers share
    the file) before it fails with ``StorageBusy``.
    """
    if str(path) != ":memory:":
        private_database(Path(path))
    conn = sqlite3.connect(str(path), timeout=busy_timeout, check_same_thread=False, isolation_level=None)
    db = sqlite_utils.Database(conn)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    # Deleted rows are overwritten with zeros, not left in free pages: deletion on request and
    # retention really remove a review's data from the file (see reviews.delete_review).
    conn.execute("PRAGMA secure_delete = ON")
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


def storage_error(error: BaseException) -> StorageError | None:
    """The customer-facing error for a write SQLite refused, or None if it is no storage trouble.

    Busy: another writer held the database past the busy timeout. Full: SQLITE_FULL ("database or
    disk is full", a full disk or a file-size limit) or a write the disk refused ("disk I/O error").
    """
    if not isinstance(error, sqlite3.OperationalError):
        return None
    message = str(error).lower()
    if "locked" in message or "busy" in message:
        return StorageBusy(f"sqlite: {error}")
    if "full" in message or "disk i/o error" in message:
        return StorageFull(f"sqlite: {error}")
    return None


@contextmanager
def atomic(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction (BEGIN IMMEDIATE, so concurrent writers queue instead of failing).

    If SQLite refuses it (busy past the timeout, disk full) it is rolled back whole and a
    ``StorageBusy`` / ``StorageFull`` carries the sentence for the customer.
    """
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        raise storage_error(error) or error from error
    try:
        yield db
        conn.execute("COMMIT")
    except BaseException as error:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:  # SQLite rolls back by itself when it cannot (e.g. after SQLITE_FULL)
                pass
        typed = storage_error(error)
        if typed is not None:
            raise typed from error
        raise
