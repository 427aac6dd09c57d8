from decimal import Decimal

import pytest

from finops.checks import run_checks
from tests.checks.kit import context, eu, make_catalogue, metrics, one, run, us
from tests.checks.rds_records import aurora, db

CHECK = "rds_instance_rightsize"
R6G_XL = Decimal("0.52")  # test price of an extra class
AURORA_XL = make_catalogue(extra={"rds.instance.aurora-postgresql.single.db.r6g.xlarge": ("Hrs", str(R6G_XL))})


def quiet(database, cpu=20, days=30):
    return [database, metrics(database, days=days, CPUUtilization__Maximum=cpu)]


@pytest.mark.parametrize("data, region, expected", [
    ({"instance_class": "db.m5.xlarge"}, "us-east-1",
     730 * (us("rds.instance.postgres.single.db.m5.xlarge") - us("rds.instance.postgres.single.db.m5.large"))),
    ({"instance_class": "db.m5.xlarge"}, "eu-west-1",
     730 * (eu("rds.instance.postgres.single.db.m5.xlarge") - eu("rds.instance.postgres.single.db.m5.large"))),
    ({"instance_class": "db.m5.xlarge", "multi_az": True}, "us-east-1",
     730 * (us("rds.instance.postgres.multi.db.m5.xlarge") - us("rds.instance.postgres.multi.db.m5.large"))),
])
def test_quiet_instance_is_priced_one_size_down(data, region, expected):
    finding = one(context(quiet(db(region=region, **data))), CHECK)
    assert finding.monthly_savings == expected
    assert finding.recommended == "db.m5.large" and finding.action == "Rightsize" and finding.restart_needed
    assert "--db-instance-class db.m5.large" in finding.remediation
    assert finding.evidence["metrics"]["CPUUtilization.Maximum"]["p95"] == 20


def test_aurora_members_are_included_and_priced_per_instance():
    member = aurora("db-a", instance_class="db.r6g.xlarge")
    finding = one(context(quiet(member), catalogue=AURORA_XL), CHECK)
    assert finding.monthly_savings == 730 * (R6G_XL - us("rds.instance.aurora-postgresql.single.db.r6g.large"))


@pytest.mark.parametrize("cpu, flagged", [
    ([10] * 28 + [25, 90], True),  # boundary: the 95th percentile (29th of 30 days) is exactly 25%
    ([10] * 28 + [25.1, 90], False),  # just beyond
])
def test_boundary_at_the_cpu_threshold(cpu, flagged):
    items = quiet(db(instance_class="db.m5.xlarge"), cpu=cpu)
    assert bool(run(context(items), CHECK)) is flagged


@pytest.mark.parametrize("items", [
    quiet(db(instance_class="db.m5.xlarge"), cpu=60),  # busy look-alike
    quiet(db(instance_class="db.m5.xlarge"), days=13),  # too little evidence
    quiet(db()),  # db.m5.large: the catalogue knows no smaller db.m5
    quiet(db(instance_class="db.m5.xlarge", status="stopped")),
    quiet(aurora("db-a", instance_class="db.serverless")),  # no size to step down
])
def test_busy_or_unjudgeable_instances_are_not_flagged(items):
    assert run(context(items), CHECK) == []


def test_unpriced_region_and_engine_give_their_reasons():
    finding = one(context(quiet(db(region="ap-south-2", instance_class="db.m5.xlarge"))), CHECK)
    assert finding.monthly_savings is None and "ap-south-2" in finding.price_note
    oracle = one(context(quiet(db(engine="oracle-se2", instance_class="db.m5.xlarge"))), CHECK)
    assert oracle.price_note == "On-Demand prices for oracle-se2 are not in the price catalogue"
    assert oracle.recommended == "db.m5.large"


def test_the_runner_keeps_the_priced_finding():
    run_ = run_checks(context(quiet(db(instance_class="db.m5.xlarge")), regions=("us-east-1",)))
    assert [f.check_id for f in run_.findings if f.check_id == CHECK] == [CHECK]
