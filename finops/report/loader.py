"""Report loader: a stored review -> the report model (one dict). Reads the store, nothing else.

The model is what every renderer shows (HTML template, Markdown, JSON, CSV). JSON field names are
a stable contract: ``account_id``, ``regions``, ``coverage[]``, ``findings[]`` (``check_id``,
``action``, ``kind``, ``resource_id``, ``resource_arn``, ``resource_type``, ``region``,
``account_id``, ``monthly_savings``, ``current_monthly_cost``, ``recommended``, ``confidence``,
``effort``, ``restart_needed``, ``rollback_possible``, ``evidence``, ``price_lines[]``,
``remediation``, ``console_url``, ``sources``, ``alternatives[]``...), ``commitments[]``,
``totals.monthly_savings`` (== the sum of ``findings[].monthly_savings``, exactly),
``totals.commitment_monthly_savings``, ``thresholds[]``, ``price_basis``. Later work adds fields,
never renames them. Amounts are decimal strings in USD; an unpriced finding has
``monthly_savings: null`` and is never added.

An organization review (``reviews.scope = 'organization'``) is one review whose coverage,
inventory and findings rows carry each account's id: its model is ``finops.report.organization``'s
(``scope``, ``organization_id``, ``accounts[]``...), joined from one model per account read, each
built from that account's rows (every table read once for the whole review, then split by account).

Importing this module never loads botocore (a test checks): titles and source ids come from
``finops.models``.
"""

from __future__ import annotations

import json
import json.scanner
from collections import defaultdict
from decimal import Decimal
from typing import Any

import sqlite_utils

from finops.checks.merge import MERGE_RULE
from finops.gcpause import no_cyclic_gc
from finops.models import (
    CE_SOURCES,
    CHECK_SOURCE_PREFIX,
    COH,
    COMMITMENT,
    COMMITMENT_ACTIONS,
    COV_OK,
    NATIVE,
    SOURCE_TITLES,
)
from finops.money import dollars, from_micros
from finops.review_scope import ORGANIZATION

SCHEMA_VERSION = 2
STATUS_WORDS = {
    "ok": "read",
    "access_denied": "access denied",
    "region_not_enabled": "region not enabled",
    "not_enabled": "not enabled",
    "throttled": "throttled",
    "error": "error",
    "not_evaluated": "not evaluated",
    "price_unavailable": "price unavailable",
    "check_error": "check failed",
}
NATIVE_PRICE_BASIS = (
    "FinOps Pack's own figures use AWS public list prices (On-Demand, before any discount, credit, Savings Plan "
    "or Reserved Instance), from the bundled price catalogue; each finding shows its unit prices and their source."
)
COH_MODES = {
    "AfterDiscounts": "Cost Optimization Hub's figures are after your discounts "
                      "(savings estimation mode AfterDiscounts).",
    "BeforeDiscounts": "Cost Optimization Hub's figures are before discounts "
                       "(savings estimation mode BeforeDiscounts).",
}


def source_title(source: str) -> str:
    return SOURCE_TITLES.get(source, source)


def gap_sentence(row: dict) -> str:
    where = "" if row["region"] == "global" else f" in {row['region']}"
    return f"{source_title(row['source'])}{where} could not be read: {row['detail']}."


# The stored JSON values most findings share, made without parsing (a fresh object each time).
_COMMON_JSON = {"[]": list, "{}": dict, "null": lambda: None, f'["{NATIVE}"]': lambda: [NATIVE]}


# json's C scanner called directly: json.loads' Python layers cost more than the parsing itself on
# the many short values a report reads (2,000 findings x 7 columns).
_scan_json = json.scanner.make_scanner(json.JSONDecoder())


def _json(value: str | None, default: Any) -> Any:
    if not value:
        return default
    make = _COMMON_JSON.get(value)
    if make is not None:
        return make()
    try:
        parsed, end = _scan_json(value, 0)
    except StopIteration:  # leading whitespace: not how we store JSON, but still JSON
        return json.loads(value)
    return parsed if end == len(value) else json.loads(value)


# The stored columns a finding's model reads, in this order (a tuple per row: no dict per row twice).
FINDING_COLUMNS = (
    "uid", "check_id", "title", "category", "action", "kind", "resource_type", "resource_id", "resource_arn",
    "resource_name", "account_id", "region", "monthly_savings_micros", "current_monthly_cost_micros", "currency",
    "recommended", "confidence", "effort", "restart_needed", "rollback_possible", "evidence", "price_lines",
    "formula", "remediation", "console_url", "sources", "alternatives", "price_status", "price_note", "covers",
    "coh", "capped",
)
_SELECT_FINDINGS = "select " + ", ".join(FINDING_COLUMNS) + " from findings"  # noqa: S608 - constants


def finding_rows(db: sqlite_utils.Database, where: str, params: list[Any]) -> list[dict[str, Any]]:
    """Findings as the report shows them: ``where`` is a constant clause (with ordering), values in ``params``."""
    return [finding_model(row) for row in db.conn.execute(f"{_SELECT_FINDINGS} where {where}", params)]


def finding_model(row: tuple) -> dict[str, Any]:
    """One stored finding (or commitment), a row of FINDING_COLUMNS, as the report shows it."""
    (uid, check_id, title, category, action, kind, resource_type, resource_id, resource_arn, resource_name,
     account_id, region, savings, current, currency, recommended, confidence, effort, restart_needed,
     rollback_possible, evidence, price_lines, formula, remediation, console_url, sources, alternatives,
     price_status, price_note, covers, coh, capped) = row
    return {
        "uid": uid,
        "check_id": check_id,
        "title": title,
        "category": category,
        "action": action,
        "kind": kind,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "resource_arn": resource_arn or "",
        "resource_name": resource_name,  # the Name tag: customer-controlled text
        "account_id": account_id,
        "region": region,
        "monthly_savings": _money(savings),
        "current_monthly_cost": _money(current),
        "currency": currency,
        "recommended": recommended or "",
        "confidence": confidence,
        "effort": effort,
        "restart_needed": bool(restart_needed),
        "rollback_possible": bool(rollback_possible),
        "evidence": _json(evidence, {}),
        "price_lines": _json(price_lines, []),
        "formula": formula or "",
        "remediation": remediation or "",
        "console_url": console_url or "",
        "sources": _json(sources, [NATIVE]),
        "alternatives": _json(alternatives, []),
        "price_status": price_status,
        "price_note": price_note or "",
        "covers": _json(covers, []),
        "coh": _json(coh, None),
        "capped": _json(capped, None),
    }


def build_report(db: sqlite_utils.Database, review: dict) -> dict[str, Any]:
    with no_cyclic_gc():  # thousands of small dicts, no cycles
        if review.get("scope") == ORGANIZATION:
            model = _organization_report(db, review)
            if model is not None:
                return model
        return _build_report(db, review)


def _build_report(db: sqlite_utils.Database, review: dict) -> dict[str, Any]:
    return _model(review, _read(db, review, by_account=False), None, json.loads(review["regions"] or "[]"))


READ_ACCOUNT = ("complete", "partial")  # an account whose scan was stored (failed / skipped ones have none)


def account_summaries(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``review_accounts`` rows as ``accounts[]`` (``finops.organization.AccountSummary.as_dict``)."""
    from finops.organization import AccountSummary

    return [
        AccountSummary(
            row["account_id"], row["name"] or "", row["state"] or "", bool(row["management"]), row["status"] or "",
            row["reason"] or "", from_micros(row["monthly_savings_micros"] or 0),
            from_micros(row["commitment_monthly_savings_micros"] or 0), row["findings"] or 0, row["reads"] or 0,
            row["reads_ok"] or 0,
        ).as_dict()
        for row in rows
    ]


def review_accounts(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """The review's per-account rows: the management account first, then by name and id."""
    return list(db.query(
        "select * from review_accounts where review_id = ? order by management desc, lower(name), account_id",
        [review_id],
    ))


def _organization_report(db: sqlite_utils.Database, review: dict) -> dict[str, Any] | None:
    """One report for an organization review: each account read is built from its own rows (read
    once for the whole review and split by account), then ``organization_report`` joins them.
    None when the management account's scan is not stored (the review then reads as one account)."""
    from finops.report.organization import organization_report  # it imports this module

    rows = review_accounts(db, review["id"])
    if not any(row["management"] and row["status"] in READ_ACCOUNT for row in rows):
        return None
    data = _read(db, review, by_account=True)
    reports = {
        row["account_id"]: _model(review, data, row["account_id"], json.loads(row["regions"] or "[]"),
                                  every_recommendation=bool(row["management"]))
        for row in rows if row["status"] in READ_ACCOUNT
    }
    return organization_report(review["organization_id"] or "", account_summaries(rows), reports)


def _read(db: sqlite_utils.Database, review: dict, *, by_account: bool) -> dict[str, Any]:
    """Every stored row a review's report shows, each table read once; with ``by_account``, the
    coverage, findings, inventory and recommendations split by account (key None: all of them)."""
    review_id = review["id"]

    def key(account_id: str | None) -> str | None:
        return account_id if by_account else None

    coverage: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for row in db.query("select * from coverage where review_id = ? order by source, region, account_id",
                        [review_id]):
        coverage[key(row["account_id"])].append(
            {k: row[k] for k in ("source", "region", "status", "api_calls", "retries", "detail")})
    findings: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    commitments: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    order = ORG_FINDING_ORDER if by_account else FINDING_ORDER
    for finding in finding_rows(db, f"review_id = ? order by {order}", [review_id]):
        (commitments if finding["kind"] == COMMITMENT else findings)[key(finding["account_id"])].append(finding)
    inventory: dict[str | None, dict[str, dict[str, int]]] = defaultdict(dict)
    for row in db.query(
        "select account_id, resource_type, region, count(*) as n from inventory where review_id = ? "
        "group by account_id, resource_type, region order by resource_type, region, account_id",
        [review_id],
    ):
        cell = inventory[key(row["account_id"])].setdefault(row["resource_type"], {})
        cell[row["region"]] = cell.get(row["region"], 0) + row["n"]
    recommendations = list(db.query(
        "select * from cost_recommendations where review_id = ? "
        "order by estimated_monthly_savings_micros desc, resource_id, recommendation_id",
        [review_id],
    ))
    recommendations_by_account: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for row in recommendations:
        recommendations_by_account[row["account_id"]].append(row)
    summary = next(iter(db.query("select * from cost_summary where review_id = ?", [review_id])), None)
    from finops import notes

    return {
        "coverage": coverage, "findings": findings, "commitments": commitments, "inventory": inventory,
        "recommendations": recommendations, "recommendations_by_account": recommendations_by_account,
        "summary": summary,
        "checks": next(iter(db.query("select * from check_runs where review_id = ?", [review_id])), None),
        "finding_notes": notes.finding_notes(db, review_id), "summary_note": notes.summary(db, review_id),
        "spend": spend(db, review_id, summary, by_account=by_account), "resource_costs": resource_costs(db, review_id),
    }


def _model(review: dict, data: dict[str, Any], account_id: str | None, regions: list[str], *,
           every_recommendation: bool = True) -> dict[str, Any]:
    """One account's report model from ``_read``'s rows (``account_id`` None: the whole review).

    ``every_recommendation``: the Cost Optimization Hub panel lists every recommendation stored
    (the account that read them); otherwise only this account's own.
    """
    coverage = data["coverage"].get(account_id, [])
    reads = [c for c in coverage if not c["source"].startswith(CHECK_SOURCE_PREFIX)]
    findings = data["findings"].get(account_id, [])
    commitments = data["commitments"].get(account_id, [])
    inventory = data["inventory"].get(account_id, {})
    summary, checks = data["summary"], data["checks"]
    rows = data["recommendations"] if every_recommendation else data["recommendations_by_account"].get(account_id, [])
    recommendations = _recommendations(rows, summary, findings, commitments, account_id or review["account_id"],
                                       regions)
    usage_total = _total(findings)
    commitment_total = _total(commitments)
    finding_notes = data["finding_notes"]
    for f in [*findings, *commitments]:
        f["operator_note"] = finding_notes.get(f["uid"], "")
    gaps = [gap_sentence(c) for c in reads if c["status"] != COV_OK]
    # No review id here or in any export: a report link opens the report and nothing else.
    return {
        "schema_version": SCHEMA_VERSION,
        "status": review["status"],
        "account_id": account_id or review["account_id"],
        "regions": regions,
        "created_at": review["created_at"],
        "finished_at": review["finished_at"],
        "expires_at": review["expires_at"],
        "coverage": coverage,
        "gaps": gaps,
        "not_evaluated": not_evaluated([c for c in coverage if c["source"].startswith(CHECK_SOURCE_PREFIX)]),
        "inventory": inventory,
        "findings": findings,
        "commitments": commitments,
        "totals": {
            "monthly_savings": dollars(usage_total),
            "annual_savings": dollars(usage_total * 12),
            "currency": "USD",
            "findings": len(findings),
            "priced_findings": sum(1 for f in findings if f["monthly_savings"] is not None),
            "unpriced_findings": sum(1 for f in findings if f["monthly_savings"] is None),
            "commitment_monthly_savings": dollars(commitment_total),
            "commitments": len(commitments),
            # Cost Optimization Hub's own de-duplicated total, never added to the totals above.
            "coh_monthly_savings": recommendations["deduped_monthly_savings"],
            "coh_commitment_savings": recommendations["commitment_monthly_savings"],
            "coh_recommendations": len(recommendations["items"]),
        },
        "thresholds": _json(checks["thresholds"], []) if checks else [],
        "checks_evaluated": _json(checks["checks"], {}) if checks else {},
        "price_basis": price_basis(checks, recommendations),
        "spend": data["spend"],
        "resource_costs": data["resource_costs"],
        "cost_recommendations": recommendations,
        "scan_cost": scan_cost(coverage, summary),
        "notes": {"summary": data["summary_note"], "findings": finding_notes},
        "executive_summary": executive_summary(findings, commitments, gaps, reads),
    }


TOP_ACTIONS = 5


def executive_summary(findings: list[dict[str, Any]], commitments: list[dict[str, Any]], gaps: list[str],
                      reads: list[dict[str, Any]]) -> dict[str, Any]:
    """The report's first screen: the top actions, savings by category, and whether everything was read."""
    priced = [f for f in findings if f["monthly_savings"] is not None]
    top = [
        {"uid": f["uid"], "title": f["title"], "action": f["action"], "resource_id": f["resource_id"],
         "resource_name": f["resource_name"], "region": f["region"], "monthly_savings": f["monthly_savings"],
         "annual_savings": dollars(Decimal(f["monthly_savings"]) * 12), "effort": f["effort"],
         "confidence": f["confidence"]}
        for f in priced[:TOP_ACTIONS]
    ]
    categories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        categories[f["category"] or "Other"].append(f)
    by_category = sorted(
        ({"category": name, "monthly_savings": dollars(_total(items)), "findings": len(items)}
         for name, items in categories.items()),
        key=lambda c: (-Decimal(c["monthly_savings"]), c["category"]),
    )
    return {
        "top_actions": top,
        "by_category": by_category,
        "coverage": {"complete": not gaps, "gaps": len(gaps),
                     "reads": len(reads), "reads_ok": sum(1 for c in reads if c["status"] == COV_OK)},
        "commitments": len(commitments),
    }


def not_evaluated(rows: list[dict[str, Any]]) -> list[str]:
    """The checks' coverage rows as sentences; checks stopped by the same unread input share one."""
    from finops.checks import discover

    titles = {f"{CHECK_SOURCE_PREFIX}{check_id}": spec.title for check_id, spec in discover().items()}
    grouped: dict[tuple[str, str], list[str]] = {}
    sentences: list[str] = []
    for row in rows:
        title, detail = titles.get(row["source"], ""), row["detail"] or ""
        marker = " were not evaluated: "
        if row["status"] == "not_evaluated" and title and detail.startswith(f"{title} ") and marker in detail:
            where, reason = detail[len(title) + 1:].split(marker, 1)
            grouped.setdefault((where, reason), []).append(title)
        else:
            sentences.append(detail)
    for (where, reason), names in grouped.items():
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        sentences.append(f"{listed} {where} were not evaluated: {reason}")
    return sentences


def _total(findings: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(f["monthly_savings"]) for f in findings if f["monthly_savings"] is not None), Decimal(0))


def price_basis(checks: dict | None, recommendations: dict[str, Any]) -> dict[str, Any]:
    mode = recommendations.get("savings_estimation_mode")
    return {
        "native": NATIVE_PRICE_BASIS,
        "catalogue": {
            "generated_at": checks["catalogue_generated_at"] if checks else None,
            "generator": checks["catalogue_generator"] if checks else None,
            "sources": _json(checks["catalogue_sources"], []) if checks else [],
        },
        "coh_savings_estimation_mode": mode,
        "coh": COH_MODES.get(mode or "", "Cost Optimization Hub's savings estimation mode could not be read."),
        "merge_rule": MERGE_RULE,
    }


def groups(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings by category and action, the largest total first (for the HTML and Markdown)."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        grouped[(f["category"] or "Other", f["action"])].append(f)
    out = [
        {"category": category, "action": action, "findings": items, "monthly_savings": dollars(_total(items)),
         "unpriced": sum(1 for f in items if f["monthly_savings"] is None)}
        for (category, action), items in grouped.items()
    ]
    return sorted(out, key=lambda g: (-Decimal(g["monthly_savings"]), g["category"], g["action"]))


GROUP_PREVIEW = 10  # findings per group on the report page; the rest load on demand
GROUP_PAGE = 50  # findings per "show more"
FINDING_ORDER = "monthly_savings_micros is null, monthly_savings_micros desc, check_id, resource_id"
# An organization's findings in ``finops.report.organization``'s order: by the savings as shown (cents,
# rounded half up as ``dollars`` does), then check, account and resource.
ORG_FINDING_ORDER = ("monthly_savings_micros is null, round(monthly_savings_micros / 10000.0) desc, check_id, "
                     "account_id, resource_id")


def group_findings(
    db: sqlite_utils.Database, review_id: str, category: str, action: str, offset: int, limit: int = GROUP_PAGE,
    *, organization: bool = False, account_id: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page of one group's findings, in the report's order, and how many the group has.

    The same rows, in the same order, as the group of ``groups(build_report(...)["findings"])``:
    the report page shows the first few and fetches the rest with this, without building the
    whole report again.
    """
    where = "review_id = ? and coalesce(kind, '') != ? and coalesce(nullif(category, ''), 'Other') = ? and action = ?"
    params = [review_id, COMMITMENT, category, action]
    if account_id is not None:  # an organization's report filtered to one account
        where += " and account_id = ?"
        params.append(account_id)
    order = ORG_FINDING_ORDER if organization else FINDING_ORDER
    total = next(iter(db.query(f"select count(*) as n from findings where {where}", params)))["n"]  # noqa: S608
    rows = finding_rows(db, f"{where} order by {order} limit ? offset ?",
                        [*params, max(limit, 0), max(offset, 0)])
    from finops import notes

    finding_notes = notes.finding_notes(db, review_id)
    for f in rows:
        f["operator_note"] = finding_notes.get(f["uid"], "")
    return rows, total


def _money(micros: int | None) -> str | None:
    return None if micros is None else dollars(from_micros(micros))


def _sum(values: list[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def spend(db: sqlite_utils.Database, review_id: str, summary: dict | None, *, by_account: bool = False
          ) -> dict[str, Any]:
    """Monthly totals, per service, per linked account and the daily trend; decimal strings. Per
    linked account when Cost Explorer named more than one, or always for an organization
    (``by_account``): its table gives each account the spend Cost Explorer gave it, even when that
    is the management account alone."""
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
    ] if summary and (summary["grouped_by_account"] or by_account) else []
    daily = [
        {"date": row["day"], "unblended": _money(row["unblended_micros"]), "estimated": bool(row["estimated"]),
         "currency": row["currency"]}
        for row in db.query("select * from spend_daily where review_id = ? order by day", [review_id])
    ]
    return {
        "currency": currency,
        "trend": trend(rows, [m["start"] for m in by_month if m["full_month"]][-TREND_MONTHS:]),
        "period": {"start": summary["spend_start"], "end": summary["spend_end"]} if summary else None,
        "daily_period": {"start": summary["daily_start"], "end": summary["daily_end"]} if summary else None,
        "total_unblended": _money(sum(r["unblended_micros"] for r in rows)),
        "last_full_month": last_full[:7] if last_full else None,
        "by_month": by_month,
        "by_service": by_service,
        "by_account": by_account,
        "daily": daily,
    }


TREND_MONTHS = 12
TREND_SERVICES = 5
OTHER_SERVICES = "Other services"


def trend(rows: list[dict], months: list[str]) -> dict[str, Any]:
    """Monthly spend of the top services (over those months) and the rest, for the stacked chart."""
    wanted = set(months)
    per_service: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        if row["period_start"] in wanted:
            per_service[row["service"] or OTHER_SERVICES][row["period_start"]] += row["unblended_micros"]
    ranked = sorted(per_service, key=lambda name: (-sum(per_service[name].values()), name))
    top = [name for name in ranked if name != OTHER_SERVICES][:TREND_SERVICES]
    rest = [name for name in ranked if name not in top]
    series = [{"service": name, "values": [_money(per_service[name][m]) for m in months]} for name in top]
    if rest:
        series.append({"service": OTHER_SERVICES,
                       "values": [_money(sum(per_service[name][m] for name in rest)) for m in months]})
    totals = [_money(sum(per_service[name][m] for name in per_service)) for m in months]
    return {"months": [m[:7] for m in months], "series": series, "totals": totals}


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


def _identifiers(rec: dict[str, Any]) -> set[str]:
    """The ids a COH recommendation names its resource by: id, ARN and the ARN's last part."""
    tail = (rec["resource_arn"] or "").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return {rec["resource_id"], rec["resource_arn"], tail} - {"", None}


def cost_recommendations(
    db: sqlite_utils.Database, review_id: str, summary: dict | None, findings: list[dict[str, Any]],
    commitments: list[dict[str, Any]], account_id: str | None, regions: list[str],
) -> dict[str, Any]:
    """Cost Optimization Hub as its own panel, saying where each recommendation went.

    Each recommendation is either merged into a native finding (COH's figure shown beside ours),
    a finding of its own, a commitment, or outside this review's scope (another account or an
    unscanned region): so no figure is read twice. COH's de-duplicated total is shown apart.
    """
    rows = list(db.query(
        "select * from cost_recommendations where review_id = ? "
        "order by estimated_monthly_savings_micros desc, resource_id, recommendation_id",
        [review_id],
    ))
    return _recommendations(rows, summary, findings, commitments, account_id, regions)


def _recommendations(
    rows: list[dict[str, Any]], summary: dict | None, findings: list[dict[str, Any]],
    commitments: list[dict[str, Any]], account_id: str | None, regions: list[str],
) -> dict[str, Any]:
    # Every finding and alternative COH contributed to, by the ids it names, in report order:
    # a recommendation goes to the first one naming its resource with the same action.
    candidates: dict[str, list[tuple[int, dict[str, Any], dict[str, Any] | None]]] = defaultdict(list)
    position = 0
    for f in [*findings, *commitments]:
        for alt in [None, *f["alternatives"]]:
            target = alt or f
            if COH in target["sources"]:
                for key in {target.get("resource_id") or f["resource_id"], target.get("resource_arn") or ""} - {""}:
                    candidates[key].append((position, f, alt))
            position += 1
    items = []
    for row in rows:
        rec = {
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
            "tags": json.loads(row["tags"] or "{}"),
        }
        in_scope = (not account_id or row["account_id"] in ("", account_id)) and (
            (row["region"] or "global").lower() == "global" or not regions or row["region"] in regions
        )
        placement, finding_uid = "out_of_scope", None
        if in_scope:
            placement = "not_found"
            named = {pos: (finding, alt) for key in _identifiers(rec) for pos, finding, alt in candidates.get(key, ())}
            for pos in sorted(named):
                finding, alt = named[pos]
                if (alt or finding)["action"] == rec["action_type"]:
                    finding_uid = finding["uid"]
                    if alt is not None:
                        placement = "alternative"
                    elif finding["kind"] == COMMITMENT:
                        placement = "commitment"
                    elif NATIVE in finding["sources"]:
                        placement = "merged"
                    else:
                        placement = "finding"
                    break
        rec.update(in_scope=in_scope, placement=placement, finding=finding_uid,
                   native_finding=finding_uid if placement == "merged" else None)
        items.append(rec)
    counts: dict[str, int] = defaultdict(int)
    for rec in items:
        counts[rec["placement"]] += 1
    return {
        "enrollment": summary["coh_enrollment"] if summary else None,
        "savings_estimation_mode": summary["coh_savings_estimation_mode"] if summary else None,
        "currency": (summary["coh_currency"] if summary else None) or "USD",
        "deduped_monthly_savings": _money(summary["coh_deduped_savings_micros"]) if summary else None,
        "commitment_monthly_savings": _money(summary["coh_commitment_savings_micros"]) if summary else None,
        "placements": dict(counts),
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


