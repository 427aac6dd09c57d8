import pytest

from tests.checks.kit import ago, context, eu, one, run, us, volume
from tests.checks.kit_ec2 import snapshot

CHECK = "ec2_ebs_snapshot_orphaned"


@pytest.mark.parametrize("data, region, expected", [
    # positive: source volume deleted, 100 GiB, standard tier
    ({}, "us-east-1", 100 * us("ebs.snapshot.standard")),
    # priced in the snapshot's own region
    ({}, "eu-west-1", 100 * eu("ebs.snapshot.standard")),
    # archived snapshots at the archive tier's price
    ({"storage_tier": "archive", "volume_size_gib": 40}, "us-east-1", 40 * us("ebs.snapshot.archive")),
    # a copy: AWS records vol-ffffffff as its source
    ({"volume_id": "vol-ffffffff", "volume_size_gib": 8}, "us-east-1", 8 * us("ebs.snapshot.standard")),
    # boundary: exactly the minimum age
    ({"start_time": ago(7)}, "us-east-1", 100 * us("ebs.snapshot.standard")),
    # Data Lifecycle Manager snapshots of a deleted volume are still orphans (EC2 can delete them)
    ({"tags": {"aws:dlm:lifecycle-policy-id": "policy-1"}}, "us-east-1", 100 * us("ebs.snapshot.standard")),
])
def test_orphaned_snapshot_is_priced_as_an_upper_bound(data, region, expected):
    finding = one(context([snapshot(region=region, **data)]), CHECK)
    assert finding.monthly_savings == expected
    assert finding.action == "Delete" and finding.confidence == "Low"
    assert "upper bound" in finding.title and "upper bound" in finding.formula
    assert {line.region for line in finding.price_lines} == {region}
    assert finding.remediation == f"aws ec2 delete-snapshot --region {region} --snapshot-id snap-1"


@pytest.mark.parametrize("data", [
    {"volume_id": "vol-1"},  # the source volume still exists
    {"ami_ids": ["ami-1"]},  # an AMI uses it: cannot be deleted first
    {"ami_ids": None},  # unknown (the AMI read failed): not "no AMI"
    {"state": "pending"},
    {"state": "error"},
    {"start_time": ago(6.9)},  # boundary: younger than 7 days
    {"start_time": None},
    {"description": "This snapshot is created by the AWS Backup service."},
    {"tags": {"aws:backup:source-resource": "arn:aws:ec2:us-east-1:111122223333:volume/vol-gone"}},
])
def test_not_orphaned_or_not_deletable_is_not_flagged(data):
    assert run(context([snapshot(**data), volume("vol-1")]), CHECK) == []


def test_threshold_override():
    young = snapshot(start_time=ago(2))
    assert run(context([young], thresholds={"snapshot_orphaned_min_days": 1}), CHECK)


def test_unpriced_region_keeps_the_finding_with_the_reason():
    finding = one(context([snapshot(region="ap-south-2")]), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert "ap-south-2" in finding.price_note
