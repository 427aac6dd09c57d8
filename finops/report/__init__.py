"""Report model: a stored review -> one dict, rendered as JSON, Markdown or HTML.

The JSON field names are a stable contract (``account_id``, ``regions``, ``coverage``,
``findings[].check_id/resource_id/region/monthly_savings``, ``totals.monthly_savings``): later
work adds fields, never renames them. Amounts are decimal strings in USD.

Cost data adds ``spend`` (by_month, by_service, by_account, daily), ``resource_costs``,
``cost_recommendations`` (Cost Optimization Hub, with its own de-duplicated total), ``scan_cost``
(paid Cost Explorer requests and dollars) and ``totals.coh_*``; ``totals.monthly_savings`` stays
the native findings' total only.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import sqlite_utils

from finops.checks import discover as discover_checks
from finops.collect import discover as discover_collectors
from finops.cost import CE_SOURCES, COST_SOURCE_TITLES
from finops.cost.coh import COMMITMENT_ACTIONS
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
SOURCE_TITLES = {
    "account.identity": "Account identity",
    "account.regions": "Enabled regions",
    **COST_SOURCE_TITLES,
}


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
        evidence = json.loads(row["evidence"] or "{}")
        findings.append(
            {
                "uid": row["uid"],
                "check_id": row["check_id"],
                "title": row["title"],
                "resource_type": row["resource_type"],
                "resource_id": row["resource_id"],
                "resource_name": evidence.get("resource_name"),  # the Name tag: customer-controlled text
                "account_id": row["account_id"],
                "region": row["region"],
                "monthly_savings": dollars(amount),
                "currency": row["currency"],
                "confidence": row["confidence"],
                "effort": spec.effort if spec else None,
                "restart_needed": spec.restart_needed if spec else None,
                "rollback_possible": spec.rollback_possible if spec else None,
                "remediation": (
                    spec.remediation.format(region=row["region"], resource_id=row["resource_id"])
                    if spec and spec.remediation else None
                ),
                "evidence": evidence,
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
    summary = next(iter(db.query("select * from cost_summary where review_id = ?", [review_id])), None)
    recommendations = cost_recommendations(db, review_id, summary, findings)
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
            # Cost Optimization Hub's own de-duplicated total, never added to the native one above.
            "coh_monthly_savings": recommendations["deduped_monthly_savings"],
            "coh_commitment_savings": recommendations["commitment_monthly_savings"],
            "coh_recommendations": len(recommendations["items"]),
        },
        "spend": spend(db, review_id, summary),
        "resource_costs": resource_costs(db, review_id),
        "cost_recommendations": recommendations,
        "scan_cost": scan_cost(coverage, summary),
    }


def _money(micros: int | None) -> str | None:
    return None if micros is None else dollars(from_micros(micros))


def _sum(values: list[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def spend(db: sqlite_utils.Database, review_id: str, summary: dict | None) -> dict[str, Any]:
    """Monthly totals, per service, per linked account and the daily trend; decimal strings."""
    rows = list(db.query(
        "select * from spend_monthly where review_id = ? order by period_start, service, linked_account",
        [review_id],
    ))
    currency = rows[0]["currency"] if rows else "USD"
    months: dict[str, list[dict]] = {}
    for row in rows:
        months.setdefault(row["period_start"], []).append(row)
    by_month = [
        {
            "month": start[:7], "start": start, "end": cells[0]["period_end"],
            "unblended": _money(sum(c["unblended_micros"] for c in cells)),
            "net_amortized": _money(_sum([c["net_amortized_micros"] for c in cells])),
            "estimated": any(c["estimated"] for c in cells),
            "full_month": cells[0]["period_end"][8:] == "01",
            "currency": cells[0]["currency"],
        }
        for start, cells in months.items()
    ]
    full = [m["start"] for m in by_month if m["full_month"]]
    last_full = full[-1] if full else None
    services: dict[str, dict[str, Any]] = {}
    accounts: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["service"]:
            cell = services.setdefault(row["service"], {"u": 0, "n": [], "last": 0})
            cell["u"] += row["unblended_micros"]
            cell["n"].append(row["net_amortized_micros"])
            if row["period_start"] == last_full:
                cell["last"] += row["unblended_micros"]
        if row["linked_account"]:
            acct = accounts.setdefault(row["linked_account"], {"u": 0, "n": [], "name": row["linked_account_name"]})
            acct["u"] += row["unblended_micros"]
            acct["n"].append(row["net_amortized_micros"])
    by_service = [
        {"service": name, "unblended": _money(c["u"]), "net_amortized": _money(_sum(c["n"])),
         "last_full_month": _money(c["last"]), "currency": currency}
        for name, c in sorted(services.items(), key=lambda kv: (-kv[1]["u"], kv[0]))
    ]
    by_account = [
        {"account_id": acct_id, "name": c["name"] or "", "unblended": _money(c["u"]),
         "net_amortized": _money(_sum(c["n"])), "currency": currency}
        for acct_id, c in sorted(accounts.items(), key=lambda kv: (-kv[1]["u"], kv[0]))
    ] if summary and summary["grouped_by_account"] else []
    daily = [
        {"date": row["day"], "unblended": _money(row["unblended_micros"]), "estimated": bool(row["estimated"]),
         "currency": row["currency"]}
        for row in db.query("select * from spend_daily where review_id = ? order by day", [review_id])
    ]
    return {
        "currency": currency,
        "period": {"start": summary["spend_start"], "end": summary["spend_end"]} if summary else None,
        "daily_period": {"start": summary["daily_start"], "end": summary["daily_end"]} if summary else None,
        "total_unblended": _money(sum(r["unblended_micros"] for r in rows)),
        "last_full_month": last_full[:7] if last_full else None,
        "by_month": by_month,
        "by_service": by_service,
        "by_account": by_account,
        "daily": daily,
    }


def resource_costs(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    return [
        {
            "resource_id": row["resource_id"], "service": row["service"], "cost_14d": _money(row["cost_micros"]),
            "days": row["days"], "period_start": row["period_start"], "period_end": row["period_end"],
            "currency": row["currency"],
        }
        for row in db.query(
            "select * from resource_costs where review_id = ? order by cost_micros desc, resource_id", [review_id]
        )
    ]


def _bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def cost_recommendations(
    db: sqlite_utils.Database, review_id: str, summary: dict | None, findings: list[dict]
) -> dict[str, Any]:
    """COH recommendations as their own section: own de-duplicated total, commitments apart.

    A recommendation for a resource that also has a native finding names that finding, so a
    reader sees one resource once; the totals are never added together.
    """
    native = {}
    for f in findings:
        native.setdefault(f["resource_id"], f["uid"])
    items = []
    for row in db.query(
        "select * from cost_recommendations where review_id = ? "
        "order by estimated_monthly_savings_micros desc, resource_id, recommendation_id",
        [review_id],
    ):
        resource_tail = (row["resource_arn"] or "").rsplit("/", 1)[-1]
        items.append({
            "recommendation_id": row["recommendation_id"],
            "account_id": row["account_id"],
            "region": row["region"],
            "resource_id": row["resource_id"],
            "resource_arn": row["resource_arn"],
            "action_type": row["action_type"],
            "current_resource_type": row["current_resource_type"],
            "recommended_resource_type": row["recommended_resource_type"],
            "current_resource_summary": row["current_resource_summary"],
            "recommended_resource_summary": row["recommended_resource_summary"],
            "estimated_monthly_savings": _money(row["estimated_monthly_savings_micros"]),
            "estimated_monthly_cost": _money(row["estimated_monthly_cost_micros"]),
            "estimated_savings_percentage": row["estimated_savings_percentage"],
            "currency": row["currency"],
            "effort": row["implementation_effort"],
            "restart_needed": _bool(row["restart_needed"]),
            "rollback_possible": _bool(row["rollback_possible"]),
            "lookback_days": row["lookback_days"],
            "source": row["source"],
            "last_refresh": row["last_refresh"],
            "commitment": row["action_type"] in COMMITMENT_ACTIONS,
            "native_finding": native.get(row["resource_id"]) or native.get(resource_tail),
            "tags": json.loads(row["tags"] or "{}"),
        })
    return {
        "enrollment": summary["coh_enrollment"] if summary else None,
        "savings_estimation_mode": summary["coh_savings_estimation_mode"] if summary else None,
        "currency": (summary["coh_currency"] if summary else None) or "USD",
        "deduped_monthly_savings": _money(summary["coh_deduped_savings_micros"]) if summary else None,
        "commitment_monthly_savings": _money(summary["coh_commitment_savings_micros"]) if summary else None,
        "items": items,
    }


def scan_cost(coverage: list[dict], summary: dict | None) -> dict[str, Any]:
    """What this review paid AWS: Cost Explorer charges per request, each page included."""
    by_source = {c["source"]: c["api_calls"] for c in coverage if c["source"] in CE_SOURCES}
    requests = summary["ce_requests"] if summary else sum(by_source.values())
    price = from_micros(summary["ce_request_price_micros"]) if summary else Decimal("0.01")
    return {
        "requests": requests,
        "dollars": dollars(price * requests),
        "price_per_request": dollars(price),
        "currency": "USD",
        "by_source": by_source,
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
        lines += ["| Check | Resource | Name | Region | Monthly savings | Confidence |", "|---|---|---|---|---:|---|"]
        for f in report["findings"]:
            lines.append(
                f"| {md_escape(f['title'])} | {md_escape(f['resource_id'])} | {md_escape(f.get('resource_name'))} "
                f"| {md_escape(f['region'])} | ${md_escape(f['monthly_savings'])} | {md_escape(f['confidence'])} |"
            )
    else:
        lines.append("No savings opportunities were found in what could be read.")
    lines += _markdown_costs(report)
    lines += ["", "## Coverage", "", "| Source | Region | Result | API calls | Retries |", "|---|---|---|---:|---:|"]
    for c in report["coverage"]:
        lines.append(
            f"| {md_escape(source_title(c['source']))} | {md_escape(c['region'])} | "
            f"{md_escape(STATUS_WORDS.get(c['status'], c['status']))} | {c['api_calls']} | {c['retries']} |"
        )
    return "\n".join(lines) + "\n"


CSV_COLUMNS = (
    "check_id", "title", "resource_id", "resource_name", "resource_type", "account_id", "region",
    "monthly_savings", "currency", "confidence", "effort", "remediation",
)
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value: Any) -> str:
    """Text for one CSV cell that no spreadsheet will run: a leading formula character is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(report: dict[str, Any]) -> str:
    """The findings, one row each, safe to open in Excel, Numbers or Google Sheets."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for finding in report["findings"]:
        writer.writerow([csv_cell(finding.get(column)) for column in CSV_COLUMNS])
    return out.getvalue()


def _markdown_costs(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    recs = report.get("cost_recommendations") or {}
    if recs.get("items"):
        mode = recs.get("savings_estimation_mode")
        lines += [
            "", "## Cost Optimization Hub recommendations", "",
            f"AWS's de-duplicated estimate: **${md_escape(recs['deduped_monthly_savings'])} per month**"
            f"{' (' + md_escape(mode) + ')' if mode else ''}, of which Savings Plans / Reserved Instance "
            f"purchases: ${md_escape(recs['commitment_monthly_savings'])}. Not added to the findings above.",
            "",
            "| Action | Resource | Region | Current | Recommended | Monthly savings | Effort |",
            "|---|---|---|---|---|---:|---|",
        ]
        for r in recs["items"]:
            lines.append(
                f"| {md_escape(r['action_type'])} | {md_escape(r['resource_id'])} | {md_escape(r['region'])} "
                f"| {md_escape(r['current_resource_summary'])} | {md_escape(r['recommended_resource_summary'])} "
                f"| ${md_escape(r['estimated_monthly_savings'])} | {md_escape(r['effort'])} |"
            )
    spend_data = report.get("spend") or {}
    if spend_data.get("by_month"):
        lines += ["", "## Spend", "", "| Month | Unblended | Net amortized |", "|---|---:|---:|"]
        for m in spend_data["by_month"]:
            label = m["month"] + ("" if m["full_month"] else " (month to date)")
            net = f"${md_escape(m['net_amortized'])}" if m["net_amortized"] is not None else "-"
            lines.append(f"| {md_escape(label)} | ${md_escape(m['unblended'])} | {net} |")
        if spend_data.get("by_service"):
            lines += ["", "| Service | Last full month | Whole period |", "|---|---:|---:|"]
            for svc in spend_data["by_service"][:10]:
                lines.append(
                    f"| {md_escape(svc['service'])} | ${md_escape(svc['last_full_month'])} "
                    f"| ${md_escape(svc['unblended'])} |"
                )
        if spend_data.get("by_account"):
            lines += ["", "| Account | Name | Whole period |", "|---|---|---:|"]
            for acct in spend_data["by_account"]:
                lines.append(f"| {md_escape(acct['account_id'])} | {md_escape(acct['name'])} "
                             f"| ${md_escape(acct['unblended'])} |")
    cost = report.get("scan_cost") or {}
    if cost:
        lines += [
            "", "## Cost of this review", "",
            f"{cost['requests']} paid Cost Explorer request(s) at ${md_escape(cost['price_per_request'])} each: "
            f"**${md_escape(cost['dollars'])}**. Every other read is free.",
        ]
    return lines
