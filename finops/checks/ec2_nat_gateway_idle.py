"""Idle NAT gateway: billed every hour it exists, with its public IPv4 addresses, while carrying no traffic.

Evidence: the four CloudWatch byte counters of the gateway (``BytesOutToDestination``,
``BytesInFromSource``, ``BytesInFromDestination``, ``BytesOutToSource``, daily Sum) over the
metric lookback. A counter with no data points means no traffic (AWS publishes no zero points).
The gateway is idle when their total is at most ``nat_idle_max_gb`` GB (10^9 bytes), and only
if it existed for the whole lookback (created at least that many days ago), so the window
covers its life as it is now.

Priced as the NAT gateway hourly price x 730 plus, for each Elastic IP it holds from Amazon's
pool, the in-use public IPv4 hourly price x 730 (the remediation releases them after deleting
the gateway; their allocation ids are in ``covers``). Data processing is not counted: an idle
gateway processes next to nothing. Private NAT gateways hold no public address. Confidence High
when there was no traffic at all, Medium when some traffic below the threshold was seen (its
routes then point somewhere that still sends a little).

Skipped: gateways not ``available``, younger than the lookback, or whose metrics were not
collected. Route tables still pointing at a deleted gateway lose that route (a blackhole): remove
those routes too.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._ec2 import AMAZON_POOL, metrics_evidence
from finops.checks.context import CheckContext
from finops.models import Finding
from finops.money import HOURS_PER_MONTH

SERIES = ("BytesOutToDestination.Sum", "BytesInFromSource.Sum", "BytesInFromDestination.Sum", "BytesOutToSource.Sum")
BYTES_PER_GB = 10**9


@check(
    title="Idle NAT gateways",
    category="Networking",
    service="ec2",
    resource_type="ec2:natgateway",
    action="Delete",
    needs=("ec2.nat_gateways", "ec2.addresses", "cloudwatch.metrics"),
    prices=("nat.hours", "vpc.public_ipv4.in_use"),
    thresholds=("nat_idle_max_gb",),
    effort="Low",
    restart_needed=False,
    rollback_possible=False,
    confidence="High",
    rule=(
        "State `available`, created before the metric lookback began, and at most `nat_idle_max_gb` GB through "
        "its four byte counters over the lookback."
    ),
    formula="NAT gateway hourly price x 730 + each Amazon-pool Elastic IP x in-use public IPv4 hourly price x 730",
    remediation=(
        "allocations=$(aws ec2 describe-nat-gateways --region {region} --nat-gateway-ids {resource_id} "
        "--query 'NatGateways[0].NatGatewayAddresses[].AllocationId' --output text) && "
        "aws ec2 delete-nat-gateway --region {region} --nat-gateway-id {resource_id} && "
        "aws ec2 wait nat-gateway-deleted --region {region} --nat-gateway-ids {resource_id} && "
        "for allocation in $allocations; do aws ec2 release-address --region {region} "
        "--allocation-id \"$allocation\"; done"
    ),
    console="https://{region}.console.aws.amazon.com/vpcconsole/home?region={region}#NatGatewayDetails:natGatewayId={resource_id}",
)
def ec2_nat_gateway_idle(ctx: CheckContext) -> Iterator[Finding]:
    max_bytes = ctx.thresholds["nat_idle_max_gb"] * BYTES_PER_GB
    for nat in ctx.of("ec2.nat_gateways"):
        data = nat.data
        if data.get("state") != "available":
            continue
        counters = [ctx.metric(nat, key) for key in SERIES]
        if any(counter is None for counter in counters):
            continue  # not collected: no evidence either way
        lookback = max(counter.lookback_days for counter in counters if counter is not None)
        age = ctx.days_since(data.get("create_time"))
        if lookback <= 0 or age is None or age < lookback:
            continue
        total = sum(counter.sum for counter in counters if counter is not None)
        if total > max_bytes:
            continue
        addresses = ctx.addresses_of_nat(nat)
        current = ctx.bill().add("nat.hours", nat.region, HOURS_PER_MONTH, "NAT gateway, 730 hours")
        for address in addresses:
            if (address.data.get("public_ipv4_pool") or AMAZON_POOL) == AMAZON_POOL:
                current.add("vpc.public_ipv4.in_use", nat.region, HOURS_PER_MONTH,
                            f"{address.data.get('public_ip') or address.resource_id}: in-use public IPv4, 730 hours")
        traffic = "no traffic" if total == 0 else f"{total / BYTES_PER_GB:,.3f} GB"
        yield ctx.finding(
            nat,
            title=f"{(data.get('connectivity_type') or 'public').capitalize()} NAT gateway with {traffic} in "
                  f"{lookback} days",
            current=current,
            recommended="Delete the NAT gateway and release its Elastic IPs (and remove routes that point at it)",
            confidence="High" if total == 0 else "Medium",
            covers=[a.resource_id for a in addresses],
            evidence={
                "metrics": metrics_evidence(*counters), "total_bytes": total, "lookback_days": lookback,
                "threshold_gb": ctx.thresholds["nat_idle_max_gb"], "created": data.get("create_time"),
                "age_days": round(age, 1), "connectivity_type": data.get("connectivity_type"),
                "vpc_id": data.get("vpc_id"), "subnet_id": data.get("subnet_id"),
                "elastic_ips": [{"allocation_id": a.resource_id, "public_ip": a.data.get("public_ip"),
                                 "public_ipv4_pool": a.data.get("public_ipv4_pool") or AMAZON_POOL}
                                for a in addresses],
                "allocation_ids": data.get("allocation_ids"),
            },
        )
