"""EBS volumes: type, size, IOPS, throughput, attachments, create time."""

from __future__ import annotations

from collections.abc import Iterator

from finops.collect import CollectContext, collector, paginate, tags_dict
from finops.models import InventoryItem


@collector(
    "ec2.volumes",
    service="ec2",
    resource_type="ec2:volume",
    title="EBS volumes",
    operations=("DescribeVolumes",),
    iam_actions=("ec2:DescribeVolumes",),
)
def collect_volumes(ctx: CollectContext) -> Iterator[InventoryItem]:
    for vol in paginate(ctx.client("ec2"), "describe_volumes", "Volumes", MaxResults=500):
        volume_id = vol["VolumeId"]
        yield InventoryItem(
            collector="ec2.volumes",
            resource_type="ec2:volume",
            account_id=ctx.account_id,
            region=ctx.region,
            resource_id=volume_id,
            arn=f"arn:aws:ec2:{ctx.region}:{ctx.account_id}:volume/{volume_id}",
            data={
                "volume_type": vol.get("VolumeType"),
                "size_gib": vol.get("Size"),
                "iops": vol.get("Iops"),
                "throughput": vol.get("Throughput"),
                "state": vol.get("State"),
                "availability_zone": vol.get("AvailabilityZone"),
                "create_time": vol["CreateTime"].isoformat() if vol.get("CreateTime") else None,
                "attachments": [
                    {"instance_id": a.get("InstanceId"), "state": a.get("State")}
                    for a in vol.get("Attachments", [])
                ],
                "snapshot_id": vol.get("SnapshotId") or None,
                "encrypted": vol.get("Encrypted"),
                "tags": tags_dict(vol.get("Tags")),
            },
        )
