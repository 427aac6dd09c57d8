"""RDS Reserved DB Instances ending soon: once they end, the same databases bill at On-Demand rates.

Saving of renewing on the same terms = (On-Demand hourly - the reservation's effective hourly) x 730 x
count, On-Demand from the catalogue for the engine, class and deployment (Single-AZ / Multi-AZ).
Engines the catalogue does not price (Oracle, SQL Server) are shown unpriced.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._commitments import effective_hourly, expiring, terms_line
from finops.checks.context import CheckContext
from finops.models import COMMITMENT, Finding
from finops.money import HOURS_PER_MONTH

ENGINES = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mariadb",
           "aurora-postgresql": "aurora-postgresql", "aurora-mysql": "aurora-mysql", "aurora": "aurora-mysql"}


@check(
    title="RDS reserved DB instances ending soon",
    category="Commitments",
    service="rds",
    resource_type="rds:reserved-db-instance",
    action="PurchaseReservedInstances",
    kind=COMMITMENT,
    needs=("rds.reserved_instances",),
    prices=("rds.instance.*",),
    thresholds=("commitment_expiry_days",),
    effort="VeryLow",
    confidence="Medium",
    rule="An active reservation ending within `commitment_expiry_days` days.",
    formula="(On-Demand hourly - the reservation's effective hourly) x 730 x count, assuming a renewal on the "
    "same terms",
    remediation="aws rds describe-reserved-db-instances-offerings --region {region} --db-instance-class {db_class} "
    "--product-description {product}",
    console="https://{region}.console.aws.amazon.com/rds/home?region={region}#reserved-instances:",
)
def rds_reserved_instance_expiring(ctx: CheckContext) -> Iterator[Finding]:
    for ri in ctx.of("rds.reserved_instances"):
        data = ri.data
        ending = expiring(ctx, data)
        if ending is None:
            continue
        end, left = ending
        count = int(data.get("count") or 1)
        db_class = data.get("db_instance_class") or ""
        product = str(data.get("product_description") or "")
        engine = ENGINES.get(product.lower())
        az = "single" if engine and engine.startswith("aurora") else ("multi" if data.get("multi_az") else "single")
        rate = effective_hourly(data)
        on_demand = ctx.bill("current")
        unavailable = ""
        if engine is None:
            unavailable = f"On-Demand prices for {product or 'this engine'} are not in the price catalogue"
        else:
            on_demand.add(f"rds.instance.{engine}.{az}.{db_class}", ri.region, HOURS_PER_MONTH * count,
                          f"{count} x {db_class} {engine} {az}-AZ at On-Demand once the reservation ends")
        if not unavailable and rate is None:
            unavailable = "the reservation's terms (upfront fee, term, hourly charges) are incomplete"
        savings = None
        if not unavailable and on_demand.total is not None and rate is not None:
            savings = on_demand.total - rate * HOURS_PER_MONTH * count
        yield ctx.finding(
            ri,
            title=f"{count} x {db_class} ({product}) reservation ends on {end.date().isoformat()}",
            current=on_demand,
            extra_lines=[] if rate is None else [terms_line(rate, count, ri.region, f"{count} x {db_class} reserved")],
            savings=savings,
            unavailable=unavailable,
            recommended="Renew before it ends",
            evidence={"end": end.isoformat(), "days_left": round(left, 1), "count": count,
                      "multi_az": data.get("multi_az"),
                      "effective_hourly": None if rate is None else str(rate),
                      "offering_type": data.get("offering_type")},
            remediation_args={"db_class": db_class, "product": product},
        )
