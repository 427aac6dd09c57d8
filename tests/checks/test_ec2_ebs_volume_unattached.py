from decimal import Decimal

import pytest

from tests.checks.kit import ago, context, eu, one, run, us, volume


@pytest.mark.parametrize("data, region, expected", [
    # positive: 100 GiB gp2, a year old
    ({"volume_type": "gp2", "size_gib": 100}, "us-east-1", 100 * us("ebs.gp2.storage")),
    # priced in the volume's own region
    ({"volume_type": "gp2", "size_gib": 100}, "eu-west-1", 100 * eu("ebs.gp2.storage")),
    # gp3 with IOPS and throughput above the included 3,000 / 125 MiB/s
    ({"volume_type": "gp3", "size_gib": 40, "iops": 4000, "throughput": 130}, "us-east-1",
     40 * us("ebs.gp3.storage") + 1000 * us("ebs.gp3.iops") + 5 * us("ebs.gp3.throughput")),
    ({"volume_type": "io1", "size_gib": 30, "iops": 300}, "us-east-1",
     30 * us("ebs.io1.storage") + 300 * us("ebs.io1.iops")),
    # io2 IOPS are tiered: 32,000 at the first rate, 8,000 at the second
    ({"volume_type": "io2", "size_gib": 10, "iops": 40000}, "us-east-1",
     10 * us("ebs.io2.storage") + 32000 * Decimal("0.065") + 8000 * Decimal("0.0455")),
    # boundary: exactly the minimum age is reported
    ({"volume_type": "gp2", "size_gib": 10, "create_time": ago(7)}, "us-east-1", 10 * us("ebs.gp2.storage")),
])
def test_unattached_volume_is_priced_at_its_full_cost(data, region, expected):
    finding = one(context([volume(state="available", region=region, **data)]), "ec2_ebs_volume_unattached")
    assert finding.monthly_savings == expected
    assert finding.current_monthly_cost == expected
    assert finding.action == "Delete" and finding.confidence == "High"
    assert {line.region for line in finding.price_lines} == {region}
    # the final snapshot is shown as its own upper bound, never in the saving
    (note,) = [line for line in finding.price_lines if line.role == "note"]
    assert note.quantity == Decimal(data["size_gib"]) and note.price_key == "ebs.snapshot.standard"
    assert "delete-volume" in finding.remediation and "create-snapshot" in finding.remediation


@pytest.mark.parametrize("data", [
    {"state": "in-use", "attachments": [{"instance_id": "i-1", "state": "attached"}]},  # attached
    {"state": "available", "create_time": ago(6.9)},  # boundary: younger than 7 days
    {"state": "creating"},
])
def test_attached_or_young_volumes_are_not_flagged(data):
    assert run(context([volume(**data)]), "ec2_ebs_volume_unattached") == []


def test_threshold_override_changes_the_boundary():
    young = volume(state="available", create_time=ago(2))
    assert run(context([young], thresholds={"unattached_volume_min_days": 1}), "ec2_ebs_volume_unattached")


def test_missing_price_gives_an_unpriced_finding_with_the_reason():
    finding = one(context([volume(state="available", region="ap-south-2")]), "ec2_ebs_volume_unattached")
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert "ap-south-2" in finding.price_note


def test_hostile_names_stay_quoted_in_the_remediation():
    evil = volume("vol-1; rm -rf /", state="available")
    finding = one(context([evil]), "ec2_ebs_volume_unattached")
    assert "'vol-1; rm -rf /'" in finding.remediation
