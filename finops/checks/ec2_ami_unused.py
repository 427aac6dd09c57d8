"""Unused AMI: an image nobody launches, whose EBS snapshots are billed every month.

An AMI itself is free; its backing snapshots are not, and they cannot be deleted while the AMI
is registered. Old AMIs from past builds pile up with their snapshots.

Priced as an UPPER BOUND of the snapshots that deregistering frees: for each snapshot in
``snapshot_ids`` that no other AMI of the account references, its size (from the snapshot's
inventory item, else the block device mapping) x the snapshot storage price of its tier
(standard or archive). Snapshots are incremental, so this overstates: confidence Low; the
snapshots are in ``covers`` (their own findings are not counted again). The remediation
deregisters the AMI with ``--delete-associated-snapshots``, which deletes the AMI's snapshots
in the same call except those another AMI still uses, exactly the set priced here.

Skipped: AMIs not ``available``, younger than ``ami_unused_min_days``, used by any instance in
the inventory (running or stopped), launched within ``ami_unused_min_days`` (``last_launched_time``
when AWS recorded it), public AMIs (they may have users outside the account), and instance-store
AMIs (their bundle is in S3, not in EBS snapshots). NOT visible, and a false-positive risk: launch
templates, launch configurations and Auto Scaling groups that reference the AMI (the read-only
policy denies launch-template data because it holds user data), and other accounts the AMI is
shared with.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from finops.checks import check
from finops.checks._ec2 import SNAPSHOT_PRICES, add_snapshot, snapshot_tier
from finops.checks.context import CheckContext
from finops.models import Finding


@check(
    title="Unused AMIs",
    category="Storage",
    service="ec2",
    resource_type="ec2:image",
    action="Delete",
    needs=("ec2.images", "ec2.instances", "ec2.snapshots"),
    prices=SNAPSHOT_PRICES,
    thresholds=("ami_unused_min_days",),
    effort="Low",
    restart_needed=False,
    rollback_possible=False,
    confidence="Low",
    rule=(
        "Available, private, EBS-backed AMI created at least `ami_unused_min_days` days ago, used by no instance in "
        "the inventory and not launched within `ami_unused_min_days` days; priced by the snapshots only it uses "
        "(upper bound)."
    ),
    formula=(
        "upper bound: sum over the snapshots only this AMI uses of snapshot size (GiB) x snapshot storage price of "
        "its tier (standard or archive)"
    ),
    remediation=(
        "aws ec2 deregister-image --region {region} --image-id {resource_id} --delete-associated-snapshots"
    ),
    console="https://{region}.console.aws.amazon.com/ec2/home?region={region}#ImageDetails:imageId={resource_id}",
)
def ec2_ami_unused(ctx: CheckContext) -> Iterator[Finding]:
    min_days = ctx.thresholds["ami_unused_min_days"]
    images = ctx.of("ec2.images")
    users_of_snapshot: dict[str, set[str]] = {}
    for image in images:
        for snapshot_id in _snapshot_ids(image.data):
            users_of_snapshot.setdefault(snapshot_id, set()).add(image.resource_id)
    for image in images:
        data = image.data
        if data.get("state") != "available" or data.get("public") or data.get("root_device_type") == "instance-store":
            continue
        age = ctx.days_since(data.get("creation_date"))
        if age is None or age < min_days:
            continue
        if ctx.instances_using(image.resource_id):
            continue
        launched = ctx.days_since(data.get("last_launched_time"))
        if launched is not None and launched < min_days:
            continue
        sizes = {d.get("snapshot_id"): d.get("volume_size_gib") for d in data.get("block_devices") or []}
        current = ctx.bill()
        freed: list[dict[str, object]] = []
        kept: list[dict[str, object]] = []
        total = Decimal(0)
        for snapshot_id in _snapshot_ids(data):
            snapshot = ctx.get("ec2.snapshots", snapshot_id)
            others = set(users_of_snapshot.get(snapshot_id, ())) | set((snapshot.data.get("ami_ids") or ())
                                                                        if snapshot else ())
            others.discard(image.resource_id)
            size = (snapshot.data.get("volume_size_gib") if snapshot else None) or sizes.get(snapshot_id) or 0
            tier = snapshot_tier(snapshot.data.get("storage_tier") if snapshot else None)
            fact = {"snapshot_id": snapshot_id, "size_gib": size, "storage_tier": tier,
                    "in_inventory": snapshot is not None}
            if others:
                kept.append({**fact, "also_used_by": sorted(others)})
                continue
            add_snapshot(current, image.region, size, tier, snapshot_id)
            freed.append(fact)
            total += Decimal(str(size))
        yield ctx.finding(
            image,
            title=f"AMI unused for {int(age)} days, {len(freed)} snapshot{'s' if len(freed) != 1 else ''} "
                  f"up to {total} GiB (upper bound)",
            current=current,
            recommended="Deregister the AMI and delete its snapshots",
            covers=[str(f["snapshot_id"]) for f in freed],
            evidence={
                "creation_date": data.get("creation_date"), "age_days": round(age, 1),
                "last_launched_time": data.get("last_launched_time"), "instances_using": 0,
                "platform_details": data.get("platform_details"), "architecture": data.get("architecture"),
                "snapshots_freed": freed, "snapshots_kept_for_other_amis": kept,
                "not_visible": "launch templates, launch configurations and Auto Scaling groups referencing the AMI, "
                               "and accounts it is shared with",
                "upper_bound": "snapshots are incremental: each stores at most its volume's size",
            },
        )


def _snapshot_ids(data: dict[str, Any]) -> list[str]:
    ids = list(data.get("snapshot_ids") or [])
    ids += [d["snapshot_id"] for d in data.get("block_devices") or [] if d.get("snapshot_id")]
    return sorted(set(ids))
