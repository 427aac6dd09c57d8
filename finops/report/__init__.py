"""Report model: a stored review -> one dict, rendered as JSON, Markdown or HTML.

The JSON field names are a stable contract (``account_id``, ``regions``, ``coverage``,
``findings[].check_id/resource_id/region/monthly_savings``, ``totals.monthly_savings``): later
work adds fields, never renames them. Amounts are decimal strings in USD.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import sqlite_utils

from finops.checks import discover as discover_checks
from finops.collect import discover as discover_collectors
from finops.models import COV_OK
from finops.money import dollars, from_micros

SCHEMA_VERSION = 1
STATUS_WORDS = {
    "ok": "read",
    "access_denied": "access denied",
    "region_not_enabled": "region not enabled",
    "not_enabled": "not enabled",
    "throttled": "throttled",
    "error": "error",
}
SOURCE_TITLES = {"account.identity": "Account identity", "account.regions": "Enabled regions"}


def source_title(source: str) -> str:
    collectors = discover_collectors()
    return collectors[source].title if source in collectors else SOURCE_TITLES.get(source, source)


def gap_sentence(row: dict) -> str:
    where = "" if row["region"] == "global" else f" in {row['region']}"
    return f"{source_title(row['source'])}{where} could not be read: {row['detail']}."


def build_report(db: sqlite_utils.Database, review: dict) -> dict[str, Any]:
    review_id = review["id"]
    checks = discover_checks()
    coverage = [
        {k: row[k] for k in ("source", "region", "status", "api_calls", "retries", "detail")}
        for row in db.query(
            "select * from coverage where review_id = ? order by source, region", [review_id]
        )
    ]
    findings = []
    total = Decimal(0)
    for row in db.query(
        "select * from findings where review_id = ? "
        "order by monthly_savings_micros desc, check_id, resource_id",
        [review_id],
    ):
        amount = from_micros(row["monthly_savings_micros"])
        total += amount
        spec = checks.get(row["check_id"])
        findings.append(
            {
                "uid": row["uid"],
                "check_id": row["check_id"],
                "title": row["title"],
                "resource_type": row["resource_type"],
                "resource_id": row["resource_id"],
                "account_id": row["account_id"],
                "region": row["region"],
                "monthly_savings": dollars(amount),
                "currency": row["currency"],
                "confidence": row["confidence"],
                "effort": spec.effort if spec else None,
                "restart_needed": spec.restart_needed if spec else None,
                "rollback_possible": spec.rollback_possible if spec else None,
                "remediation": spec.remediation.format(region=row["region"], resource_id=row["resource_id"]) if spec and spec.remediation else None,
                "evidence": json.loads(row["evidence"] or "{}"),
            }
        )
    inventory: dict[str, dict[str, int]] = {}
    for row in db.query(
        "select resource_type, region, count(*) as n from inventory where review_id = ? "
        "group by resource_type, region order by resource_type, region",
        [review_id],
    ):
        inventory.setdefault(row["resource_type"], {})[row["region"]] = row["n"]
    gaps = [gap_sentence(c) for c in coverage if c["status"] != COV_OK]
    return {
        "schema_version": SCHEMA_VERSION,
        "review_id": review_id,
        "status": review["status"],
        "account_id": review["account_id"],
        "regions": json.loads(review["regions"] or "[]"),
        "created_at": review["created_at"],
        "finished_at": review["finished_at"],
        "expires_at": review["expires_at"],
        "coverage": coverage,
        "gaps": gaps,
        "inventory": inventory,
        "findings": findings,
        "totals": {
            "monthly_savings": dollars(total),
            "annual_savings": dollars(total * 12),
            "currency": "USD",
            "findings": len(findings),
        },
    }


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=False)


_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~")


def md_escape(value: Any) -> str:
    """Escape untrusted text (resource names, tags, ids) so Markdown shows it as text."""
    text = "" if value is None else str(value)
    text = text.replace("\r", " ").replace("\n", " ")
    return "".join(f"\\{ch}" if ch in _MD_SPECIAL else ch for ch in text)


def to_markdown(report: dict[str, Any]) -> str:
    t = report["totals"]
    lines = [
        f"# AWS savings review for account {md_escape(report['account_id'])}",
        "",
        f"- Status: {md_escape(report['status'])}",
        f"- Regions scanned: {md_escape(', '.join(report['regions']))}",
        f"- Estimated savings: **${md_escape(t['monthly_savings'])} per month** "
        f"(${md_escape(t['annual_savings'])} per year), {t['findings']} finding(s)",
        f"- Report expires: {md_escape(report['expires_at'])}",
        "",
    ]
    if report["gaps"]:
        lines += ["## What could not be read", ""]
        lines += [f"- {md_escape(gap)}" for gap in report["gaps"]]
        lines.append("")
    lines += ["## Findings", ""]
    if report["findings"]:
        lines += ["| Check | Resource | Region | Monthly savings | Confidence |", "|---|---|---|---:|---|"]
        for f in report["findings"]:
            lines.append(
                f"| {md_escape(f['title'])} | {md_escape(f['resource_id'])} | {md_escape(f['region'])} "
                f"| ${md_escape(f['monthly_savings'])} | {md_escape(f['confidence'])} |"
            )
    else:
        lines.append("No savings opportunities were found in what could be read.")
    lines += ["", "## Coverage", "", "| Source | Region | Result | API calls | Retries |", "|---|---|---|---:|---:|"]
    for c in report["coverage"]:
        lines.append(
            f"| {md_escape(source_title(c['source']))} | {md_escape(c['region'])} | "
            f"{md_escape(STATUS_WORDS.get(c['status'], c['status']))} | {c['api_calls']} | {c['retries']} |"
        )
    return "\n".join(lines) + "\n"
