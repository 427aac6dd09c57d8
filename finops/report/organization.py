"""One report for an organization, from the report model of each account that was read (pure).

The management account's report is the base: its spend (Cost Explorer, by linked account), its
Cost Optimization Hub panel and the cost of the review are the organization's, read once. To it:

- ``accounts[]``: one row per account (``finops.organization.AccountSummary.as_dict``), each
  account that could not be read named with the reason, plus ``spend`` (Cost Explorer's, by
  linked account, over ``spend.period``; null when Cost Explorer gave none for the account);
- ``findings[]`` and ``commitments[]`` of every account read, each carrying its ``account_id``;
  ``totals`` recomputed from them (``totals.monthly_savings`` is still exactly their sum);
- ``coverage[]`` of every account, each row with its ``account_id``; ``gaps`` name the account;
- a Cost Optimization Hub recommendation for a member account is placed where that member's
  report placed it (the management account's own report leaves it out as another account's).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from finops.models import CHECK_SOURCE_PREFIX, COMPLETE, COV_OK, PARTIAL, SKIPPED
from finops.money import dollars
from finops.report.loader import executive_summary


def _label(account: dict[str, Any]) -> str:
    return f"Account {account['account_id']}" + (f" ({account['name']})" if account.get("name") else "")


def _order(finding: dict[str, Any]) -> tuple:
    savings = finding["monthly_savings"]
    return (savings is None, -Decimal(savings or 0), finding["check_id"], finding["account_id"],
            finding["resource_id"])


def _total(findings: Sequence[dict[str, Any]]) -> Decimal:
    return sum((Decimal(f["monthly_savings"]) for f in findings if f["monthly_savings"] is not None), Decimal(0))


def organization_report(
    organization_id: str, accounts: Sequence[dict[str, Any]], reports: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """``accounts``: the per-account rows, management first; ``reports``: account id -> its report model."""
    management = next(a for a in accounts if a["management"])
    base = reports[management["account_id"]]
    # Each account's spend is Cost Explorer's, by linked account, as the management account read it
    # (over the report's spend period); None where Cost Explorer gave no figure for the account.
    spend = {row["account_id"]: row["unblended"] for row in base["spend"]["by_account"]}
    accounts = [{**a, "spend": spend.get(a["account_id"])} for a in accounts]
    read = [a for a in accounts if a["account_id"] in reports]
    findings: list[dict[str, Any]] = []
    commitments: list[dict[str, Any]] = []
    coverage: list[dict[str, Any]] = []
    gaps: list[str] = []
    not_evaluated: list[str] = []
    inventory: dict[str, dict[str, int]] = {}
    regions: set[str] = set()
    for account in read:
        report = reports[account["account_id"]]
        findings += report["findings"]
        commitments += report["commitments"]
        coverage += [{**row, "account_id": account["account_id"]} for row in report["coverage"]]
        gaps += [f"{_label(account)}: {gap}" for gap in report["gaps"]]
        not_evaluated += [f"{_label(account)}: {sentence}" for sentence in report["not_evaluated"]]
        regions.update(report["regions"])
        for resource_type, by_region in report["inventory"].items():
            for region, count in by_region.items():
                cell = inventory.setdefault(resource_type, {})
                cell[region] = cell.get(region, 0) + count
    gaps += [a["reason"] for a in accounts if a["account_id"] not in reports and a["status"] != SKIPPED]
    findings.sort(key=_order)
    commitments.sort(key=_order)
    reads = [c for c in coverage if not c["source"].startswith(CHECK_SOURCE_PREFIX)]
    usage_total, commitment_total = _total(findings), _total(commitments)
    recommendations = _placed_in_members(base["cost_recommendations"], reports, management["account_id"])
    status = PARTIAL if any(a["status"] not in (COMPLETE, SKIPPED) for a in accounts) else COMPLETE
    if any(c["status"] != COV_OK for c in reads):
        status = PARTIAL
    return {
        **base,
        "scope": "organization",
        "status": status,
        "organization_id": organization_id,
        "regions": sorted(regions),
        "accounts": list(accounts),
        "coverage": coverage,
        "gaps": gaps,
        "not_evaluated": not_evaluated,
        "inventory": {k: dict(sorted(v.items())) for k, v in sorted(inventory.items())},
        "findings": findings,
        "commitments": commitments,
        "totals": {
            **base["totals"],
            "monthly_savings": dollars(usage_total),
            "annual_savings": dollars(usage_total * 12),
            "findings": len(findings),
            "priced_findings": sum(1 for f in findings if f["monthly_savings"] is not None),
            "unpriced_findings": sum(1 for f in findings if f["monthly_savings"] is None),
            "commitment_monthly_savings": dollars(commitment_total),
            "commitments": len(commitments),
            "accounts": len(accounts),
            "accounts_read": len(read),
        },
        "cost_recommendations": recommendations,
        "notes": {"summary": base["notes"]["summary"],
                  "findings": {uid: note for r in reports.values() for uid, note in r["notes"]["findings"].items()}},
        "executive_summary": executive_summary(findings, commitments, gaps, reads),
    }


def _placed_in_members(panel: dict[str, Any], reports: dict[str, dict[str, Any]], management_id: str) -> dict:
    """COH's panel with each member account's recommendation placed as that member's report placed it."""
    placed = {
        item["recommendation_id"]: item
        for account_id, report in reports.items() if account_id != management_id
        for item in report["cost_recommendations"]["items"]
    }
    items = [placed.get(item["recommendation_id"], item) for item in panel["items"]]
    counts: dict[str, int] = {}
    for item in items:
        counts[item["placement"]] = counts.get(item["placement"], 0) + 1
    return {**panel, "items": items, "placements": counts}


def account_labels(accounts: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Account id -> how the report page names it: "123456789012 (Production)" (the name is the customer's)."""
    return {a["account_id"]: f"{a['account_id']} ({a['name']})" if a.get("name") else a["account_id"]
            for a in accounts}


def narrowed(report: dict[str, Any], account_id: str | None) -> dict[str, Any]:
    """What the report page shows of one account (``account_id`` None: every account): its findings,
    commitments and Cost Optimization Hub recommendations, and its usage savings (their sum)."""
    findings, commitments, panel = report["findings"], report["commitments"], report["cost_recommendations"]
    if account_id is not None:
        findings = [f for f in findings if f["account_id"] == account_id]
        commitments = [f for f in commitments if f["account_id"] == account_id]
        panel = {**panel, "items": [r for r in panel["items"] if r["account_id"] == account_id]}
    return {"findings": findings, "commitments": commitments, "recommendations": panel,
            "monthly_savings": dollars(_total(findings))}
