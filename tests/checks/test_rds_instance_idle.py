from decimal import Decimal

import pytest

from tests.checks.kit import ago, context, eu, metrics, one, run, us
from tests.checks.rds_records import db

CHECK = "rds_instance_idle"
IDLE = {"DatabaseConnections__Maximum": 0}


def idle(database, days=30, **series):
    return [database, metrics(database, days=days, **(series or IDLE))]


@pytest.mark.parametrize("data, region, expected", [
    # positive: Single-AZ PostgreSQL on gp3 with the included 3,000 IOPS
    ({}, "us-east-1", 730 * us("rds.instance.postgres.single.db.m5.large") + 100 * us("rds.storage.gp3.single")),
    # priced in the instance's own region
    ({}, "eu-west-1", 730 * eu("rds.instance.postgres.single.db.m5.large") + 100 * eu("rds.storage.gp3.single")),
    # Multi-AZ MySQL on io1: Multi-AZ hours, storage and provisioned IOPS
    ({"engine": "mysql", "multi_az": True, "storage_type": "io1", "allocated_storage_gib": 200, "iops": 2000},
     "us-east-1", 730 * us("rds.instance.mysql.multi.db.m5.large") + 200 * us("rds.storage.io1.multi")
     + 2000 * us("rds.iops.io1.multi")),
    # gp3 at 500 GiB includes 12,000 IOPS; 3,000 more are billed
    ({"allocated_storage_gib": 500, "iops": 15000}, "us-east-1",
     730 * us("rds.instance.postgres.single.db.m5.large") + 500 * us("rds.storage.gp3.single")
     + 3000 * us("rds.iops.gp3.single")),
])
def test_idle_instance_is_priced_at_hours_storage_and_iops(data, region, expected):
    finding = one(context(idle(db(region=region, **data))), CHECK)
    assert finding.monthly_savings == expected == finding.current_monthly_cost
    assert finding.action == "Delete" and finding.confidence == "Medium"
    assert {line.region for line in finding.price_lines} == {region}
    (note,) = [line for line in finding.price_lines if line.role == "note"]
    assert note.price_key == "rds.snapshot" and note.quantity == Decimal(data.get("allocated_storage_gib", 100))
    assert finding.evidence["metrics"]["DatabaseConnections.Maximum"]["max"] == 0
    assert "--final-db-snapshot-identifier db-1-final" in finding.remediation


def test_boundary_exactly_min_days_of_data_and_age_is_reported():
    young = db(create_time=ago(14))
    assert one(context([young, metrics(young, days=14, DatabaseConnections__Maximum=0)]), CHECK)


@pytest.mark.parametrize("items", [
    idle(db(), DatabaseConnections__Maximum=[0] * 29 + [1]),  # busy look-alike: one connection on one day
    idle(db(), days=13),  # boundary: one day short of evidence
    idle(db(create_time=ago(13.9))),  # boundary: too young to judge
    idle(db(status="stopped")),
    idle(db(cluster_id="cl-1", engine="aurora-postgresql", instance_class="db.r6g.large")),  # Aurora: cluster check
    [db()],  # no CloudWatch data
])
def test_busy_young_stopped_or_unmeasured_instances_are_not_flagged(items):
    assert run(context(items), CHECK) == []


def test_threshold_override_moves_the_boundary():
    items = idle(db(), DatabaseConnections__Maximum=[0] * 29 + [1])
    assert one(context(items, thresholds={"rds_idle_max_connections": 1}), CHECK)


def test_unpriced_region_gives_the_reason():
    finding = one(context(idle(db(region="ap-south-2"))), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert "ap-south-2" in finding.price_note


def test_engine_outside_the_catalogue_is_shown_unpriced():
    finding = one(context(idle(db(engine="oracle-ee", license_model="bring-your-own-license"))), CHECK)
    assert finding.monthly_savings is None
    assert finding.price_note == "On-Demand prices for oracle-ee are not in the price catalogue"


def test_an_idle_instance_in_extended_support_also_saves_the_surcharge():
    finding = one(context(idle(db(engine="mysql", engine_version="5.7.44", multi_az=True))), CHECK)
    assert finding.monthly_savings == (
        730 * us("rds.instance.mysql.multi.db.m5.large") + 100 * us("rds.storage.gp3.multi")
        + 2 * 2 * 730 * us("rds.extended_support.mysql.yr3")  # 2 vCPUs, primary and standby
    )
    assert finding.evidence["extended_support_surcharge"] == "included"
