"""Helpers shared by the EC2, EBS and VPC checks (private: the leading underscore keeps it out of discovery).

Instance types and their size ladder, the previous-generation and Graviton family maps, which
instances a per-instance remediation may touch, why an instance cannot be priced from the
catalogue, snapshot pricing by storage tier, and small evidence helpers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from finops.checks.context import CheckContext, MetricSummary
from finops.checks.costs import is_linux
from finops.models import InventoryItem
from finops.pricing import Bill

AMAZON_POOL = "amazon"  # an Elastic IP from any other pool is the customer's own range (BYOIP): not billed
SNAPSHOT_PRICES = ("ebs.snapshot.standard", "ebs.snapshot.archive")
SHARED_TENANCY = ("default", "", None)

# Instance sizes, smallest first (metal and other sizes are not on the ladder: never resized).
SIZES = (
    "nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "9xlarge",
    "12xlarge", "16xlarge", "18xlarge", "24xlarge", "32xlarge", "48xlarge",
)
# Previous-generation family -> current successor (same size).
PREVIOUS_GENERATION = {"t2": "t3", "m3": "m5", "m4": "m5", "c3": "c5", "c4": "c5", "r3": "r5", "r4": "r5"}
# x86_64 family -> AWS Graviton (arm64) counterpart (same size).
GRAVITON = {
    "t3": "t4g", "t3a": "t4g",
    "m5": "m6g", "m5a": "m6g", "m6i": "m6g", "m6a": "m6g", "m7i": "m7g",
    "c5": "c6g", "c5a": "c6g", "c6i": "c6g", "c6a": "c6g", "c7i": "c7g",
    "r5": "r6g", "r5a": "r6g", "r6i": "r6g", "r6a": "r6g", "r7i": "r7g",
}

# Snapshots whose retention a service manages: AWS Backup's cannot be deleted through the EC2 API.
BACKUP_DESCRIPTION = "This snapshot is created by the AWS Backup service"
BACKUP_TAG_PREFIX = "aws:backup:"
DLM_TAG = "aws:dlm:lifecycle-policy-id"

# Resize an instance in place (EBS-backed: stop, change the type, start).
RESIZE_REMEDIATION = (
    "aws ec2 stop-instances --region {region} --instance-ids {resource_id} && "
    "aws ec2 wait instance-stopped --region {region} --instance-ids {resource_id} && "
    "aws ec2 modify-instance-attribute --region {region} --instance-id {resource_id} "
    "--attribute instanceType --value {target_type} && "
    "aws ec2 start-instances --region {region} --instance-ids {resource_id}"
)
INSTANCE_CONSOLE = "https://{region}.console.aws.amazon.com/ec2/home?region={region}#InstanceDetails:instanceId={resource_id}"
VOLUME_CONSOLE = "https://{region}.console.aws.amazon.com/ec2/home?region={region}#VolumeDetails:volumeId={resource_id}"
SNAPSHOT_CONSOLE = (
    "https://{region}.console.aws.amazon.com/ec2/home?region={region}#SnapshotDetails:snapshotId={resource_id}"
)


# -- instances -------------------------------------------------------------------------------------
def split_type(instance_type: str | None) -> tuple[str, str] | None:
    """("m5", "xlarge") for "m5.xlarge"; None for anything else."""
    family, dot, size = str(instance_type or "").partition(".")
    return (family, size) if dot and family and size else None


def type_key(instance_type: str) -> str:
    return f"ec2.linux.{instance_type}"


def known_type(ctx: CheckContext, instance_type: str) -> bool:
    """The catalogue knows the type (it may still be unavailable in a region: then the finding is unpriced)."""
    return type_key(instance_type) in ctx.prices.keys()


def smaller_type(ctx: CheckContext, instance_type: str) -> str | None:
    """The next smaller size of the same family that the catalogue knows, or None."""
    parts = split_type(instance_type)
    if parts is None or parts[1] not in SIZES:
        return None
    family, size = parts
    for smaller in reversed(SIZES[: SIZES.index(size)]):
        if known_type(ctx, f"{family}.{smaller}"):
            return f"{family}.{smaller}"
    return None


def same_size_in(ctx: CheckContext, instance_type: str, families: dict[str, str]) -> str | None:
    """The same size in the mapped family, when the catalogue knows it."""
    parts = split_type(instance_type)
    if parts is None or parts[0] not in families:
        return None
    target = f"{families[parts[0]]}.{parts[1]}"
    return target if known_type(ctx, target) else None


def running_on_demand(instance: InventoryItem) -> bool:
    """Running, On-Demand (not Spot or scheduled), and not an Auto Scaling group member.

    An Auto Scaling group replaces an instance that is stopped or changed by hand (and resizes
    through its launch template), so a per-instance command would be wrong for its members.
    """
    data = instance.data
    return (
        data.get("state") == "running"
        and (data.get("lifecycle") or "on-demand") == "on-demand"
        and not data.get("autoscaling_group")
    )


def unpriceable(instance: InventoryItem) -> str:
    """Why the catalogue cannot price this instance's hours (empty when it can)."""
    data = instance.data
    if not is_linux(instance):
        details = data.get("platform_details") or data.get("platform") or "another platform"
        return (f"the price catalogue holds On-Demand Linux/UNIX instance prices only, and this instance is "
                f"billed as {details}")
    if data.get("tenancy") not in SHARED_TENANCY:
        return (f"the price catalogue holds shared-tenancy On-Demand prices only, and this instance runs with "
                f"{data.get('tenancy')} tenancy")
    return ""


def instance_facts(instance: InventoryItem) -> dict[str, Any]:
    data = instance.data
    return {
        "instance_type": data.get("instance_type"), "state": data.get("state"),
        "platform_details": data.get("platform_details"), "architecture": data.get("architecture"),
        "tenancy": data.get("tenancy"), "lifecycle": data.get("lifecycle") or "on-demand",
        "autoscaling_group": data.get("autoscaling_group"), "launch_time": data.get("launch_time"),
        "availability_zone": data.get("availability_zone"),
    }


# -- snapshots -------------------------------------------------------------------------------------
def snapshot_tier(tier: str | None) -> str:
    return "archive" if tier == "archive" else "standard"


def add_snapshot(bill: Bill, region: str, size_gib: Any, tier: str | None, label: str) -> Bill:
    """Upper bound of a snapshot's storage: the full source-volume size at its tier's price."""
    tier = snapshot_tier(tier)
    return bill.add(f"ebs.snapshot.{tier}", region, Decimal(str(size_gib or 0)),
                    f"{label}: {tier} snapshot, at most {size_gib} GiB")


def managed_by(snapshot: InventoryItem) -> str | None:
    """The service whose policy keeps this snapshot (AWS Backup, Data Lifecycle Manager), or None."""
    data = snapshot.data
    tags = data.get("tags") or {}
    keys = [str(k).lower() for k in tags] if isinstance(tags, dict) else []
    if str(data.get("description") or "").startswith(BACKUP_DESCRIPTION) or any(
        k.startswith(BACKUP_TAG_PREFIX) for k in keys
    ):
        return "AWS Backup"
    if DLM_TAG in keys:
        return "Amazon Data Lifecycle Manager"
    return None


def snapshot_facts(snapshot: InventoryItem, age: float) -> dict[str, Any]:
    data = snapshot.data
    return {
        "volume_id": data.get("volume_id"), "volume_size_gib": data.get("volume_size_gib"),
        "storage_tier": snapshot_tier(data.get("storage_tier")), "start_time": data.get("start_time"),
        "age_days": round(age, 1), "ami_ids": data.get("ami_ids"), "encrypted": data.get("encrypted"),
        "description": data.get("description"),
        "upper_bound": "snapshots are incremental: a snapshot holds only the blocks that changed since the "
                       "previous one, so the source volume's size overstates what it stores and what deleting "
                       "it frees",
    }


# -- metrics ---------------------------------------------------------------------------------------
def p95(values: Iterable[float]) -> float | None:
    """Nearest-rank 95th percentile (as MetricSummary.p95)."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def metrics_evidence(*summaries: MetricSummary | None) -> dict[str, Any]:
    return {s.key: s.evidence() for s in summaries if s is not None}


def ceil_to(value: float, step: int) -> int:
    return int(math.ceil(value / step - 1e-9) * step)
