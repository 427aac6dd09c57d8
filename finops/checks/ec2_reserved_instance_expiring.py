"""EC2 Reserved Instances ending soon: once they end, the same instances bill at On-Demand rates.

The saving of renewing on the same terms = (On-Demand hourly - the reservation's effective hourly)
x 730 x instance count. The On-Demand side is the catalogue's Linux price of the instance type in
the reservation's region; other platforms, and dedicated tenancy, are shown unpriced. A renewal's
price may differ from the old one's: the figure assumes the same terms, and says so.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._commitments import effective_hourly, expiring, terms_line
from finops.checks.context import CheckContext
from finops.models import COMMITMENT, Finding
from finops.money import HOURS_PER_MONTH

LINUX = ("Linux/UNIX", "Linux/UNIX (Amazon VPC)")


@check(
    title="EC2 Reserved Instances ending soon",
    category="Commitments",
    service="ec2",
    resource_type="ec2:reserved-instances",
    action="PurchaseReservedInstances",
    kind=COMMITMENT,
    needs=("ec2.reserved_instances",),
    prices=("ec2.linux.*",),
    thresholds=("commitment_expiry_days",),
    effort="VeryLow",
    confidence="Medium",
    rule="An active reservation ending within `commitment_expiry_days` days.",
    formula="(On-Demand hourly - the reservation's effective hourly) x 730 x count, assuming a renewal on the "
    "same terms",
    remediation="aws ec2 describe-reserved-instances-offerings --region {region} --instance-type {instance_type} "
    "--offering-class {offering_class} --product-description {product}",
    console="https://{region}.console.aws.amazon.com/ec2/home?region={region}#ReservedInstances:",
)
def ec2_reserved_instance_expiring(ctx: CheckContext) -> Iterator[Finding]:
    for ri in ctx.of("ec2.reserved_instances"):
        data = ri.data
        ending = expiring(ctx, data)
        if ending is None:
            continue
        end, left = ending
        count = int(data.get("instance_count") or 1)
        instance_type = data.get("instance_type") or ""
        rate = effective_hourly(data)
        on_demand = ctx.bill("current").add(
            f"ec2.linux.{instance_type}", ri.region, HOURS_PER_MONTH * count,
            f"{count} x {instance_type} at On-Demand once the reservation ends",
        )
        unavailable = ""
        if data.get("product_description") not in LINUX or (data.get("instance_tenancy") or "default") != "default":
            unavailable = (f"the catalogue prices shared-tenancy Linux only, not {data.get('product_description')} "
                           f"({data.get('instance_tenancy') or 'default'} tenancy)")
        elif rate is None:
            unavailable = "the reservation's terms (upfront fee, term, hourly charges) are incomplete"
        lines = [] if rate is None else [terms_line(rate, count, ri.region, f"{count} x {instance_type} reserved")]
        savings = None
        if not unavailable and on_demand.total is not None and rate is not None:
            savings = on_demand.total - rate * HOURS_PER_MONTH * count
        yield ctx.finding(
            ri,
            title=f"{count} x {instance_type} reservation ends on {end.date().isoformat()}",
            current=on_demand,
            extra_lines=lines,
            savings=savings,
            unavailable=unavailable,
            recommended="Renew (or buy a Savings Plan) before it ends",
            evidence={"end": end.isoformat(), "days_left": round(left, 1), "instance_count": count,
                      "effective_hourly": None if rate is None else str(rate),
                      "offering_class": data.get("offering_class"), "offering_type": data.get("offering_type"),
                      "scope": data.get("scope")},
            remediation_args={"instance_type": instance_type,
                              "offering_class": data.get("offering_class") or "standard",
                              "product": data.get("product_description") or "Linux/UNIX"},
        )
