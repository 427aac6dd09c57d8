"""Unassociated Elastic IP: every public IPv4 address is billed by the hour, used or idle.

Addresses brought to AWS (BYOIP pools) are not billed as Amazon-provided public IPv4 and are
left alone; an address on a stopped instance is part of that instance's finding.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks.context import CheckContext
from finops.models import Finding
from finops.money import HOURS_PER_MONTH

AMAZON_POOL = "amazon"


@check(
    title="Unassociated Elastic IPs",
    category="Networking",
    service="ec2",
    resource_type="ec2:elastic-ip",
    action="Delete",
    needs=("ec2.addresses",),
    prices=("vpc.public_ipv4.idle",),
    effort="VeryLow",
    rollback_possible=False,
    confidence="High",
    rule="No association, instance or network interface, from Amazon's pool (BYOIP addresses are skipped).",
    formula="idle public IPv4 hourly price x 730 hours",
    remediation="aws ec2 release-address --region {region} --allocation-id {resource_id}",
    console="https://{region}.console.aws.amazon.com/ec2/home?region={region}#Addresses:",
)
def ec2_eip_unassociated(ctx: CheckContext) -> Iterator[Finding]:
    for address in ctx.of("ec2.addresses"):
        data = address.data
        if data.get("association_id") or data.get("instance_id") or data.get("network_interface_id"):
            continue
        if (data.get("public_ipv4_pool") or AMAZON_POOL) != AMAZON_POOL:
            continue  # BYOIP
        yield ctx.finding(
            address,
            title=f"Elastic IP {data.get('public_ip') or address.resource_id} is not associated",
            current=ctx.bill().add(
                "vpc.public_ipv4.idle", address.region, HOURS_PER_MONTH, "idle public IPv4, 730 hours"
            ),
            recommended="Release the address",
            evidence={"public_ip": data.get("public_ip"), "domain": data.get("domain"),
                      "public_ipv4_pool": data.get("public_ipv4_pool") or AMAZON_POOL},
        )
