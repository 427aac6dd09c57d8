"""RDS / Aurora DB clusters: engine, mode, members, storage, status, create time."""

from __future__ import annotations

from collections.abc import Iterator

from finops.collect import CollectContext, collector, iso, paginate, tags_dict
from finops.models import InventoryItem


@collector(
    "rds.clusters",
    service="rds",
    resource_type="rds:cluster",
    title="RDS DB clusters",
    operations=("DescribeDBClusters",),
    iam_actions=("rds:DescribeDBClusters",),
)
def collect_db_clusters(ctx: CollectContext) -> Iterator[InventoryItem]:
    for cluster in paginate(ctx.client("rds"), "describe_db_clusters", "DBClusters", MaxRecords=100):
        identifier = cluster["DBClusterIdentifier"]
        yield InventoryItem(
            collector="rds.clusters",
            resource_type="rds:cluster",
            account_id=ctx.account_id,
            region=ctx.region,
            resource_id=identifier,
            arn=cluster.get("DBClusterArn") or f"arn:aws:rds:{ctx.region}:{ctx.account_id}:cluster:{identifier}",
            data={
                "engine": cluster.get("Engine"),
                "engine_version": cluster.get("EngineVersion"),
                "engine_mode": cluster.get("EngineMode"),
                "status": cluster.get("Status"),
                "multi_az": cluster.get("MultiAZ"),
                "storage_type": cluster.get("StorageType"),
                "allocated_storage_gib": cluster.get("AllocatedStorage"),
                "members": [m.get("DBInstanceIdentifier") for m in cluster.get("DBClusterMembers", [])],
                "create_time": iso(cluster.get("ClusterCreateTime")),
                "tags": tags_dict(cluster.get("TagList")),
            },
        )
