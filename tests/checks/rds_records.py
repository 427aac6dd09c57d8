"""RDS and Aurora inventory records for the RDS checks' tests (kit.py builds the generic ones)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from finops.checks.context import CheckContext
from finops.checks.thresholds import Thresholds
from finops.models import CostData, InventoryItem
from finops.pricing import PriceCatalogue
from tests.checks.kit import ACCOUNT, CATALOGUE, REGIONS, ago, item


def db(db_id: str = "db-1", region: str = "us-east-1", **data: Any) -> InventoryItem:
    fields = {
        "instance_class": "db.m5.large", "engine": "postgres", "engine_version": "16.3",
        "license_model": "postgresql-license", "status": "available", "multi_az": False, "storage_type": "gp3",
        "allocated_storage_gib": 100, "iops": 3000, "storage_throughput": 125, "cluster_id": None,
        "availability_zone": f"{region}a", "create_time": ago(365),
        "engine_lifecycle_support": "open-source-rds-extended-support", "max_allocated_storage_gib": None,
        "tags": {}, **data,
    }
    return item("rds.instances", "rds:db", db_id, region, f"arn:aws:rds:{region}:{ACCOUNT}:db:{db_id}", **fields)


def aurora(db_id: str, cluster_id: str = "cl-1", region: str = "us-east-1", **data: Any) -> InventoryItem:
    """An Aurora cluster member."""
    fields = {"engine": "aurora-postgresql", "engine_version": "16.4", "instance_class": "db.r6g.large",
              "storage_type": "aurora", "allocated_storage_gib": 1, "iops": None, "storage_throughput": None,
              "cluster_id": cluster_id, **data}
    return db(db_id, region, **fields)


def cluster(cluster_id: str = "cl-1", region: str = "us-east-1", members: tuple[str, ...] = ("db-a", "db-b"),
            **data: Any) -> InventoryItem:
    fields = {
        "engine": "aurora-postgresql", "engine_version": "16.4", "engine_mode": "provisioned", "status": "available",
        "multi_az": True, "storage_type": "aurora", "allocated_storage_gib": 1, "members": list(members),
        "create_time": ago(365), "engine_lifecycle_support": "open-source-rds-extended-support",
        "serverless_v2": None, "tags": {}, **data,
    }
    return item("rds.clusters", "rds:cluster", cluster_id, region,
                f"arn:aws:rds:{region}:{ACCOUNT}:cluster:{cluster_id}", **fields)


def snapshot(snapshot_id: str = "snap-1", region: str = "us-east-1", **data: Any) -> InventoryItem:
    fields = {"db_instance_id": "db-1", "snapshot_type": "manual", "engine": "postgres", "status": "available",
              "allocated_storage_gib": 100, "storage_type": "gp3", "create_time": ago(100), "tags": {}, **data}
    return item("rds.snapshots", "rds:snapshot", snapshot_id, region,
                f"arn:aws:rds:{region}:{ACCOUNT}:snapshot:{snapshot_id}", **fields)


def cluster_snapshot(snapshot_id: str = "csnap-1", region: str = "us-east-1", **data: Any) -> InventoryItem:
    fields = {"cluster_id": "cl-1", "snapshot_type": "manual", "engine": "aurora-postgresql", "status": "available",
              "allocated_storage_gib": 50, "storage_type": "aurora", "create_time": ago(100), "tags": {}, **data}
    return item("rds.cluster_snapshots", "rds:cluster-snapshot", snapshot_id, region,
                f"arn:aws:rds:{region}:{ACCOUNT}:cluster-snapshot:{snapshot_id}", **fields)


def context_at(now: datetime, items: list[InventoryItem], catalogue: PriceCatalogue = CATALOGUE) -> CheckContext:
    """kit.context() with another review date (for calendar boundaries)."""
    return CheckContext(account_id=ACCOUNT, regions=REGIONS, now=now, prices=catalogue, thresholds=Thresholds(),
                        inventory=items, costs=CostData())
