from decimal import Decimal

import pytest

from tests.checks.kit import context, eu, make_catalogue, one, run, us
from tests.checks.rds_records import aurora, db

CHECK = "rds_instance_graviton"
T4G_MEDIUM, R5_LARGE, M6G_XL = Decimal("0.065"), Decimal("0.29"), Decimal("0.318")  # test prices of extra classes
CATALOGUE = make_catalogue(extra={
    "rds.instance.mysql.single.db.t4g.medium": ("Hrs", str(T4G_MEDIUM)),
    "rds.instance.aurora-mysql.single.db.r5.large": ("Hrs", str(R5_LARGE)),
})


@pytest.mark.parametrize("record, region, expected", [
    (db(), "us-east-1",
     730 * (us("rds.instance.postgres.single.db.m5.large") - us("rds.instance.postgres.single.db.m6g.large"))),
    (db(region="eu-west-1"), "eu-west-1",
     730 * (eu("rds.instance.postgres.single.db.m5.large") - eu("rds.instance.postgres.single.db.m6g.large"))),
    (db(multi_az=True), "us-east-1",
     730 * (us("rds.instance.postgres.multi.db.m5.large") - us("rds.instance.postgres.multi.db.m6g.large"))),
    (db(engine="mysql", instance_class="db.t3.medium"), "us-east-1",
     730 * (us("rds.instance.mysql.single.db.t3.medium") - T4G_MEDIUM)),
    (aurora("db-a", engine="aurora-mysql", engine_version="8.0.mysql_aurora.3.10.0", instance_class="db.r5.large"),
     "us-east-1", 730 * (R5_LARGE - us("rds.instance.aurora-mysql.single.db.r6g.large"))),
])
def test_x86_class_is_priced_against_its_graviton_counterpart(record, region, expected):
    finding = one(context([record], catalogue=CATALOGUE), CHECK)
    assert finding.monthly_savings == expected
    assert finding.action == "MigrateToGraviton" and finding.confidence == "Medium" and finding.restart_needed
    assert "engine version" in finding.recommended


@pytest.mark.parametrize("record", [
    db(instance_class="db.m6g.large"),  # already Graviton
    db(engine="oracle-ee"),  # no Graviton classes for Oracle
    db(instance_class="db.m5.24xlarge"),  # db.m6g has no 24xlarge
    db(instance_class="db.m5.xlarge"),  # boundary: db.m6g.xlarge not in the catalogue
    db(status="stopped"),
])
def test_graviton_ineligible_instances_are_not_flagged(record):
    assert run(context([record]), CHECK) == []


def test_boundary_the_counterpart_key_decides():
    catalogue = make_catalogue(extra={"rds.instance.postgres.single.db.m6g.xlarge": ("Hrs", str(M6G_XL))})
    finding = one(context([db(instance_class="db.m5.xlarge")], catalogue=catalogue), CHECK)
    assert finding.monthly_savings == 730 * (us("rds.instance.postgres.single.db.m5.xlarge") - M6G_XL)


def test_unpriced_region_gives_the_reason():
    finding = one(context([db(region="ap-south-2")]), CHECK)
    assert finding.monthly_savings is None and "ap-south-2" in finding.price_note
