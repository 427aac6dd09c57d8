from decimal import Decimal

import pytest

from finops.checks import discover, run_checks
from tests.checks.kit import context, eu, make_catalogue, one, run, us
from tests.checks.rds_records import db

CHECK = "rds_instance_previous_generation"
T2_MEDIUM = Decimal("0.072")  # test price of an extra class
CATALOGUE = make_catalogue(extra={"rds.instance.mysql.single.db.t2.medium": ("Hrs", str(T2_MEDIUM))})


@pytest.mark.parametrize("data, region, expected", [
    ({"instance_class": "db.m4.large"}, "us-east-1",
     730 * (us("rds.instance.postgres.single.db.m4.large") - us("rds.instance.postgres.single.db.m5.large"))),
    ({"instance_class": "db.m4.large"}, "eu-west-1",
     730 * (eu("rds.instance.postgres.single.db.m4.large") - eu("rds.instance.postgres.single.db.m5.large"))),
    ({"instance_class": "db.m4.large", "multi_az": True}, "us-east-1",
     730 * (us("rds.instance.postgres.multi.db.m4.large") - us("rds.instance.postgres.multi.db.m5.large"))),
    ({"instance_class": "db.t2.medium", "engine": "mysql"}, "us-east-1",
     730 * (T2_MEDIUM - us("rds.instance.mysql.single.db.t3.medium"))),
])
def test_previous_generation_is_priced_against_its_successor(data, region, expected):
    finding = one(context([db(region=region, **data)], catalogue=CATALOGUE), CHECK)
    assert finding.monthly_savings == expected and finding.monthly_savings > 0
    assert finding.action == "Upgrade" and finding.confidence == "High"
    assert finding.recommended in ("db.m5.large", "db.t3.medium")
    assert f"--db-instance-class {finding.recommended}" in finding.remediation


@pytest.mark.parametrize("data", [
    {"instance_class": "db.m5.large"},  # current generation
    {"instance_class": "db.m3.medium"},  # boundary: the successor family has no medium size
    {"instance_class": "db.m4.xlarge"},  # boundary: successor db.m5.xlarge not priced for MySQL
    {"instance_class": "db.m4.large", "status": "stopped"},
])
def test_current_or_unmatched_classes_are_not_flagged(data):
    assert run(context([db(engine="mysql", **data)]), CHECK) == []


def test_a_successor_that_is_not_cheaper_is_dropped_by_the_runner():
    catalogue = make_catalogue(extra={"rds.instance.mysql.single.db.t2.medium": ("Hrs", "0.060")})
    spec = discover()[CHECK]
    found = run_checks(context([db(engine="mysql", instance_class="db.t2.medium")], catalogue=catalogue,
                                regions=("us-east-1",)), [spec])
    assert found.findings == []


def test_unpriced_region_and_engine_give_their_reasons():
    finding = one(context([db(region="ap-south-2", instance_class="db.m4.large")]), CHECK)
    assert finding.monthly_savings is None and "ap-south-2" in finding.price_note
    oracle = one(context([db(engine="oracle-ee", instance_class="db.m4.large")]), CHECK)
    assert oracle.price_note == "On-Demand prices for oracle-ee are not in the price catalogue"
