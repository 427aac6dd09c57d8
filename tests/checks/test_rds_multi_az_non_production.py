import pytest

from tests.checks.kit import context, eu, one, run, us
from tests.checks.rds_records import db

CHECK = "rds_multi_az_non_production"
DEV = {"Environment": "Dev"}


@pytest.mark.parametrize("data, region, expected", [
    ({}, "us-east-1",
     730 * (us("rds.instance.postgres.multi.db.m5.large") - us("rds.instance.postgres.single.db.m5.large"))
     + 100 * (us("rds.storage.gp3.multi") - us("rds.storage.gp3.single"))),
    ({}, "eu-west-1",
     730 * (eu("rds.instance.postgres.multi.db.m5.large") - eu("rds.instance.postgres.single.db.m5.large"))
     + 100 * (eu("rds.storage.gp3.multi") - eu("rds.storage.gp3.single"))),
    ({"engine": "mysql", "storage_type": "io1", "allocated_storage_gib": 200, "iops": 2000}, "us-east-1",
     730 * (us("rds.instance.mysql.multi.db.m5.large") - us("rds.instance.mysql.single.db.m5.large"))
     + 200 * (us("rds.storage.io1.multi") - us("rds.storage.io1.single"))
     + 2000 * (us("rds.iops.io1.multi") - us("rds.iops.io1.single"))),
])
def test_non_production_multi_az_is_priced_against_single_az(data, region, expected):
    finding = one(context([db(region=region, multi_az=True, tags=DEV, **data)]), CHECK)
    assert finding.monthly_savings == expected
    assert finding.recommended == "Single-AZ" and finding.action == "Rightsize" and not finding.restart_needed
    assert "--no-multi-az --apply-immediately" in finding.remediation
    assert finding.evidence["non_production_tag"] == {"key": "Environment", "value": "Dev"}


@pytest.mark.parametrize("tags, flagged", [
    ({"ENV": " STAGING "}, True),  # boundary: key and value case-insensitive, value trimmed
    ({"env": "staging2"}, False),  # just beyond: not a listed value
    ([{"Key": "stage", "Value": "qa"}], True),  # tags as AWS lists them
    ({"Environment": "production"}, False),
    ({"Owner": "dev"}, False),  # not an environment key
    ({}, False),
])
def test_boundary_of_the_tag_match(tags, flagged):
    assert bool(run(context([db(multi_az=True, tags=tags)]), CHECK)) is flagged


@pytest.mark.parametrize("data", [
    {"multi_az": False},
    {"status": "stopped"},
    {"cluster_id": "maz-1"},  # Multi-AZ DB cluster member
    {"engine": "aurora-postgresql", "cluster_id": "cl-1", "instance_class": "db.r6g.large"},
])
def test_single_az_clustered_or_stopped_instances_are_not_flagged(data):
    assert run(context([db(**{"multi_az": True, "tags": DEV, **data})]), CHECK) == []


def test_threshold_override_of_the_values():
    record = db(multi_az=True, tags={"env": "uat"})
    assert run(context([record]), CHECK) == []
    assert one(context([record], thresholds={"non_production_tag_values": ["uat"]}), CHECK)


def test_unpriced_region_and_engine_give_their_reasons():
    finding = one(context([db(region="ap-south-2", multi_az=True, tags=DEV)]), CHECK)
    assert finding.monthly_savings is None and "ap-south-2" in finding.price_note
    sql = one(context([db(engine="sqlserver-se", multi_az=True, tags=DEV)]), CHECK)
    assert sql.price_note == "On-Demand prices for sqlserver-se are not in the price catalogue"
