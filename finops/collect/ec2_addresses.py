"""Elastic IPs: association, instance, network interface, address pool, network border group.

``public_ipv4_pool`` is ``"amazon"`` for an address from Amazon's pool (billed per hour); any
other pool id is the customer's own range (BYOIP), which AWS does not bill as public IPv4.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.collect import CollectContext, collector, tags_dict
from finops.models import InventoryItem


@collector(
    "ec2.addresses",
    service="ec2",
    resource_type="ec2:elastic-ip",
    title="Elastic IPs",
    operations=("DescribeAddresses",),
    iam_actions=("ec2:DescribeAddresses",),
)
def collect_addresses(ctx: CollectContext) -> Iterator[InventoryItem]:
    # DescribeAddresses is not paginated by AWS: one call returns every address in the region.
    for addr in ctx.client("ec2").describe_addresses().get("Addresses", []):
        allocation_id = addr.get("AllocationId") or addr.get("PublicIp")
        yield InventoryItem(
            collector="ec2.addresses",
            resource_type="ec2:elastic-ip",
            account_id=ctx.account_id,
            region=ctx.region,
            resource_id=allocation_id,
            arn=f"arn:aws:ec2:{ctx.region}:{ctx.account_id}:elastic-ip/{allocation_id}",
            data={
                "public_ip": addr.get("PublicIp"),
                "allocation_id": addr.get("AllocationId"),
                "association_id": addr.get("AssociationId"),
                "instance_id": addr.get("InstanceId"),
                "network_interface_id": addr.get("NetworkInterfaceId"),
                "domain": addr.get("Domain"),
                "public_ipv4_pool": addr.get("PublicIpv4Pool"),
                "network_border_group": addr.get("NetworkBorderGroup"),
                "tags": tags_dict(addr.get("Tags")),
            },
        )
