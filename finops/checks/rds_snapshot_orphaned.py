"""Orphaned manual RDS snapshot: its source database is gone, yet the snapshot is billed every month.

A manual DB snapshot or DB cluster snapshot, status available, whose source DB instance or cluster is no
longer in the region's inventory, older than ``rds_snapshot_orphaned_min_days`` (a final snapshot is often
kept on purpose for a while). Automated snapshots, AWS Backup recovery points and shared snapshots are
skipped. The free backup allowance is tied to provisioned database storage, so a deleted database's
snapshot is usually billed in full.

Priced as an upper bound with confidence Low: allocated GiB x the backup storage price (DB snapshots:
``rds.snapshot``; cluster snapshots: ``aurora.backup``); a snapshot whose size is not reported is shown
without a figure. A final snapshot kept for compliance is the owner's call.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._rds import (
    DB_SNAPSHOT_DELETE,
    SNAPSHOT_CONSOLE,
    SNAPSHOT_PRICES,
    manual_snapshots,
    snapshot_finding,
)
from finops.checks.context import CheckContext
from finops.models import Finding


@check(
    title="Orphaned manual RDS snapshots",
    category="Databases",
    service="rds",
    resource_type="rds:snapshot",
    action="Delete",
    needs=("rds.snapshots", "rds.cluster_snapshots", "rds.instances", "rds.clusters"),
    prices=SNAPSHOT_PRICES,
    thresholds=("rds_snapshot_orphaned_min_days",),
    effort="VeryLow",
    restart_needed=False,
    rollback_possible=False,
    confidence="Low",
    rule=(
        "Manual DB or DB cluster snapshot, status `available`, whose source DB instance or cluster is no longer in "
        "the inventory, at least `rds_snapshot_orphaned_min_days` days old."
    ),
    formula="allocated GiB x backup storage price (upper bound)",
    remediation=DB_SNAPSHOT_DELETE,
    console=SNAPSHOT_CONSOLE,
)
def rds_snapshot_orphaned(ctx: CheckContext) -> Iterator[Finding]:
    min_days = ctx.thresholds["rds_snapshot_orphaned_min_days"]
    for snapshot in manual_snapshots(ctx):
        if snapshot.source_exists or snapshot.age_days < min_days:
            continue
        kind = "cluster snapshot" if snapshot.cluster else "DB snapshot"
        size = snapshot.item.data.get("allocated_storage_gib")
        yield snapshot_finding(
            ctx, snapshot,
            title=f"Manual {kind} of deleted {snapshot.source_id or 'database'}, {size} GiB, "
                  f"{int(snapshot.age_days)} days old",
            extra={"threshold_days": min_days},
        )
