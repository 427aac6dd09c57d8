"""Old EBS snapshot of a volume that still exists: storage billed monthly for a restore point nobody may need.

Point-in-time copies accumulate: a volume snapshotted by hand or by a script without expiry keeps
every old snapshot, each billed for the blocks it alone still holds.

Priced as an UPPER BOUND: the source volume's size x the snapshot storage price of the
snapshot's tier. Snapshots are incremental, and deleting one frees only the blocks no other
snapshot of the chain references (often far less than the volume's size), so confidence is Low
and the merge caps the figure at the actual billed cost when Cost Explorer has it.

Skipped: snapshots not ``completed`` or not older than ``snapshot_old_days``; snapshots an AMI
references (cloud-custodian#3700: they cannot be deleted before the AMI; unknown ``ami_ids``:
skipped); the newest completed snapshot of each volume (it may be the volume's only backup);
snapshots kept by AWS Backup or Amazon Data Lifecycle Manager (their age is the policy's
retention, set on purpose); snapshots whose volume is gone (``ec2_ebs_snapshot_orphaned``).
References from launch templates are not visible (the read-only policy denies launch-template
data, which holds user data).
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._ec2 import SNAPSHOT_CONSOLE, SNAPSHOT_PRICES, add_snapshot, managed_by, snapshot_facts
from finops.checks.context import CheckContext, parse_time
from finops.models import Finding, InventoryItem


@check(
    title="Old EBS snapshots",
    category="Storage",
    service="ec2",
    resource_type="ec2:snapshot",
    action="Delete",
    needs=("ec2.snapshots", "ec2.volumes", "ec2.images"),
    prices=SNAPSHOT_PRICES,
    thresholds=("snapshot_old_days",),
    effort="VeryLow",
    restart_needed=False,
    rollback_possible=False,
    confidence="Low",
    rule=(
        "Completed snapshot older than `snapshot_old_days` days of a volume that still exists, referenced by no "
        "AMI, not the volume's newest snapshot, not kept by AWS Backup or Data Lifecycle Manager; priced as an "
        "upper bound."
    ),
    formula="upper bound: source volume size (GiB) x snapshot storage price of its tier (standard or archive)",
    remediation="aws ec2 delete-snapshot --region {region} --snapshot-id {resource_id}",
    console=SNAPSHOT_CONSOLE,
)
def ec2_ebs_snapshot_old(ctx: CheckContext) -> Iterator[Finding]:
    max_days = ctx.thresholds["snapshot_old_days"]
    snapshots = [s for s in ctx.of("ec2.snapshots") if s.data.get("state") == "completed"]
    newest: dict[str, str] = {}  # volume id -> id of its newest completed snapshot
    for snapshot in sorted(snapshots, key=_started):  # oldest first: the last one seen per volume is the newest
        newest[snapshot.data.get("volume_id") or ""] = snapshot.resource_id
    for snapshot in snapshots:
        data = snapshot.data
        if data.get("ami_ids") is None or data.get("ami_ids") or managed_by(snapshot):
            continue
        volume = ctx.source_volume(snapshot)
        if volume is None or newest.get(volume.resource_id) == snapshot.resource_id:
            continue
        age = ctx.days_since(data.get("start_time"))
        if age is None or age <= max_days:
            continue
        size = data.get("volume_size_gib") or 0
        tier = "archive" if data.get("storage_tier") == "archive" else "standard"
        yield ctx.finding(
            snapshot,
            title=f"{tier.capitalize()} snapshot of {volume.resource_id}, {int(age)} days old: up to {size} GiB "
                  f"(upper bound)",
            current=add_snapshot(ctx.bill(), snapshot.region, size, tier, snapshot.resource_id),
            recommended="Delete the snapshot (newer snapshots of the volume remain)",
            evidence={**snapshot_facts(snapshot, age), "source_volume_exists": True,
                      "newest_snapshot_of_volume": newest.get(volume.resource_id)},
        )


def _started(snapshot: InventoryItem) -> tuple[bool, float, str]:
    when = parse_time(snapshot.data.get("start_time"))
    return (when is not None, when.timestamp() if when else 0.0, snapshot.resource_id)
