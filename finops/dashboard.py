"""What the operator's dashboard and ``finops-pack reviews list`` show: live reviews, filtered and sorted.

Expired reviews are not listed: past ``expires_at`` a review is gone for every purpose, even
before the retention purge removes it from disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from finops.db import iso, utcnow
from finops.models import ACTIVE_STATUSES, COMMITMENT
from finops.money import dollars, from_micros

SORTS = {
    "created": "r.created_at", "expires": "r.expires_at", "company": "lower(coalesce(r.contact_company, ''))",
    "savings": "usage_micros", "status": "r.status",
}
STATUS_FILTERS = {
    "all": None, "waiting": ("draft",), "active": ACTIVE_STATUSES, "done": ("complete", "partial"),
    "failed": ("failed",),
}


@dataclass(frozen=True)
class Query:
    q: str = ""
    status: str = "all"
    sort: str = "created"
    direction: str = "desc"

    @classmethod
    def from_args(cls, args: Any) -> Query:
        status = args.get("status", "all")
        sort = args.get("sort", "created")
        direction = args.get("dir", "desc")
        return cls(
            q=(args.get("q") or "").strip()[:100],
            status=status if status in STATUS_FILTERS else "all",
            sort=sort if sort in SORTS else "created",
            direction=direction if direction in ("asc", "desc") else "desc",
        )


def list_reviews(db: sqlite_utils.Database, query: Query | None = None) -> list[dict[str, Any]]:
    query = query or Query()
    where = ["r.expires_at > ?"]
    args: list[Any] = [iso(utcnow())]
    statuses = STATUS_FILTERS[query.status]
    if statuses:
        where.append(f"r.status in ({','.join('?' * len(statuses))})")
        args.extend(statuses)
    if query.q:
        where.append("(r.contact_company like ? or r.contact_name like ? or r.contact_email like ? "
                     "or r.account_id like ? or r.id like ?)")
        args.extend([f"%{query.q}%"] * 4 + [f"{query.q}%"])
    sql = f"""
        select r.*, o.email as operator_email,
          (select sum(monthly_savings_micros) from findings f
            where f.review_id = r.id and f.kind != ? and f.monthly_savings_micros is not null) as usage_micros,
          (select sum(monthly_savings_micros) from findings f
            where f.review_id = r.id and f.kind = ? and f.monthly_savings_micros is not null) as commitment_micros,
          (select status from outbox m where m.review_id = r.id order by m.id desc limit 1) as mail_status
        from reviews r left join operators o on o.id = r.operator_id
        where {' and '.join(where)}
        order by {SORTS[query.sort]} {query.direction}, r.created_at desc
    """  # noqa: S608 - the sort column and direction come from fixed tables above
    rows = []
    for row in db.query(sql, [COMMITMENT, COMMITMENT, *args]):
        row["usage_monthly"] = _money(row["usage_micros"]) if row["status"] in ("complete", "partial") else None
        row["commitment_monthly"] = (_money(row["commitment_micros"])
                                     if row["status"] in ("complete", "partial") else None)
        rows.append(row)
    return rows


def _money(micros: int | None) -> str:
    return dollars(from_micros(micros or 0))


def as_json(row: dict[str, Any]) -> dict[str, Any]:
    """One review for ``finops-pack reviews list --format json`` (a stable shape: fields are only added)."""
    return {
        "id": row["id"], "company": row["contact_company"], "contact_name": row["contact_name"],
        "status": row["status"], "account_id": row["account_id"],
        "monthly_savings": row["usage_monthly"], "commitment_monthly_savings": row["commitment_monthly"],
        "created_at": row["created_at"], "expires_at": row["expires_at"], "email": row["mail_status"],
    }
