"""EC2 Reserved Instances in every state (active, payment-pending, retired, ...), per region.

DescribeReservedInstances is not paginated by AWS: one call returns every reservation of the
region. Prices are decimal strings in ``currency``: ``fixed_price`` is the upfront payment,
``usage_price`` the hourly usage charge (0 for current offerings, whose hourly charge is in
``recurring_charges``). ``duration_s`` is the term in seconds; ``start``/``end`` are ISO 8601.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.collect import CollectContext, arn, collector, iso
from finops.models import InventoryItem
from finops.money import decimal_text


@collector(
    "ec2.reserved_instances",
    service="ec2",
    resource_type="ec2:reserved-instances",
    title="EC2 Reserved Instances",
    operations=("DescribeReservedInstances",),
    iam_actions=("ec2:DescribeReservedInstances",),
)
def collect_reserved_instances(ctx: CollectContext) -> Iterator[InventoryItem]:
    for ri in ctx.client("ec2").describe_reserved_instances().get("ReservedInstances", []):
        ri_id = ri["ReservedInstancesId"]
        yield InventoryItem(
            collector="ec2.reserved_instances",
            resource_type="ec2:reserved-instances",
            account_id=ctx.account_id,
            region=ctx.region,
            resource_id=ri_id,
            arn=arn("ec2", ctx.region, ctx.account_id, f"reserved-instances/{ri_id}"),
            data={
                "instance_type": ri.get("InstanceType"),
                "instance_count": ri.get("InstanceCount"),
                "product_description": ri.get("ProductDescription"),
                "state": ri.get("State"),
                "start": iso(ri.get("Start")),
                "end": iso(ri.get("End")),
                "duration_s": ri.get("Duration"),
                "offering_class": ri.get("OfferingClass"),
                "offering_type": ri.get("OfferingType"),
                "scope": ri.get("Scope"),
                "availability_zone": ri.get("AvailabilityZone"),
                "instance_tenancy": ri.get("InstanceTenancy"),
                "fixed_price": decimal_text(ri.get("FixedPrice")),
                "usage_price": decimal_text(ri.get("UsagePrice")),
                "recurring_charges": [
                    {"frequency": c.get("Frequency"), "amount": decimal_text(c.get("Amount"))}
                    for c in ri.get("RecurringCharges", [])
                ],
                "currency": ri.get("CurrencyCode"),
            },
        )
