"""Savings Plans ending soon: once they end, the usage they cover bills at On-Demand rates.

What that costs depends on how much of the plan is used and on which rates it covers, which only
Cost Explorer's Savings Plans utilisation reports show (paid requests FinOps Pack does not make).
So the finding is shown with the plan's own commitment (what it costs a month now) and no estimated
saving: it is a reminder to renew, counted in no total.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from finops.checks import check
from finops.checks._commitments import TERMS_TITLE, expiring
from finops.checks.context import CheckContext
from finops.models import COMMITMENT, Finding, PriceLine
from finops.money import HOURS_PER_MONTH


@check(
    title="Savings Plans ending soon",
    category="Commitments",
    service="savingsplans",
    resource_type="savingsplans:savings-plan",
    action="PurchaseSavingsPlans",
    kind=COMMITMENT,
    needs=("savingsplans.plans",),
    thresholds=("commitment_expiry_days",),
    effort="VeryLow",
    confidence="Low",
    global_items=True,
    rule="An active Savings Plan ending within `commitment_expiry_days` days (shown unpriced).",
    formula="commitment per hour x 730 (what the plan costs now); the saving of renewing is not estimated",
    remediation="aws savingsplans describe-savings-plans --savings-plan-ids {resource_id}",
    console="https://console.aws.amazon.com/costmanagement/home#/savings-plans/inventory",
)
def savings_plan_expiring(ctx: CheckContext) -> Iterator[Finding]:
    for plan in ctx.of("savingsplans.plans"):
        data = plan.data
        ending = expiring(ctx, data)
        if ending is None:
            continue
        end, left = ending
        try:
            hourly = Decimal(str(data.get("commitment_per_hour") or ""))
        except ArithmeticError:
            hourly = None
        lines = [] if hourly is None else [PriceLine(
            item=f"{data.get('plan_type') or 'Savings Plan'} commitment", role="current", price_key="",
            usage_type="savings-plan", unit_price=hourly, unit="Hrs", quantity=HOURS_PER_MONTH, region=plan.region,
            effective_date="", source="savings-plan-terms", source_title=TERMS_TITLE,
        )]
        yield ctx.finding(
            plan,
            title=f"{data.get('plan_type') or 'Savings Plan'} ({data.get('payment_option') or 'unknown payment'}) "
            f"ends on {end.date().isoformat()}",
            extra_lines=lines,
            current_cost=None if hourly is None else hourly * HOURS_PER_MONTH,
            not_estimated=(
                "the On-Demand cost of the usage this plan covers is only in Cost Explorer's Savings Plans "
                "utilisation reports, which FinOps Pack does not request; renew or replace it before it ends"
            ),
            recommended="Renew or replace it before it ends",
            evidence={"end": end.isoformat(), "days_left": round(left, 1), "plan_type": data.get("plan_type"),
                      "commitment_per_hour": data.get("commitment_per_hour"), "currency": data.get("currency")},
        )
