"""The operator's notes on a review: a summary and per-finding notes, in Markdown.

Shown in the report (rendered by ``finops.markup``), the Markdown export and the report email.
Per-finding notes are keyed by the finding's stable uid (check:account:region:resource), so they
survive a rescan; they are deleted with the review.
"""

from __future__ import annotations

import sqlite_utils

from finops.db import iso, utcnow
from finops.markup import MAX_NOTE_LENGTH


def summary(db: sqlite_utils.Database, review_id: str) -> str:
    row = next(iter(db.query("select summary_md from reviews where id = ?", [review_id])), None)
    return (row["summary_md"] if row else None) or ""


def set_summary(db: sqlite_utils.Database, review_id: str, text: str) -> None:
    db.execute("update reviews set summary_md = ? where id = ?", [text.strip()[:MAX_NOTE_LENGTH] or None, review_id])


def finding_notes(db: sqlite_utils.Database, review_id: str) -> dict[str, str]:
    return {row["uid"]: row["body"] for row in db.query(
        "select uid, body from finding_notes where review_id = ? and body is not null and body != ''", [review_id])}


def set_finding_note(db: sqlite_utils.Database, review_id: str, uid: str, text: str, by: str) -> None:
    body = text.strip()[:MAX_NOTE_LENGTH]
    if not body:
        db.execute("delete from finding_notes where review_id = ? and uid = ?", [review_id, uid])
        return
    db["finding_notes"].upsert({"review_id": review_id, "uid": uid, "body": body, "updated_at": iso(utcnow()),
                                "updated_by": by}, pk=("review_id", "uid"))
