import pytest

from finops.checks import discover, run_checks
from tests.checks.kit import context, eu, make_catalogue, one, run, us, volume

CHECK = "ec2_ebs_gp2_to_gp3"


def gp3(price, size, iops=3000, throughput=125):
    return size * price("ebs.gp3.storage") + (iops - 3000) * price("ebs.gp3.iops") + (
        throughput - 125) * price("ebs.gp3.throughput")


@pytest.mark.parametrize("size, region, iops, throughput", [
    (100, "us-east-1", 3000, 125),  # below 1 TiB: gp2 bursts to 3,000, gp3 includes it
    (100, "eu-west-1", 3000, 125),  # priced in the volume's own region
    (170, "us-east-1", 3000, 125),  # boundary: 128 MiB/s up to 170 GiB, matched by the included 125
    (171, "us-east-1", 3000, 250),  # just beyond: gp2 reaches 250 MiB/s
    (1000, "us-east-1", 3000, 250),  # boundary: 3 x 1,000 = 3,000 IOPS
    (1001, "us-east-1", 3003, 250),  # just beyond: 3 IOPS per GiB
    (2000, "us-east-1", 6000, 250),
    (10000, "us-east-1", 16000, 250),  # IOPS capped at 16,000
])
def test_gp2_is_priced_against_gp3_of_matched_performance(size, region, iops, throughput):
    price = us if region == "us-east-1" else eu
    finding = one(context([volume(region=region, volume_type="gp2", size_gib=size)]), CHECK)
    assert finding.current_monthly_cost == size * price("ebs.gp2.storage")
    assert finding.monthly_savings == size * price("ebs.gp2.storage") - gp3(price, size, iops, throughput)
    assert finding.recommended == f"gp3, {iops} IOPS, {throughput} MiB/s"
    assert finding.remediation == (f"aws ec2 modify-volume --region {region} --volume-id vol-1 --volume-type gp3 "
                                   f"--iops {iops} --throughput {throughput}")
    assert finding.action == "Upgrade" and finding.confidence == "High" and finding.effort == "VeryLow"
    assert finding.rollback_possible and not finding.restart_needed
    assert {line.region for line in finding.price_lines} == {region}


@pytest.mark.parametrize("data", [
    {"volume_type": "gp3"},
    {"volume_type": "io1", "iops": 100},
    {"volume_type": "gp2", "state": "deleting"},
])
def test_other_volumes_are_not_flagged(data):
    assert run(context([volume(**data)]), CHECK) == []


def test_unattached_gp2_is_flagged_too():
    assert one(context([volume(state="available")]), CHECK).monthly_savings == 100 * (
        us("ebs.gp2.storage") - us("ebs.gp3.storage"))


def test_no_saving_is_no_opportunity():
    same = make_catalogue(extra={"ebs.gp3.storage": ("GB-Mo", "0.10")})  # gp3 priced as gp2
    spec = discover()[CHECK]
    assert run_checks(context([volume()], catalogue=same, regions=("us-east-1",)), [spec]).findings == []


def test_unpriced_region_keeps_the_finding_with_the_reason():
    finding = one(context([volume(region="ap-south-2")]), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert "ap-south-2" in finding.price_note
