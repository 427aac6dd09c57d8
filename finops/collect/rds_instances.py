"""RDS DB instances: class, engine, storage, Multi-AZ, status, cluster membership, create time.

``engine_lifecycle_support`` is AWS's ``EngineLifecycleSupport`` (``open-source-rds-extended-support``
means the instance is enrolled in paid Extended Support once its major version leaves standard
support; None when AWS does not say). ``max_allocated_storage_gib`` is the storage autoscaling
ceiling (None when autoscaling is off).
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.collect import CollectContext, collector, iso, paginate, tags_dict
from finops.models import InventoryItem


@collector(
    "rds.instances",
    service="rds",
    resource_type="rds:db",
    title="RDS DB instances",
    operations=("DescribeDBInstances",),
    iam_actions=("rds:DescribeDBInstances",),
)
def collect_db_instances(ctx: CollectContext) -> Iterator[InventoryItem]:
    for db in paginate(ctx.client("rds"), "describe_db_instances", "DBInstances", MaxRecords=100):
        identifier = db["DBInstanceIdentifier"]
        yield InventoryItem(
            collector="rds.instances",
            resource_type="rds:db",
            account_id=ctx.account_id,
            region=ctx.region,
            resource_id=identifier,
            arn=db.get("DBInstanceArn") or f"arn:aws:rds:{ctx.region}:{ctx.account_id}:db:{identifier}",
            data={
                "instance_class": db.get("DBInstanceClass"),
                "engine": db.get("Engine"),
                "engine_version": db.get("EngineVersion"),
                "license_model": db.get("LicenseModel"),
                "status": db.get("DBInstanceStatus"),
                "multi_az": db.get("MultiAZ"),
                "storage_type": db.get("StorageType"),
                "allocated_storage_gib": db.get("AllocatedStorage"),
                "max_allocated_storage_gib": db.get("MaxAllocatedStorage"),
                "engine_lifecycle_support": db.get("EngineLifecycleSupport"),
                "iops": db.get("Iops"),
                "storage_throughput": db.get("StorageThroughput"),
                "cluster_id": db.get("DBClusterIdentifier"),
                "availability_zone": db.get("AvailabilityZone"),
                "create_time": iso(db.get("InstanceCreateTime")),
                "tags": tags_dict(db.get("TagList")),
            },
        )
