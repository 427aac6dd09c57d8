"""Merge every check's findings into what the report counts. Pure: findings in, findings out.

The rules, in order (the README and the report state them too):

1. **Commitments apart.** Savings Plans / Reserved Instance purchases and renewals go to
   ``commitments``, never into the usage total. Purchase recommendations overlap each other
   (the same on-demand spend can be covered by a Savings Plan or by Reserved Instances), so of
   all purchases for an account one is counted and the others are its alternatives.
2. **Capped by what was billed.** Where resource-level Cost Explorer data has the resource's
   actual cost, a usage saving is capped at its monthly run rate (14-day cost x 730 / 336), and
   the finding says so.
3. **One counted opportunity per resource.** Of several findings on the same resource, a finding
   that removes it (Delete) wins; otherwise the largest saving with High or Medium confidence;
   otherwise the largest saving; otherwise (nothing priced) one is shown unpriced. The others
   become its ``alternatives``, listed with their own figures and never counted.
4. **Covered resources.** A counted finding that includes other resources' cost (a stopped
   instance's volumes and addresses, an unused AMI's snapshots) takes their findings as
   alternatives too: the instance is named, its volumes are not counted again.
5. **Cost Optimization Hub merged per resource.** A COH recommendation on a resource a native
   check also flags with the same action joins that finding: both sources are named, COH's
   figure is shown beside ours (``coh``), and a Low-confidence finding becomes Medium (two
   independent sources agree). When COH proposes another action it is an alternative. A COH
   recommendation no native check matches is a finding of its own with COH's figures.
6. Amounts are rounded to cents before anything is added, so ``totals.monthly_savings`` equals
   the sum of ``findings[].monthly_savings`` exactly. Unpriced findings are never added.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from finops.checks.context import monthly_run_rate
from finops.models import COH, COMMITMENT, COMMITMENT_ACTIONS, NATIVE, Finding, ResourceCost
from finops.money import CENT

REMOVES_RESOURCE = ("Delete",)
WELL_EVIDENCED = ("High", "Medium")
MERGE_RULE = (
    "One counted opportunity per resource: a finding that removes the resource (Delete) wins; otherwise the "
    "largest saving with High or Medium confidence; otherwise the largest saving. The others are listed as "
    "alternatives and never added. A finding that includes other resources' cost (a stopped instance's "
    "volumes) takes their findings as alternatives. Commitments are totalled apart, and of overlapping "
    "purchase recommendations only the largest is counted."
)


@dataclass
class MergeResult:
    findings: list[Finding] = field(default_factory=list)  # usage: counted and unpriced, one per resource
    commitments: list[Finding] = field(default_factory=list)

    @property
    def monthly_savings(self) -> Decimal:
        return sum((f.monthly_savings for f in self.findings if f.counted and f.monthly_savings is not None),
                   Decimal(0))

    @property
    def commitment_monthly_savings(self) -> Decimal:
        return sum((f.monthly_savings for f in self.commitments if f.counted and f.monthly_savings is not None),
                   Decimal(0))


def cents(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else amount.quantize(CENT, rounding=ROUND_HALF_UP)


def resource_key(finding: Finding) -> tuple[str, str, str]:
    return (finding.account_id, finding.region, finding.resource_id)


def merge(findings: Iterable[Finding], resource_costs: Iterable[ResourceCost] = ()) -> MergeResult:
    costs = _cost_index(resource_costs)
    usage: list[Finding] = []
    commitments: list[Finding] = []
    for finding in findings:
        finding = _rounded(finding)
        if finding.kind == COMMITMENT:
            commitments.append(finding)
        else:
            usage.append(_capped(finding, costs))

    groups: dict[tuple[str, str, str], list[Finding]] = defaultdict(list)
    for finding in usage:
        groups[resource_key(finding)].append(finding)
    chosen: dict[tuple[str, str, str], Finding] = {key: _combine(group) for key, group in groups.items()}

    # Rule 4: resources whose cost a counted finding already includes are not counted again.
    covering: dict[tuple[str, str, str], tuple[str, str, str]] = {}
    for key, finding in chosen.items():
        if finding.counted:
            for resource_id in finding.covers:
                covered = (finding.account_id, finding.region, resource_id)
                if covered in chosen and covered != key:
                    covering.setdefault(covered, key)
    for covered, owner in sorted(covering.items()):
        if owner in covering:  # the owner is itself covered: keep the chain flat, count neither twice
            continue
        demoted = chosen.pop(covered)
        host = chosen[owner]
        chosen[owner] = replace(host, alternatives=(*host.alternatives, *_as_alternatives([demoted], host)))

    return MergeResult(
        findings=sorted(chosen.values(), key=_order),
        commitments=sorted(_combine_commitments(commitments), key=_order),
    )


def _order(finding: Finding) -> tuple:
    return (finding.monthly_savings is None, -(finding.monthly_savings or 0), finding.check_id, finding.resource_id)


def _in_cents(amount: Decimal | None) -> bool:
    return amount is None or amount.as_tuple().exponent == -2


def _rounded(finding: Finding) -> Finding:
    if _in_cents(finding.monthly_savings) and _in_cents(finding.current_monthly_cost):
        return finding  # already in cents
    return replace(finding, monthly_savings=cents(finding.monthly_savings),
                   current_monthly_cost=cents(finding.current_monthly_cost))


def _cost_index(resource_costs: Iterable[ResourceCost]) -> dict[str, ResourceCost]:
    index: dict[str, ResourceCost] = {}
    for cost in resource_costs:
        index.setdefault(cost.resource_id, cost)
        index.setdefault(cost.resource_id.rsplit("/", 1)[-1].rsplit(":", 1)[-1], cost)
    return index


def _capped(finding: Finding, costs: dict[str, ResourceCost]) -> Finding:
    """Rule 2: never claim more than the resource was actually billed at its current run rate."""
    if not finding.counted or finding.monthly_savings is None:
        return finding
    cost = costs.get(finding.resource_arn) if finding.resource_arn else None
    cost = cost or costs.get(finding.resource_id)
    if cost is None:
        return finding
    run_rate = cents(monthly_run_rate(cost.cost))
    assert run_rate is not None
    if finding.monthly_savings <= run_rate:
        return replace(finding, evidence={**finding.evidence, "actual_cost": _actual(cost, run_rate)})
    return replace(
        finding,
        monthly_savings=run_rate,
        capped={
            "estimate": str(finding.monthly_savings), "run_rate": str(run_rate), **_actual(cost, run_rate),
            "sentence": (
                f"Capped at the resource's actual run rate: ${cost.cost} billed from {cost.start} to {cost.end} "
                f"(Cost Explorer resource-level data) x 730 / 336 = ${run_rate} a month, below the list-price "
                f"estimate of ${finding.monthly_savings}."
            ),
        },
    )


def _actual(cost: ResourceCost, run_rate: Decimal) -> dict[str, Any]:
    return {"cost_14d": str(cost.cost), "period_start": cost.start, "period_end": cost.end,
            "monthly_run_rate": str(run_rate), "service": cost.service}


def _rank(finding: Finding) -> tuple:
    """Higher ranks first: removal, then well-evidenced priced savings, then any priced, then unpriced."""
    priced = finding.counted and finding.monthly_savings is not None
    return (
        finding.action in REMOVES_RESOURCE,
        priced and finding.confidence in WELL_EVIDENCED,
        priced,
        finding.monthly_savings or Decimal(0),
        NATIVE in finding.sources,  # on a tie, our own figure (it carries its price lines)
        finding.check_id,
    )


def _combine(group: list[Finding]) -> Finding:
    """Rules 3 and 5 for one resource."""
    natives = [f for f in group if NATIVE in f.sources]
    rest: list[Finding] = []
    for finding in group:
        if finding.sources != (COH,):
            continue
        same = next((n for n in natives if n.action == finding.action and n.coh_comparable), None)
        if same is None:
            rest.append(finding)
            continue
        # Same action from both: our figure is counted, COH's is shown beside it, and two
        # independent sources agreeing make the finding at least Medium confidence.
        confidence = same.confidence if same.confidence in WELL_EVIDENCED else "Medium"
        merged = replace(same, sources=(*same.sources, COH), coh=finding.coh or _coh_figure(finding),
                         confidence=confidence)
        natives[natives.index(same)] = merged
    ordered = sorted([*natives, *rest], key=_rank, reverse=True)
    winner, others = ordered[0], ordered[1:]
    if not others:
        return winner
    return replace(winner, alternatives=(*winner.alternatives, *_as_alternatives(others, winner)))


def _coh_figure(finding: Finding) -> dict[str, Any]:
    return {"action": finding.action, "monthly_savings": str(finding.monthly_savings),
            "recommended": finding.recommended}


def _as_alternatives(findings: list[Finding], counted: Finding) -> list[dict[str, Any]]:
    """Findings not counted, as alternatives of ``counted`` (their own alternatives come along, flat)."""
    out: list[dict[str, Any]] = []
    for f in findings:
        out.append({
            "uid": f.uid, "check_id": f.check_id, "title": f.title, "action": f.action,
            "resource_id": f.resource_id, "resource_type": f.resource_type,
            "monthly_savings": None if f.monthly_savings is None else str(f.monthly_savings),
            "current_monthly_cost": None if f.current_monthly_cost is None else str(f.current_monthly_cost),
            "recommended": f.recommended, "confidence": f.confidence, "effort": f.effort,
            "price_status": f.price_status, "price_note": f.price_note, "sources": list(f.sources),
            "remediation": f.remediation, "formula": f.formula,
            "why_not_counted": (
                f"its cost is part of the counted finding on {counted.resource_id}"
                if f.resource_id != counted.resource_id
                else "another finding on the same resource is counted instead"
            ),
        })
        out.extend(f.alternatives)
    return out


def _combine_commitments(commitments: list[Finding]) -> list[Finding]:
    """Rule 1: overlapping purchase recommendations count once per account; renewals each count."""
    purchases: dict[str, list[Finding]] = defaultdict(list)
    out: list[Finding] = []
    seen: set[str] = set()
    for finding in commitments:
        if finding.uid in seen:
            continue
        seen.add(finding.uid)
        if finding.action in COMMITMENT_ACTIONS and finding.check_id.startswith("coh_"):
            purchases[finding.account_id].append(finding)
        else:
            out.append(finding)
    for group in purchases.values():
        ordered = sorted(group, key=_rank, reverse=True)
        winner = ordered[0]
        out.append(replace(winner, alternatives=(*winner.alternatives, *_purchase_alternatives(ordered[1:]))))
    return out


def _purchase_alternatives(findings: list[Finding]) -> list[dict[str, Any]]:
    out = _as_alternatives(findings, findings[0]) if findings else []
    for entry in out:
        entry["why_not_counted"] = "commitment purchases overlap: only the largest is counted"
    return out
