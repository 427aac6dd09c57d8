"""Unassociated Elastic IP: every public IPv4 address is billed by the hour, used or idle."""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import Inventory, check
from finops.models import Finding
from finops.money import HOURS_PER_MONTH
from finops.pricing import PriceBook


@check(
    title="Unassociated Elastic IP",
    service="ec2",
    resource_type="ec2:elastic-ip",
    needs=("ec2.addresses",),
    severity="low",
    effort="very low",
    rollback_possible=False,
    remediation="aws ec2 release-address --region {region} --allocation-id {resource_id}",
)
def ec2_eip_unassociated(inventory: Inventory, prices: PriceBook) -> Iterator[Finding]:
    for addr in inventory.of("ec2.addresses"):
        data = addr.data
        if data.get("association_id") or data.get("instance_id") or data.get("network_interface_id"):
            continue
        hourly = prices.quote(addr.region, "vpc.public_ipv4.hour")
        yield Finding(
            check_id="ec2_eip_unassociated",
            title=f"Elastic IP {data.get('public_ip') or addr.resource_id} is not associated",
            resource_type=addr.resource_type,
            resource_id=addr.resource_id,
            region=addr.region,
            account_id=addr.account_id,
            monthly_savings=hourly.amount * HOURS_PER_MONTH,
            confidence="medium" if hourly.estimated else "high",
            evidence={
                "formula": "hourly public IPv4 price x 730 hours",
                "resource_name": (data.get("tags") or {}).get("Name"),
                "public_ip": data.get("public_ip"),
                "lines": [{"item": "public IPv4", "quantity": "730", "unit": "IP-hour", **hourly.evidence()}],
            },
        )
