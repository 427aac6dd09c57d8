"""NAT gateways: state, connectivity type, VPC, subnet, public IPs, create time."""

from __future__ import annotations

from collections.abc import Iterator

from finops.collect import CollectContext, arn, collector, iso, paginate, tags_dict
from finops.models import InventoryItem


@collector(
    "ec2.nat_gateways",
    service="ec2",
    resource_type="ec2:natgateway",
    title="NAT gateways",
    operations=("DescribeNatGateways",),
    iam_actions=("ec2:DescribeNatGateways",),
)
def collect_nat_gateways(ctx: CollectContext) -> Iterator[InventoryItem]:
    for nat in paginate(ctx.client("ec2"), "describe_nat_gateways", "NatGateways", MaxResults=1000):
        nat_id = nat["NatGatewayId"]
        addresses = nat.get("NatGatewayAddresses", [])
        yield InventoryItem(
            collector="ec2.nat_gateways",
            resource_type="ec2:natgateway",
            account_id=ctx.account_id,
            region=ctx.region,
            resource_id=nat_id,
            arn=arn("ec2", ctx.region, ctx.account_id, f"natgateway/{nat_id}"),
            data={
                "state": nat.get("State"),
                "connectivity_type": nat.get("ConnectivityType") or "public",
                "vpc_id": nat.get("VpcId"),
                "subnet_id": nat.get("SubnetId"),
                "create_time": iso(nat.get("CreateTime")),
                "allocation_ids": [a["AllocationId"] for a in addresses if a.get("AllocationId")],
                "public_ips": [a["PublicIp"] for a in addresses if a.get("PublicIp")],
                "tags": tags_dict(nat.get("Tags")),
            },
        )
