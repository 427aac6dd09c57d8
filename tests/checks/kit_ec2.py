"""Builders for the EC2, EBS and VPC checks' tests (the shared ones are in kit.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.checks.kit import ACCOUNT, TEST_PRICES, ago, item

HOURS = Decimal(730)


def hourly(instance_type: str) -> Decimal:
    """The us-east-1 test price of an instance type."""
    return Decimal(TEST_PRICES[f"ec2.linux.{instance_type}"][1])


def snapshot(snapshot_id: str = "snap-1", region: str = "us-east-1", **data: Any):
    fields = {"volume_id": "vol-gone", "volume_size_gib": 100, "state": "completed", "start_time": ago(120),
              "storage_tier": "standard", "encrypted": False, "description": None, "ami_ids": [], "tags": {}, **data}
    return item("ec2.snapshots", "ec2:snapshot", snapshot_id, region,
                f"arn:aws:ec2:{region}::snapshot/{snapshot_id}", **fields)


def image(image_id: str = "ami-9", region: str = "us-east-1", snapshots: dict[str, int] | None = None, **data: Any):
    """An AMI; ``snapshots`` maps snapshot id -> GiB of its block devices."""
    snapshots = {"snap-a": 8} if snapshots is None else snapshots
    fields = {"name": "build", "state": "available", "creation_date": ago(200), "last_launched_time": None,
              "platform_details": "Linux/UNIX", "architecture": "x86_64", "root_device_type": "ebs",
              "block_devices": [{"snapshot_id": s, "volume_size_gib": g, "volume_type": "gp3"}
                                for s, g in snapshots.items()],
              "snapshot_ids": sorted(snapshots), "public": False, "tags": {}, **data}
    return item("ec2.images", "ec2:image", image_id, region, f"arn:aws:ec2:{region}::image/{image_id}", **fields)


def address(allocation_id: str = "eipalloc-1", region: str = "us-east-1", **data: Any):
    fields = {"public_ip": "198.51.100.1", "allocation_id": allocation_id, "association_id": None,
              "instance_id": None, "network_interface_id": None, "domain": "vpc", "public_ipv4_pool": "amazon",
              "network_border_group": region, "tags": {}, **data}
    return item("ec2.addresses", "ec2:elastic-ip", allocation_id, region,
                f"arn:aws:ec2:{region}:{ACCOUNT}:elastic-ip/{allocation_id}", **fields)


def nat(nat_id: str = "nat-1", region: str = "us-east-1", **data: Any):
    fields = {"state": "available", "connectivity_type": "public", "vpc_id": "vpc-1", "subnet_id": "subnet-1",
              "create_time": ago(120), "allocation_ids": ["eipalloc-n"], "public_ips": ["203.0.113.9"],
              "tags": {}, **data}
    return item("ec2.nat_gateways", "ec2:natgateway", nat_id, region,
                f"arn:aws:ec2:{region}:{ACCOUNT}:natgateway/{nat_id}", **fields)


def lines(finding, role: str) -> list:
    return [line for line in finding.price_lines if line.role == role]
