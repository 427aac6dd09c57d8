"""Enabled commercial regions, discovered at run time and opt-in aware."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3

from finops.errors import UnsupportedPartition, UnsupportedRegion

ENABLED_OPT_IN = {"opt-in-not-required", "opted-in"}


@cache
def commercial_regions() -> frozenset[str]:
    """Regions of the commercial ``aws`` partition known to botocore (never GovCloud or China)."""
    return frozenset(boto3.session.Session().get_available_regions("ec2", partition_name="aws"))


def validate_requested(regions: tuple[str, ...] | list[str]) -> list[str]:
    """Check an operator's region list before any AWS call."""
    known = commercial_regions()
    out = []
    for region in regions:
        if region.startswith(("us-gov-", "cn-")):
            raise UnsupportedPartition(f"region {region}")
        if region not in known:
            raise UnsupportedRegion(
                f"unknown region {region}",
                customer_message=f"{region} is not a commercial AWS region FinOps Pack knows.",
            )
        out.append(region)
    return sorted(set(out))


def enabled_regions(ec2: Any) -> tuple[list[str], list[str]]:
    """(enabled, not enabled) commercial regions, from DescribeRegions(AllRegions=True)."""
    known = commercial_regions()
    enabled, disabled = [], []
    for region in ec2.describe_regions(AllRegions=True)["Regions"]:
        name = region["RegionName"]
        if name not in known:
            continue  # GovCloud, China, or a region this botocore does not know
        status = region.get("OptInStatus", "opt-in-not-required")
        (enabled if status in ENABLED_OPT_IN else disabled).append(name)
    return sorted(enabled), sorted(disabled)
