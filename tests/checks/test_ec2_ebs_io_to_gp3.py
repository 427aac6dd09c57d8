from decimal import Decimal

import pytest

from tests.checks.kit import context, eu, one, run, us, volume

CHECK = "ec2_ebs_io_to_gp3"


def gp3(price, size, iops, throughput):
    return size * price("ebs.gp3.storage") + (iops - 3000) * price("ebs.gp3.iops") + (
        throughput - 125) * price("ebs.gp3.throughput")


@pytest.mark.parametrize("data, region, current, iops, throughput", [
    # io1, 1,000 IOPS x 256 KiB = 250 MiB/s
    ({"volume_type": "io1", "size_gib": 100, "iops": 1000}, "us-east-1",
     100 * us("ebs.io1.storage") + 1000 * us("ebs.io1.iops"), 3000, 250),
    ({"volume_type": "io1", "size_gib": 100, "iops": 1000}, "eu-west-1",
     100 * eu("ebs.io1.storage") + 1000 * eu("ebs.io1.iops"), 3000, 250),
    # small io1: throughput never below gp3's included 125 MiB/s
    ({"volume_type": "io1", "size_gib": 20, "iops": 100}, "us-east-1",
     20 * us("ebs.io1.storage") + 100 * us("ebs.io1.iops"), 3000, 125),
    # io2 (first IOPS tier): 8,000 IOPS / 4 = 2,000 MiB/s, capped at gp3's 1,000
    ({"volume_type": "io2", "size_gib": 500, "iops": 8000}, "us-east-1",
     500 * us("ebs.io2.storage") + 8000 * Decimal("0.065"), 8000, 1000),
    # 3,001 IOPS: 750.25 MiB/s rounds up to 751, but gp3 allows 0.25 MiB/s per IOPS: 750
    ({"volume_type": "io1", "size_gib": 100, "iops": 3001}, "us-east-1",
     100 * us("ebs.io1.storage") + 3001 * us("ebs.io1.iops"), 3001, 750),
    # boundary: exactly the 16,000 IOPS threshold
    ({"volume_type": "io1", "size_gib": 400, "iops": 16000}, "us-east-1",
     400 * us("ebs.io1.storage") + 16000 * us("ebs.io1.iops"), 16000, 1000),
])
def test_io_volume_is_priced_against_gp3(data, region, current, iops, throughput):
    price = us if region == "us-east-1" else eu
    finding = one(context([volume(region=region, **data)]), CHECK)
    assert finding.current_monthly_cost == current
    assert finding.monthly_savings == current - gp3(price, data["size_gib"], iops, throughput)
    assert finding.recommended == f"gp3, {iops} IOPS, {throughput} MiB/s"
    assert f"--volume-type gp3 --iops {iops} --throughput {throughput}" in finding.remediation
    assert finding.action == "Rightsize" and finding.confidence == "Medium" and finding.rollback_possible
    assert "latency" in finding.evidence["given_up"]
    assert ("99.999%" in finding.evidence["given_up"]) is (data["volume_type"] == "io2")
    assert {line.region for line in finding.price_lines} == {region}


@pytest.mark.parametrize("data", [
    {"volume_type": "io1", "size_gib": 400, "iops": 16001},  # just beyond the threshold
    {"volume_type": "io2", "size_gib": 10, "iops": 8000},  # 800 IOPS per GiB: beyond gp3's 500
    {"volume_type": "io2", "size_gib": 20000, "iops": 3000},  # beyond gp3's 16 TiB
    {"volume_type": "io2", "size_gib": 100, "iops": 3000,  # Multi-Attach: gp3 cannot
     "attachments": [{"instance_id": "i-1", "state": "attached"}, {"instance_id": "i-2", "state": "attached"}]},
    {"volume_type": "io1", "size_gib": 100, "iops": 1000, "state": "deleting"},
    {"volume_type": "gp2", "size_gib": 100},
])
def test_volumes_gp3_cannot_serve_are_not_flagged(data):
    assert run(context([volume(**data)]), CHECK) == []


@pytest.mark.parametrize("iops, flagged", [(5000, True), (5001, False)])
def test_threshold_override_moves_the_boundary(iops, flagged):
    ctx = context([volume(volume_type="io1", size_gib=200, iops=iops)], thresholds={"io_to_gp3_max_iops": 5000})
    assert bool(run(ctx, CHECK)) is flagged


def test_unpriced_region_keeps_the_finding_with_the_reason():
    finding = one(context([volume(region="ap-south-2", volume_type="io1", iops=1000)]), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert "ap-south-2" in finding.price_note
