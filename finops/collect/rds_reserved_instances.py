"""RDS reserved DB instances in every state, per region.

AWS gives a reservation's start and term (``Duration``, seconds), not its end: ``end`` is
``start + duration_s``. Prices are decimal strings in ``currency`` (``fixed_price`` upfront,
``usage_price`` hourly, ``recurring_charges`` the hourly charge of current offerings).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from finops.collect import CollectContext, collector, iso, paginate
from finops.models import InventoryItem
from finops.money import decimal_text


@collector(
    "rds.reserved_instances",
    service="rds",
    resource_type="rds:reserved-db-instance",
    title="RDS reserved DB instances",
    operations=("DescribeReservedDBInstances",),
    iam_actions=("rds:DescribeReservedDBInstances",),
)
def collect_reserved_db_instances(ctx: CollectContext) -> Iterator[InventoryItem]:
    pages = paginate(ctx.client("rds"), "describe_reserved_db_instances", "ReservedDBInstances", MaxRecords=100)
    for ri in pages:
        ri_id = ri["ReservedDBInstanceId"]
        start, duration = ri.get("StartTime"), ri.get("Duration")
        yield InventoryItem(
            collector="rds.reserved_instances",
            resource_type="rds:reserved-db-instance",
            account_id=ctx.account_id,
            region=ctx.region,
            resource_id=ri_id,
            arn=ri.get("ReservedDBInstanceArn") or f"arn:aws:rds:{ctx.region}:{ctx.account_id}:ri:{ri_id}",
            data={
                "db_instance_class": ri.get("DBInstanceClass"),
                "product_description": ri.get("ProductDescription"),
                "multi_az": ri.get("MultiAZ"),
                "count": ri.get("DBInstanceCount"),
                "start": iso(start),
                "end": iso(start + timedelta(seconds=duration)) if start and duration is not None else None,
                "duration_s": duration,
                "state": ri.get("State"),
                "offering_type": ri.get("OfferingType"),
                "fixed_price": decimal_text(ri.get("FixedPrice")),
                "usage_price": decimal_text(ri.get("UsagePrice")),
                "recurring_charges": [
                    {
                        "frequency": c.get("RecurringChargeFrequency"),
                        "amount": decimal_text(c.get("RecurringChargeAmount")),
                    }
                    for c in ri.get("RecurringCharges", [])
                ],
                "currency": ri.get("CurrencyCode"),
            },
        )
