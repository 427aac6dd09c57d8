"""Orphaned EBS snapshot: its source volume is gone and no AMI uses it, yet its storage is billed monthly.

A snapshot outlives the volume it was taken from; once that volume is deleted (or for a copy,
whose source AWS records as ``vol-ffffffff``) nothing in the account points at it unless an AMI
does. Those left over from deleted volumes are typically forgotten.

Priced as an UPPER BOUND: the source volume's size x the snapshot storage price of the
snapshot's tier (standard, or archive for archived snapshots). Snapshots are incremental, so a
snapshot usually stores, and deleting it frees, less than the volume's size: confidence is Low,
and the merge caps the figure at the snapshot's actual billed cost when Cost Explorer's
resource-level data has it. An archived snapshot deleted within 90 days of archiving is still
billed the rest of its 90-day minimum (AWS does not expose the archive date here).

Skipped: snapshots not ``completed``; snapshots an AMI of the account references (they cannot be
deleted before the AMI is deregistered; unknown ``ami_ids``: skipped); snapshots younger than
``snapshot_orphaned_min_days`` (a fresh copy is often kept on purpose); AWS Backup snapshots
(their retention is the backup plan's, and EC2 refuses to delete them). References from launch
templates are not visible (the read-only policy denies launch-template data, which holds user data).
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._ec2 import SNAPSHOT_CONSOLE, SNAPSHOT_PRICES, add_snapshot, managed_by, snapshot_facts
from finops.checks.context import CheckContext
from finops.models import Finding

COPY_SOURCE = "vol-ffffffff"  # the volume id AWS records on a copied snapshot


@check(
    title="Orphaned EBS snapshots",
    category="Storage",
    service="ec2",
    resource_type="ec2:snapshot",
    action="Delete",
    needs=("ec2.snapshots", "ec2.volumes", "ec2.images"),
    prices=SNAPSHOT_PRICES,
    thresholds=("snapshot_orphaned_min_days",),
    effort="VeryLow",
    restart_needed=False,
    rollback_possible=False,
    confidence="Low",
    rule=(
        "Completed snapshot whose source volume no longer exists, referenced by no AMI of the account, at least "
        "`snapshot_orphaned_min_days` days old (AWS Backup snapshots skipped); priced as an upper bound."
    ),
    formula="upper bound: source volume size (GiB) x snapshot storage price of its tier (standard or archive)",
    remediation="aws ec2 delete-snapshot --region {region} --snapshot-id {resource_id}",
    console=SNAPSHOT_CONSOLE,
)
def ec2_ebs_snapshot_orphaned(ctx: CheckContext) -> Iterator[Finding]:
    min_days = ctx.thresholds["snapshot_orphaned_min_days"]
    for snapshot in ctx.of("ec2.snapshots"):
        data = snapshot.data
        if data.get("state") != "completed" or data.get("ami_ids") is None or data.get("ami_ids"):
            continue
        if ctx.source_volume(snapshot) is not None or managed_by(snapshot) == "AWS Backup":
            continue
        age = ctx.days_since(data.get("start_time"))
        if age is None or age < min_days:
            continue
        size = data.get("volume_size_gib") or 0
        tier = "archive" if data.get("storage_tier") == "archive" else "standard"
        copy = data.get("volume_id") in (None, "", COPY_SOURCE)
        source = "a copy with no source volume" if copy else f"source volume {data.get('volume_id')} deleted"
        yield ctx.finding(
            snapshot,
            title=f"Orphaned {tier} snapshot, {source}: up to {size} GiB (upper bound)",
            current=add_snapshot(ctx.bill(), snapshot.region, size, tier, snapshot.resource_id),
            recommended="Delete the snapshot (once nobody needs it as a backup)",
            evidence={**snapshot_facts(snapshot, age), "source_volume_exists": False, "copy": copy,
                      "managed_by": managed_by(snapshot)},
        )
