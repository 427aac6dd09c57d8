"""EBS snapshots owned by the account, with the AMIs (owned by the account) that reference them.

A snapshot an AMI still references cannot be deleted before the AMI is deregistered, so each
snapshot carries ``ami_ids``, taken from the ``ec2.images`` inventory of the same region (read
first: this collector declares ``after``). When that read failed, ``ami_ids`` is None: unknown,
not "no AMI". ``OwnerIds=["self"]`` keeps public and shared snapshots out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from finops.collect import CollectContext, arn, collector, iso, paginate, tags_dict
from finops.models import InventoryItem

IMAGES = "ec2.images"


@collector(
    "ec2.snapshots",
    service="ec2",
    resource_type="ec2:snapshot",
    title="EBS snapshots",
    operations=("DescribeSnapshots",),
    iam_actions=("ec2:DescribeSnapshots",),
    after=(IMAGES,),
)
def collect_snapshots(ctx: CollectContext) -> Iterator[InventoryItem]:
    ec2 = ctx.client("ec2")
    amis_known = IMAGES not in ctx.unavailable
    amis_of: dict[str, list[str]] = defaultdict(list)
    for image in ctx.of(IMAGES):
        for snapshot_id in image.data.get("snapshot_ids", []):
            amis_of[snapshot_id].append(image.resource_id)
    for snap in paginate(ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"], MaxResults=1000):
        if snap.get("OwnerId") not in (None, ctx.account_id):
            continue  # defensive: only what this account pays for
        snapshot_id = snap["SnapshotId"]
        yield InventoryItem(
            collector="ec2.snapshots",
            resource_type="ec2:snapshot",
            account_id=ctx.account_id,
            region=ctx.region,
            resource_id=snapshot_id,
            arn=arn("ec2", ctx.region, "", f"snapshot/{snapshot_id}"),
            data={
                "volume_id": snap.get("VolumeId"),
                "volume_size_gib": snap.get("VolumeSize"),
                "state": snap.get("State"),
                "start_time": iso(snap.get("StartTime")),
                "storage_tier": snap.get("StorageTier") or "standard",
                "encrypted": snap.get("Encrypted"),
                "description": snap.get("Description") or None,
                "ami_ids": sorted(amis_of.get(snapshot_id, [])) if amis_known else None,
                "tags": tags_dict(snap.get("Tags")),
            },
        )
