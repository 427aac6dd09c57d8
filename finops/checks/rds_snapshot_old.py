"""Old manual RDS snapshot: kept long after it was taken, billed as backup storage every month.

A manual DB snapshot or DB cluster snapshot, status available, older than ``rds_snapshot_old_days``, whose
source DB instance or cluster still exists (orphans are ``rds_snapshot_orphaned``'s). Automated snapshots
(expired by the retention period), AWS Backup recovery points and snapshots shared with the account are
not manual and are skipped.

Priced as an upper bound with confidence Low: allocated GiB x the backup storage price (DB snapshots:
``rds.snapshot``; cluster snapshots: ``aurora.backup``). A snapshot is billed for the blocks it holds beyond
the free backup allowance (as much backup storage as the region's provisioned database storage), so the
real figure is often lower, sometimes zero. A snapshot whose size is not reported is shown without a figure.
Whether an old snapshot is still needed (compliance, a release baseline) is the owner's call.
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
    title="Old manual RDS snapshots",
    category="Databases",
    service="rds",
    resource_type="rds:snapshot",
    action="Delete",
    needs=("rds.snapshots", "rds.cluster_snapshots", "rds.instances", "rds.clusters"),
    prices=SNAPSHOT_PRICES,
    thresholds=("rds_snapshot_old_days",),
    effort="VeryLow",
    restart_needed=False,
    rollback_possible=False,
    confidence="Low",
    rule=(
        "Manual DB or DB cluster snapshot, status `available`, older than `rds_snapshot_old_days` days, whose "
        "source DB instance or cluster still exists."
    ),
    formula="allocated GiB x backup storage price (upper bound: only blocks beyond the free allowance are billed)",
    remediation=DB_SNAPSHOT_DELETE,
    console=SNAPSHOT_CONSOLE,
)
def rds_snapshot_old(ctx: CheckContext) -> Iterator[Finding]:
    min_days = ctx.thresholds["rds_snapshot_old_days"]
    for snapshot in manual_snapshots(ctx):
        if not snapshot.source_exists or snapshot.age_days <= min_days:
            continue
        kind = "cluster snapshot" if snapshot.cluster else "DB snapshot"
        size = snapshot.item.data.get("allocated_storage_gib")
        yield snapshot_finding(
            ctx, snapshot,
            title=f"Manual {kind} of {snapshot.source_id}, {size} GiB, {int(snapshot.age_days)} days old",
            extra={"threshold_days": min_days},
        )
