"""The report as Markdown: what a consultant pastes into a proposal. Every untrusted value escaped."""

from __future__ import annotations

from typing import Any

from finops.markup import for_markdown_export
from finops.money import display
from finops.report.escape import md_code_block, md_escape
from finops.report.loader import STATUS_WORDS, groups, source_title


def _usd(value: Any, unpriced: str = "unavailable") -> str:
    """A decimal string as money, with thousands separators, escaped for Markdown."""
    return unpriced if value is None else md_escape(display(value))


def _saving(finding: dict[str, Any]) -> str:
    return _usd(finding["monthly_savings"], "not estimated" if finding["price_status"] == "not_estimated"
                else "unavailable")


def _name(finding: dict[str, Any]) -> str:
    name = finding.get("resource_name")
    return f" ({md_escape(name)})" if name and name != finding["resource_id"] else ""


def to_markdown(report: dict[str, Any]) -> str:
    t = report["totals"]
    organization = report.get("scope") == "organization"
    title = (
        f"# AWS savings review for organization {md_escape(report['organization_id'])} "
        f"(management account {md_escape(report['account_id'])})"
        if organization else f"# AWS savings review for account {md_escape(report['account_id'])}"
    )
    lines = [
        title,
        "",
        f"- Status: {md_escape(report['status'])}",
        f"- Regions scanned: {md_escape(', '.join(report['regions']))}",
        f"- Usage savings: **{_usd(t['monthly_savings'])} per month** ({_usd(t['annual_savings'])} per year), "
        f"{t['priced_findings']} priced finding(s)"
        + (f", {t['unpriced_findings']} more shown without a price" if t.get("unpriced_findings") else ""),
        f"- Commitments (apart, never added to the above): {_usd(t['commitment_monthly_savings'])} per month, "
        f"{t['commitments']} item(s)",
        f"- Report expires: {md_escape(report['expires_at'])}",
        "",
        md_escape(report["price_basis"]["native"]) + " " + md_escape(report["price_basis"]["coh"]),
        "",
    ]
    lines += _accounts(report)
    lines += _executive_summary(report)
    if report["gaps"]:
        lines += ["## What could not be read", ""]
        lines += [f"- {md_escape(gap)}" for gap in report["gaps"]]
        lines.append("")
    if report.get("not_evaluated"):
        lines += ["## What was not evaluated", ""]
        lines += [f"- {md_escape(sentence)}" for sentence in report["not_evaluated"]]
        lines.append("")
    lines += ["## Savings opportunities", ""]
    if report["findings"]:
        account_column = ("| Account ", "|---") if organization else ("", "")
        lines += [f"| Finding {account_column[0]}| Resource | Region | Action | Monthly savings | Confidence |",
                  f"|---{account_column[1]}|---|---|---|---:|---|"]
        for f in report["findings"]:
            account = f"| {md_escape(f['account_id'])} " if organization else ""
            lines.append(
                f"| {md_escape(f['title'])} {account}| {md_escape(f['resource_id'])}"
                + _name(f)
                + f" | {md_escape(f['region'])} | {md_escape(f['action'])} | {_saving(f)} "
                f"| {md_escape(f['confidence'])} |"
            )
        lines.append("")
        for group in groups(report["findings"]):
            lines += [f"### {md_escape(group['category'])}: {md_escape(group['action'])} "
                      f"({_usd(group['monthly_savings'])} per month)", ""]
            for f in group["findings"]:
                lines += _finding(f)
    else:
        lines.append("No savings opportunities were found in what could be read.")
    lines += _commitments(report)
    lines += _thresholds(report)
    lines += _markdown_costs(report)
    account_column = ("Account | ", "---|") if organization else ("", "")
    lines += ["", "## Coverage", "", f"| {account_column[0]}Source | Region | Result | API calls | Retries |",
              f"|{account_column[1]}---|---|---|---:|---:|"]
    for c in report["coverage"]:
        if c["source"].startswith("check:"):
            continue
        account = f"{md_escape(c['account_id'])} | " if organization else ""
        lines.append(
            f"| {account}{md_escape(source_title(c['source']))} | {md_escape(c['region'])} | "
            f"{md_escape(STATUS_WORDS.get(c['status'], c['status']))} | {c['api_calls']} | {c['retries']} |"
        )
    return "\n".join(lines) + "\n"


ACCOUNT_STATUS_WORDS = {"complete": "read", "partial": "partly read", "failed": "not read", "skipped": "not scanned"}


def _accounts(report: dict[str, Any]) -> list[str]:
    """An organization review's per-account table; every account that was not read, with why."""
    accounts = report.get("accounts") or []
    if not accounts:
        return []
    lines = ["## Accounts", "",
             "| Account | Name | Result | Spend (Cost Explorer) | Monthly savings | Findings | Reads completed |",
             "|---|---|---|---:|---:|---:|---|"]
    for a in accounts:
        role = " (management)" if a["management"] else ""
        cov = a["coverage"]
        reads = f"{cov['reads_ok']} of {cov['reads']}" if cov["reads"] else "-"
        lines.append(
            f"| {md_escape(a['account_id'])}{role} | {md_escape(a['name'])} "
            f"| {md_escape(ACCOUNT_STATUS_WORDS.get(a['status'], a['status']))} | {_usd(a.get('spend'), '-')} "
            f"| {_usd(a['monthly_savings'])} "
            f"| {a['findings']} | {reads} |"
        )
    lines.append("")
    reasons = [a["reason"] for a in accounts if a["reason"]]
    if reasons:
        lines += [f"- {md_escape(reason)}" for reason in reasons]
        lines.append("")
    return lines


def _finding(f: dict[str, Any]) -> list[str]:
    name = _name(f)
    lines = [
        f"#### {md_escape(f['title'])}: {_saving(f)} per month",
        "",
        f"- Resource: {md_escape(f['resource_id'])}{name}, {md_escape(f['region'])}, account "
        f"{md_escape(f['account_id'])}",
        f"- Recommended: {md_escape(f['recommended'])}",
        f"- Confidence {md_escape(f['confidence'])}; effort {md_escape(f['effort'])}; "
        f"restart {'needed' if f['restart_needed'] else 'not needed'}; "
        f"rollback {'possible' if f['rollback_possible'] else 'not possible'}; "
        f"source: {md_escape(' + '.join(f['sources']))}",
    ]
    if f["current_monthly_cost"] is not None:
        lines.append(f"- Costs now: {_usd(f['current_monthly_cost'])} per month")
    if f["price_status"] != "priced":
        lines.append(f"- Not priced: {md_escape(f['price_note'])}")
    if f.get("formula"):
        lines.append(f"- Formula: {md_escape(f['formula'])}")
    for line in f["price_lines"]:
        lines.append(
            f"  - {md_escape(line['role'])}: {md_escape(line['item'])}: {md_escape(line['quantity'])} "
            f"{md_escape(line['unit'])} x ${md_escape(line['unit_price'])} = ${md_escape(line['amount'])} "
            f"({md_escape(line['usage_type'])}, {md_escape(line['region'])}, effective "
            f"{md_escape(line['effective_date'])}, source: {md_escape(line['source_title'] or line['source'])})"
        )
    for metric in (f["evidence"].get("metrics") or {}).values():
        lines.append(
            f"- Evidence: {md_escape(metric.get('metric'))} over {md_escape(metric.get('lookback_days'))} days "
            f"({md_escape(metric.get('days_with_data'))} with data): max {md_escape(metric.get('max'))}, "
            f"average {md_escape(metric.get('avg'))}, p95 {md_escape(metric.get('p95'))}"
        )
    if f.get("capped"):
        lines.append(f"- {md_escape(f['capped'].get('sentence'))}")
    if f.get("coh"):
        lines.append(
            f"- Cost Optimization Hub also recommends {md_escape(f['coh'].get('action'))}: "
            f"{_usd(f['coh'].get('monthly_savings'))} per month by its own estimate (not added)"
        )
    for alt in f["alternatives"]:
        lines.append(
            f"- Alternative (not counted: {md_escape(alt['why_not_counted'])}): {md_escape(alt['title'])}, "
            f"{_usd(alt['monthly_savings'])} per month"
        )
    if f["remediation"]:
        lines += ["", "You can run (FinOps Pack never changes anything itself):", "",
                  *md_code_block(f["remediation"], "sh")]
    if f.get("operator_note"):
        lines += ["", "Your consultant's note:", "",
                  *(f"> {line}" for line in for_markdown_export(f["operator_note"]).splitlines())]
    lines.append("")
    return lines


def _executive_summary(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    note = (report.get("notes") or {}).get("summary")
    if note:
        lines += ["## Summary from your consultant", "", for_markdown_export(note), ""]
    summary = report.get("executive_summary") or {}
    if summary.get("top_actions"):
        lines += ["## Top actions", "", "| Action | Resource | Region | Monthly savings | Effort |",
                  "|---|---|---|---:|---|"]
        for a in summary["top_actions"]:
            named = f" ({md_escape(a['resource_name'])})" if a.get("resource_name") else ""
            lines.append(f"| {md_escape(a['title'])} | {md_escape(a['resource_id'])}{named} | {md_escape(a['region'])} "
                         f"| {_usd(a['monthly_savings'])} | {md_escape(a['effort'])} |")
        lines.append("")
    if summary.get("by_category"):
        lines += ["## Savings by category", "", "| Category | Monthly savings | Findings |", "|---|---:|---:|"]
        for c in summary["by_category"]:
            lines.append(f"| {md_escape(c['category'])} | {_usd(c['monthly_savings'])} | {c['findings']} |")
        lines.append("")
    return lines


def _commitments(report: dict[str, Any]) -> list[str]:
    items = report.get("commitments") or []
    if not items:
        return []
    lines = ["", "## Commitments", "",
             "Savings Plans and Reserved Instances, totalled apart: "
             f"{_usd(report['totals']['commitment_monthly_savings'])} "
             "per month. Never added to the usage savings above (a commitment and a rightsizing on the same spend "
             "do not add up).", ""]
    for f in items:
        lines += _finding(f)
    return lines


def _thresholds(report: dict[str, Any]) -> list[str]:
    rows = report.get("thresholds") or []
    if not rows:
        return []
    lines = ["", "## Thresholds used", "", "| Threshold | Value | Default | Meaning |", "|---|---|---|---|"]
    for t in rows:
        lines.append(
            f"| {md_escape(t['name'])} | {md_escape(_value(t['value']))} {md_escape(t['unit'])} "
            f"| {md_escape(_value(t['default']))} | {md_escape(t['description'])} |"
        )
    return lines


def _value(value: Any) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)


def _markdown_costs(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    recs = report.get("cost_recommendations") or {}
    if recs.get("items"):
        mode = recs.get("savings_estimation_mode")
        lines += [
            "", "## Cost Optimization Hub", "",
            f"AWS's de-duplicated estimate: {_usd(recs['deduped_monthly_savings'])} per month"
            f"{' (' + md_escape(mode) + ')' if mode else ''}, of which Savings Plans / Reserved Instance "
            f"purchases: {_usd(recs['commitment_monthly_savings'])}. Shown for reference: each recommendation "
            "below is already in the findings or commitments above (where it says so), never added twice.",
            "",
            "| Action | Resource | Region | Monthly savings | Where it is in this report |",
            "|---|---|---|---:|---|",
        ]
        for r in recs["items"]:
            lines.append(
                f"| {md_escape(r['action_type'])} | {md_escape(r['resource_id'])} | {md_escape(r['region'])} "
                f"| {_usd(r['estimated_monthly_savings'])} "
                f"| {md_escape(PLACEMENT_WORDS.get(r['placement'], r['placement']))} |"
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


PLACEMENT_WORDS = {
    "merged": "beside our own finding on the same resource",
    "finding": "a finding of its own (COH's figure)",
    "alternative": "an alternative to another finding on the resource",
    "commitment": "in Commitments",
    "out_of_scope": "another account or an unscanned region: left out",
    "not_found": "its resource is not in this account's inventory (deleted since AWS's last refresh): left out",
}
