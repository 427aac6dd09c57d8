"""RDS / Aurora DB clusters: engine, mode, members, storage, status, create time.

``serverless_v2`` is the Aurora Serverless v2 capacity range in ACUs (``{"min_capacity",
"max_capacity"}``), None for a provisioned-only cluster. ``engine_lifecycle_support`` as for DB
instances (``rds.instances``).
"""

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
        scaling = cluster.get("ServerlessV2ScalingConfiguration")
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
                "engine_lifecycle_support": cluster.get("EngineLifecycleSupport"),
                "serverless_v2": {
                    "min_capacity": scaling.get("MinCapacity"), "max_capacity": scaling.get("MaxCapacity"),
                } if scaling else None,
                "status": cluster.get("Status"),
                "multi_az": cluster.get("MultiAZ"),
                "storage_type": cluster.get("StorageType"),
                "allocated_storage_gib": cluster.get("AllocatedStorage"),
                "members": [m.get("DBInstanceIdentifier") for m in cluster.get("DBClusterMembers", [])],
                "create_time": iso(cluster.get("ClusterCreateTime")),
                "tags": tags_dict(cluster.get("TagList")),
            },
        )
