from decimal import Decimal

import pytest

from tests.checks.kit import context, eu, make_catalogue, one, run, us
from tests.checks.rds_records import db

CHECK = "rds_storage_io1_to_gp3"


def io1(**data):
    return db(**{"storage_type": "io1", "storage_throughput": None, **data})


@pytest.mark.parametrize("data, region, expected", [
    # 500 GiB: gp3 includes 12,000 IOPS, so 10,000 provisioned IOPS cost nothing extra
    ({"allocated_storage_gib": 500, "iops": 10000}, "us-east-1",
     500 * us("rds.storage.io1.single") + 10000 * us("rds.iops.io1.single") - 500 * us("rds.storage.gp3.single")),
    ({"allocated_storage_gib": 500, "iops": 10000, "region": "eu-west-1"}, "eu-west-1",
     500 * eu("rds.storage.io1.single") + 10000 * eu("rds.iops.io1.single") - 500 * eu("rds.storage.gp3.single")),
    # below 400 GiB the included 3,000 IOPS suffice: same size
    ({"allocated_storage_gib": 100, "iops": 1000}, "us-east-1",
     100 * us("rds.storage.io1.single") + 1000 * us("rds.iops.io1.single") - 100 * us("rds.storage.gp3.single")),
    # Multi-AZ, 20,000 IOPS: 8,000 above the included 12,000 are billed on gp3
    ({"allocated_storage_gib": 1000, "iops": 20000, "multi_az": True}, "us-east-1",
     1000 * us("rds.storage.io1.multi") + 20000 * us("rds.iops.io1.multi")
     - 1000 * us("rds.storage.gp3.multi") - 8000 * us("rds.iops.gp3.multi")),
])
def test_io1_is_priced_against_gp3_with_the_same_iops(data, region, expected):
    finding = one(context([io1(**data)]), CHECK)
    assert finding.monthly_savings == expected
    assert {line.region for line in finding.price_lines} == {region}
    assert finding.action == "Rightsize" and not finding.restart_needed and "6 hours" in finding.recommended
    assert "--storage-type gp3" in finding.remediation


def test_more_than_3000_iops_below_400_gib_is_priced_at_400_gib():
    finding = one(context([io1(allocated_storage_gib=100, iops=5000)]), CHECK)
    assert finding.monthly_savings == (100 * us("rds.storage.io1.single") + 5000 * us("rds.iops.io1.single")
                                       - 400 * us("rds.storage.gp3.single"))
    assert "--allocated-storage 400" in finding.remediation and "--iops" not in finding.remediation
    assert finding.evidence["storage_grown"] and not finding.rollback_possible


def test_iops_above_the_included_baseline_are_set_in_the_command():
    finding = one(context([io1(allocated_storage_gib=1000, iops=20000)]), CHECK)
    assert "--iops 20000" in finding.remediation and "--allocated-storage 1000" in finding.remediation


@pytest.mark.parametrize("data, grown, extra", [
    ({"allocated_storage_gib": 2000, "iops": 64000}, False, 52000),  # boundary: gp3's maximum
    ({"allocated_storage_gib": 400, "iops": 12000}, False, 0),  # boundary: exactly the striping threshold
    ({"allocated_storage_gib": 399, "iops": 3001}, True, 0),  # just below it, just above 3,000 IOPS
    ({"allocated_storage_gib": 399, "iops": 3000}, False, 0),
])
def test_boundaries_of_the_gp3_configuration(data, grown, extra):
    finding = one(context([io1(**data)]), CHECK)
    assert finding.evidence["storage_grown"] is grown and finding.evidence["gp3_extra_iops"] == extra


@pytest.mark.parametrize("record", [
    io1(allocated_storage_gib=2000, iops=64001),  # just beyond gp3's maximum
    db(storage_type="gp3"),
    io1(engine="oracle-ee", iops=1000),  # other gp3 rules: not considered
    io1(cluster_id="maz-1"),  # gp3 is not offered for Multi-AZ DB clusters
    io1(status="stopped"),
])
def test_other_storage_or_engines_are_not_flagged(record):
    assert run(context([record]), CHECK) == []


def test_mysql_above_32000_iops_is_unpriced_because_throughput_rises():
    finding = one(context([io1(engine="mysql", allocated_storage_gib=2000, iops=40000)]), CHECK)
    assert finding.monthly_savings is None and "throughput" in finding.price_note


def test_io2_iops_without_a_catalogue_price_leave_the_finding_unpriced():
    record = io1(storage_type="io2", allocated_storage_gib=500, iops=10000)
    finding = one(context([record]), CHECK)
    assert finding.monthly_savings is None and "rds.iops.io2.single" in finding.price_note
    io2_iops = Decimal("0.10")  # test price of an extra key
    priced = one(context([record], catalogue=make_catalogue(extra={"rds.iops.io2.single": ("IOPS-Mo", str(io2_iops))})),
                 CHECK)
    assert priced.monthly_savings == (500 * us("rds.storage.io2.single") + 10000 * io2_iops
                                      - 500 * us("rds.storage.gp3.single"))


def test_unpriced_region_gives_the_reason():
    finding = one(context([io1(region="ap-south-2", allocated_storage_gib=500, iops=10000)]), CHECK)
    assert finding.monthly_savings is None and "ap-south-2" in finding.price_note
