"""EC2 instance stopped for a long time: no compute charge, but its storage and addresses are still billed.

A stopped instance pays nothing for compute, yet every EBS volume attached to it is billed in
full (storage plus provisioned IOPS and throughput) and every Elastic IP on it is billed as an
idle public IPv4 address. The finding names the instance and prices exactly those: each volume
with the catalogue's volume prices, each Amazon-pool Elastic IP at the idle public IPv4 hourly
price x 730. Their ids are in ``covers``, so the volumes' and addresses' own findings (gp2 to
gp3, ...) are listed as alternatives and not counted again.

The recommendation is to keep an AMI and terminate: the AMI's snapshots are shown beside the
saving as a note (upper bound: the volumes' full size at the standard snapshot price), never
subtracted or hidden. Terminating deletes only the volumes marked DeleteOnTermination and
releases no Elastic IP, so the remediation looks both up first and deletes or releases what is
left after the termination.

Skipped: instances whose stop time is unknown (``stopped_since`` missing: AWS gives it only in
the state-transition reason), instances stopped for less than ``stopped_instance_min_days``,
and Auto Scaling group members (a warm pool keeps stopped instances on purpose; the group would
replace a terminated one). Elastic IPs from the customer's own pool (BYOIP) are not billed as
public IPv4 and add nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from finops.checks import check
from finops.checks._ec2 import AMAZON_POOL, INSTANCE_CONSOLE
from finops.checks.context import CheckContext
from finops.checks.costs import VOLUME_PRICES, add_volume_item
from finops.models import Finding
from finops.money import HOURS_PER_MONTH


@check(
    title="Long-stopped EC2 instances",
    category="Compute",
    service="ec2",
    resource_type="ec2:instance",
    action="Delete",
    needs=("ec2.instances", "ec2.volumes", "ec2.addresses"),
    prices=(*VOLUME_PRICES, "vpc.public_ipv4.idle", "ebs.snapshot.standard"),
    thresholds=("stopped_instance_min_days",),
    effort="Low",
    restart_needed=False,
    rollback_possible=False,
    confidence="High",
    rule=(
        "State `stopped` for at least `stopped_instance_min_days` days (from the state-transition time; unknown: "
        "skipped), not in an Auto Scaling group; priced by the EBS volumes and Elastic IPs it still pays for."
    ),
    formula=(
        "each attached volume (size x storage price + provisioned IOPS and throughput) + each Elastic IP x idle "
        "public IPv4 hourly price x 730; the final AMI's snapshots are a note (upper bound: volume GiB x snapshot "
        "price)"
    ),
    remediation=(
        "allocations=$(aws ec2 describe-addresses --region {region} --filters Name=instance-id,Values={resource_id} "
        "--query 'Addresses[].AllocationId' --output text) && "
        "volumes=$(aws ec2 describe-volumes --region {region} --filters "
        "Name=attachment.instance-id,Values={resource_id} --query 'Volumes[].VolumeId' --output text) && "
        "image=$(aws ec2 create-image --region {region} --instance-id {resource_id} --name {image_name} "
        "--query ImageId --output text) && "
        "aws ec2 wait image-available --region {region} --image-ids \"$image\" && "
        "aws ec2 terminate-instances --region {region} --instance-ids {resource_id} && "
        "aws ec2 wait instance-terminated --region {region} --instance-ids {resource_id} && "
        "for allocation in $allocations; do aws ec2 release-address --region {region} "
        "--allocation-id \"$allocation\"; done && "
        "for volume in $(aws ec2 describe-volumes --region {region} --filters "
        "\"Name=volume-id,Values=$(echo $volumes | tr ' ' ,)\" Name=status,Values=available "
        "--query 'Volumes[].VolumeId' --output text); do "
        "aws ec2 delete-volume --region {region} --volume-id \"$volume\"; done"
    ),
    console=INSTANCE_CONSOLE,
)
def ec2_instance_stopped(ctx: CheckContext) -> Iterator[Finding]:
    min_days = ctx.thresholds["stopped_instance_min_days"]
    for instance in ctx.of("ec2.instances"):
        data = instance.data
        if data.get("state") != "stopped" or data.get("autoscaling_group"):
            continue
        stopped_days = ctx.days_since(data.get("stopped_since"))
        if stopped_days is None or stopped_days < min_days:
            continue
        volumes = ctx.volumes_of(instance.resource_id)
        addresses = ctx.addresses_of(instance.resource_id)
        current = ctx.bill()
        for volume in volumes:
            add_volume_item(current, volume, label=volume.resource_id)
        for address in addresses:
            if (address.data.get("public_ipv4_pool") or AMAZON_POOL) == AMAZON_POOL:
                current.add("vpc.public_ipv4.idle", instance.region, HOURS_PER_MONTH,
                            f"{address.data.get('public_ip') or address.resource_id}: idle public IPv4, 730 hours")
        total_gib = sum((Decimal(str(v.data.get("size_gib") or 0)) for v in volumes), Decimal(0))
        image = ctx.bill("note").add(
            "ebs.snapshot.standard", instance.region, total_gib,
            "final AMI's snapshots before terminating (upper bound: the volumes' full size)",
        )
        instance_type = data.get("instance_type") or "instance"
        days = int(stopped_days)
        yield ctx.finding(
            instance,
            title=f"{instance_type} stopped for {days} days, still paying for {len(volumes)} volume"
                  f"{'s' if len(volumes) != 1 else ''} ({total_gib} GiB) and {len(addresses)} Elastic IP"
                  f"{'s' if len(addresses) != 1 else ''}",
            current=current,
            notes=image,
            recommended=(
                "Create an AMI, then terminate the instance, release its Elastic IPs and delete the volumes "
                "termination leaves behind"
            ),
            covers=[*(v.resource_id for v in volumes), *(a.resource_id for a in addresses)],
            remediation_args={"image_name": f"final-{instance.resource_id}"},
            evidence={
                "instance_type": data.get("instance_type"), "state": data.get("state"),
                "stopped_since": data.get("stopped_since"), "stopped_days": round(stopped_days, 1),
                "state_transition_reason": data.get("state_transition_reason"),
                "volumes": [
                    {"volume_id": v.resource_id, "volume_type": v.data.get("volume_type"),
                     "size_gib": v.data.get("size_gib"), "iops": v.data.get("iops"),
                     "throughput": v.data.get("throughput")}
                    for v in volumes
                ],
                "elastic_ips": [
                    {"allocation_id": a.resource_id, "public_ip": a.data.get("public_ip"),
                     "public_ipv4_pool": a.data.get("public_ipv4_pool") or AMAZON_POOL}
                    for a in addresses
                ],
                "volume_ids_on_instance": data.get("volume_ids"),
                "final_image_monthly_upper_bound": str(image.total) if image.total is not None else None,
            },
        )
