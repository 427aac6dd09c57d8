"""Unattached EBS volume: billed every month for storage (and provisioned IOPS/throughput) nobody uses.

Priced at its full monthly cost, as Cost Optimization Hub counts a Delete. The remediation takes a
final snapshot first: that snapshot's cost is shown beside the saving as an upper bound (a
snapshot is billed for the blocks it holds, at most the volume's size), never hidden.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks.context import CheckContext
from finops.checks.costs import VOLUME_PRICES, add_volume_item
from finops.models import Finding


@check(
    title="Unattached EBS volumes",
    category="Storage",
    service="ec2",
    resource_type="ec2:volume",
    action="Delete",
    needs=("ec2.volumes",),
    prices=(*VOLUME_PRICES, "ebs.snapshot.standard"),
    thresholds=("unattached_volume_min_days",),
    effort="VeryLow",
    rollback_possible=False,
    confidence="High",
    rule="State `available` (attached to nothing) and created at least `unattached_volume_min_days` days ago.",
    formula="size x storage price, plus provisioned IOPS and throughput above what the type includes",
    remediation=(
        "aws ec2 create-snapshot --region {region} --volume-id {resource_id} --description 'final snapshot' && "
        "aws ec2 delete-volume --region {region} --volume-id {resource_id}"
    ),
    console="https://{region}.console.aws.amazon.com/ec2/home?region={region}#VolumeDetails:volumeId={resource_id}",
)
def ec2_ebs_volume_unattached(ctx: CheckContext) -> Iterator[Finding]:
    min_days = ctx.thresholds["unattached_volume_min_days"]
    for volume in ctx.of("ec2.volumes"):
        data = volume.data
        if data.get("state") != "available" or data.get("attachments"):
            continue
        age = ctx.days_since(data.get("create_time"))
        if age is None or age < min_days:
            continue
        volume_type = data.get("volume_type") or "standard"
        size = data.get("size_gib") or 0
        snapshot = ctx.bill("note").add(
            "ebs.snapshot.standard", volume.region, size, "final snapshot before deleting (upper bound: full size)"
        )
        yield ctx.finding(
            volume,
            title=f"Unattached {volume_type} volume, {size} GiB",
            current=add_volume_item(ctx.bill(), volume),
            notes=snapshot,
            recommended="Delete (after a final snapshot)",
            evidence={
                "volume_type": volume_type, "size_gib": size, "iops": data.get("iops"),
                "throughput": data.get("throughput"), "state": data.get("state"), "created": data.get("create_time"),
                "age_days": round(age, 1), "final_snapshot_monthly_upper_bound": (
                    str(snapshot.total) if snapshot.total is not None else None
                ),
            },
        )
