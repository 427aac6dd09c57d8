"""EC2 instances: type, state, launch time, stopped-since, platform, architecture, ASG membership.

``stopped_since`` comes from ``StateTransitionReason`` ("User initiated (2024-05-01 10:00:00
GMT)"), the only place AWS exposes when an instance stopped. ASG membership comes from the
``aws:autoscaling:groupName`` tag AWS puts on every instance an Auto Scaling group launches.
User data is never requested (DescribeInstances does not return it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

from finops.collect import CollectContext, arn, collector, iso, paginate, tags_dict
from finops.models import InventoryItem

ASG_TAG = "aws:autoscaling:groupName"
_TRANSITION_TIME = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")


def stopped_since(state: str | None, reason: str | None) -> str | None:
    """When a stopped instance stopped, from its state transition reason (None if unknown)."""
    if state not in ("stopped", "stopping") or not reason:
        return None
    found = _TRANSITION_TIME.search(reason)
    if not found:
        return None
    return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).isoformat()


@collector(
    "ec2.instances",
    service="ec2",
    resource_type="ec2:instance",
    title="EC2 instances",
    operations=("DescribeInstances",),
    iam_actions=("ec2:DescribeInstances",),
)
def collect_instances(ctx: CollectContext) -> Iterator[InventoryItem]:
    pages = paginate(ctx.client("ec2"), "describe_instances", "Reservations", MaxResults=1000)
    for reservation in pages:
        for inst in reservation.get("Instances", []):
            instance_id = inst["InstanceId"]
            state = (inst.get("State") or {}).get("Name")
            tags = tags_dict(inst.get("Tags"))
            yield InventoryItem(
                collector="ec2.instances",
                resource_type="ec2:instance",
                account_id=ctx.account_id,
                region=ctx.region,
                resource_id=instance_id,
                arn=arn("ec2", ctx.region, ctx.account_id, f"instance/{instance_id}"),
                data={
                    "instance_type": inst.get("InstanceType"),
                    "state": state,
                    "launch_time": iso(inst.get("LaunchTime")),
                    "state_transition_reason": inst.get("StateTransitionReason") or None,
                    "stopped_since": stopped_since(state, inst.get("StateTransitionReason")),
                    # AWS omits Platform for Linux; PlatformDetails names the billed OS.
                    "platform": inst.get("Platform") or "linux",
                    "platform_details": inst.get("PlatformDetails"),
                    "architecture": inst.get("Architecture"),
                    "availability_zone": (inst.get("Placement") or {}).get("AvailabilityZone"),
                    "tenancy": (inst.get("Placement") or {}).get("Tenancy"),
                    "lifecycle": inst.get("InstanceLifecycle") or "on-demand",
                    "image_id": inst.get("ImageId"),
                    "public_ip": inst.get("PublicIpAddress"),
                    "autoscaling_group": tags.get(ASG_TAG),
                    "volume_ids": [
                        m["Ebs"]["VolumeId"] for m in inst.get("BlockDeviceMappings", []) if m.get("Ebs")
                    ],
                    "tags": tags,
                },
            )
