"""Manual RDS snapshots: DB instance snapshots and DB cluster snapshots (two collectors).

Automated snapshots are left out: they expire with their retention period and are free up to
the database's size. Manual ones are kept (and billed) until someone deletes them.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.collect import CollectContext, collector, iso, paginate, tags_dict
from finops.models import InventoryItem


@collector(
    "rds.snapshots",
    service="rds",
    resource_type="rds:snapshot",
    title="RDS manual DB snapshots",
    operations=("DescribeDBSnapshots",),
    iam_actions=("rds:DescribeDBSnapshots",),
)
def collect_db_snapshots(ctx: CollectContext) -> Iterator[InventoryItem]:
    pages = paginate(ctx.client("rds"), "describe_db_snapshots", "DBSnapshots", SnapshotType="manual", MaxRecords=100)
    for snap in pages:
        identifier = snap["DBSnapshotIdentifier"]
        yield InventoryItem(
            collector="rds.snapshots",
            resource_type="rds:snapshot",
            account_id=ctx.account_id,
            region=ctx.region,
            resource_id=identifier,
            arn=snap.get("DBSnapshotArn") or f"arn:aws:rds:{ctx.region}:{ctx.account_id}:snapshot:{identifier}",
            data={
                "db_instance_id": snap.get("DBInstanceIdentifier"),
                "snapshot_type": snap.get("SnapshotType"),
                "engine": snap.get("Engine"),
                "status": snap.get("Status"),
                "allocated_storage_gib": snap.get("AllocatedStorage"),
                "storage_type": snap.get("StorageType"),
                "create_time": iso(snap.get("SnapshotCreateTime")),
                "tags": tags_dict(snap.get("TagList")),
            },
        )


@collector(
    "rds.cluster_snapshots",
    service="rds",
    resource_type="rds:cluster-snapshot",
    title="RDS manual DB cluster snapshots",
    operations=("DescribeDBClusterSnapshots",),
    iam_actions=("rds:DescribeDBClusterSnapshots",),
)
def collect_db_cluster_snapshots(ctx: CollectContext) -> Iterator[InventoryItem]:
    pages = paginate(
        ctx.client("rds"), "describe_db_cluster_snapshots", "DBClusterSnapshots", SnapshotType="manual", MaxRecords=100
    )
    for snap in pages:
        identifier = snap["DBClusterSnapshotIdentifier"]
        yield InventoryItem(
            collector="rds.cluster_snapshots",
            resource_type="rds:cluster-snapshot",
            account_id=ctx.account_id,
            region=ctx.region,
            resource_id=identifier,
            arn=snap.get("DBClusterSnapshotArn")
            or f"arn:aws:rds:{ctx.region}:{ctx.account_id}:cluster-snapshot:{identifier}",
            data={
                "cluster_id": snap.get("DBClusterIdentifier"),
                "snapshot_type": snap.get("SnapshotType"),
                "engine": snap.get("Engine"),
                "status": snap.get("Status"),
                "allocated_storage_gib": snap.get("AllocatedStorage"),
                "storage_type": snap.get("StorageType"),
                "create_time": iso(snap.get("SnapshotCreateTime")),
                "tags": tags_dict(snap.get("TagList")),
            },
        )
