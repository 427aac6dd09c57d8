"""Cost Optimization Hub PurchaseSavingsPlans recommendations: commitments, totalled apart from usage savings.

A commitment and a rightsizing on the same spend do not add up, so these never enter
``totals.monthly_savings``; overlapping purchase recommendations count once (the merge).
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._coh import coh_findings
from finops.checks.context import CheckContext
from finops.models import COH, COMMITMENT, Finding


@check(
    title="Savings Plans purchases Cost Optimization Hub recommends",
    category="Commitments",
    service="cost-optimization-hub",
    resource_type="any",
    action="PurchaseSavingsPlans",
    kind=COMMITMENT,
    needs=("coh.recommendations",),
    effort="VeryLow",
    confidence="Medium",
    sources=(COH,),
    global_items=True,
    rule="A Cost Optimization Hub recommendation of action `PurchaseSavingsPlans` for this account.",
    formula="Cost Optimization Hub's estimatedMonthlySavings for the commitment, as AWS computed it",
    console="https://console.aws.amazon.com/costmanagement/home#/cost-optimization-hub/recommendations",
)
def coh_purchase_savings_plans(ctx: CheckContext) -> Iterator[Finding]:
    yield from coh_findings(ctx, "PurchaseSavingsPlans")
