"""Savings Plans of the account, in every state (global read, from us-east-1).

Savings Plans is a global service. DescribeSavingsPlans has no botocore paginator, so
``nextToken`` is followed by hand. An EC2 Instance Savings Plan belongs to one region (the item's
region); a Compute, SageMaker or Database plan applies everywhere (region ``"global"``). Plans
are kept whatever their region: a commitment is paid for whether or not this review scans where
it applies. Amounts are decimal strings in ``currency``, as AWS sends them (``commitment_per_hour``
is the hourly commitment); ``start``/``end`` are ISO 8601, ``term_seconds`` the term.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.collect import CollectContext, collector, iso, paginate_tokens
from finops.models import InventoryItem
from finops.money import decimal_text


@collector(
    "savingsplans.plans",
    service="savingsplans",
    resource_type="savingsplans:savings-plan",
    title="Savings Plans",
    operations=("DescribeSavingsPlans",),
    iam_actions=("savingsplans:DescribeSavingsPlans",),
    scope="global",
)
def collect_savings_plans(ctx: CollectContext) -> Iterator[InventoryItem]:
    client = ctx.client("savingsplans")
    for plan in paginate_tokens(client.describe_savings_plans, "savingsPlans", "nextToken", maxResults=1000):
        plan_id = plan["savingsPlanId"]
        yield InventoryItem(
            collector="savingsplans.plans",
            resource_type="savingsplans:savings-plan",
            account_id=ctx.account_id,
            region=plan.get("region") or "global",
            resource_id=plan_id,
            arn=plan.get("savingsPlanArn") or f"arn:aws:savingsplans::{ctx.account_id}:savingsplan/{plan_id}",
            data={
                "plan_type": plan.get("savingsPlanType"),
                "payment_option": plan.get("paymentOption"),
                "commitment_per_hour": decimal_text(plan.get("commitment")),
                "upfront_payment": decimal_text(plan.get("upfrontPaymentAmount")),
                "recurring_payment": decimal_text(plan.get("recurringPaymentAmount")),
                "currency": plan.get("currency"),
                "start": iso(plan.get("start")),
                "end": iso(plan.get("end")),
                "state": plan.get("state"),
                "term_seconds": plan.get("termDurationInSeconds"),
                "ec2_instance_family": plan.get("ec2InstanceFamily"),
                "product_types": plan.get("productTypes", []),
            },
        )
