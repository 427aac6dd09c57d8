"""AMIs owned by the account: state, age, last launch, and the EBS snapshots that back them.

An AMI costs what its snapshots cost; those snapshots cannot be deleted while it is registered.
``Owners=["self"]`` keeps public and shared AMIs out. ``last_launched_time`` is when an instance
was last launched from the AMI (AWS records it from 2017 on; None when never launched or unknown).
``public`` is the AMI's launch permission for everyone (a public AMI may have users outside the
account, so it is no candidate for deregistration without asking).
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.collect import CollectContext, collector, iso, paginate, tags_dict
from finops.models import InventoryItem


@collector(
    "ec2.images",
    service="ec2",
    resource_type="ec2:image",
    title="AMIs",
    operations=("DescribeImages",),
    iam_actions=("ec2:DescribeImages",),
)
def collect_images(ctx: CollectContext) -> Iterator[InventoryItem]:
    for image in paginate(ctx.client("ec2"), "describe_images", "Images", Owners=["self"], MaxResults=1000):
        image_id = image["ImageId"]
        block_devices = [
            {
                "snapshot_id": ebs.get("SnapshotId"),
                "volume_size_gib": ebs.get("VolumeSize"),
                "volume_type": ebs.get("VolumeType"),
            }
            for ebs in (m.get("Ebs") for m in image.get("BlockDeviceMappings", []))
            if ebs  # instance-store (ephemeral) mappings have no snapshot and no storage cost
        ]
        yield InventoryItem(
            collector="ec2.images",
            resource_type="ec2:image",
            account_id=ctx.account_id,
            region=ctx.region,
            resource_id=image_id,
            arn=f"arn:aws:ec2:{ctx.region}::image/{image_id}",
            data={
                "name": image.get("Name"),
                "state": image.get("State"),
                "creation_date": iso(image.get("CreationDate")),
                "last_launched_time": iso(image.get("LastLaunchedTime")),
                "platform_details": image.get("PlatformDetails"),
                "architecture": image.get("Architecture"),
                "root_device_type": image.get("RootDeviceType"),
                "block_devices": block_devices,
                "snapshot_ids": sorted({d["snapshot_id"] for d in block_devices if d["snapshot_id"]}),
                "public": bool(image.get("Public")),
                "tags": tags_dict(image.get("Tags")),
            },
        )
