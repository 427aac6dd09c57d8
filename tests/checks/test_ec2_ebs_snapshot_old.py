import pytest

from tests.checks.kit import ago, context, eu, one, run, us, volume
from tests.checks.kit_ec2 import snapshot

CHECK = "ec2_ebs_snapshot_old"


def chain(region="us-east-1", age=120, **data):
    """vol-1 with an old snapshot (snap-1) and a newer one (snap-2)."""
    return [
        volume("vol-1", region),
        snapshot("snap-1", region, volume_id="vol-1", start_time=ago(age), **data),
        snapshot("snap-2", region, volume_id="vol-1", start_time=ago(5)),
    ]


@pytest.mark.parametrize("data, region, expected", [
    ({}, "us-east-1", 100 * us("ebs.snapshot.standard")),
    ({}, "eu-west-1", 100 * eu("ebs.snapshot.standard")),
    ({"storage_tier": "archive", "volume_size_gib": 500}, "us-east-1", 500 * us("ebs.snapshot.archive")),
])
def test_old_snapshot_is_priced_as_an_upper_bound(data, region, expected):
    finding = one(context(chain(region, **data)), CHECK)
    assert finding.resource_id == "snap-1"
    assert finding.monthly_savings == expected
    assert finding.action == "Delete" and finding.confidence == "Low"
    assert "upper bound" in finding.title and "upper bound" in finding.formula
    assert {line.region for line in finding.price_lines} == {region}
    assert finding.evidence["newest_snapshot_of_volume"] == "snap-2"


@pytest.mark.parametrize("age, flagged", [(90.01, True), (90, False), (89, False)])
def test_boundary_older_than_the_threshold(age, flagged):
    assert bool(run(context(chain(age=age)), CHECK)) is flagged


@pytest.mark.parametrize("data", [
    {"ami_ids": ["ami-1"]},  # cloud-custodian#3700: the AMI must go first
    {"ami_ids": None},
    {"state": "pending"},
    {"tags": {"aws:dlm:lifecycle-policy-id": "policy-1"}},  # a retention policy keeps it on purpose
    {"description": "This snapshot is created by the AWS Backup service."},
])
def test_referenced_or_policy_kept_snapshots_are_not_flagged(data):
    assert run(context(chain(**data)), CHECK) == []


def test_the_newest_snapshot_of_a_volume_is_kept():
    items = [volume("vol-1"), snapshot("snap-1", volume_id="vol-1", start_time=ago(400))]
    assert run(context(items), CHECK) == []


def test_a_snapshot_of_a_deleted_volume_is_the_orphan_checks():
    items = [snapshot("snap-1", volume_id="vol-gone", start_time=ago(400)),
             snapshot("snap-2", volume_id="vol-gone", start_time=ago(5))]
    assert run(context(items), CHECK) == []


def test_threshold_override():
    assert run(context(chain(age=40), thresholds={"snapshot_old_days": 30}), CHECK)


def test_unpriced_region_keeps_the_finding_with_the_reason():
    finding = one(context(chain("ap-south-2")), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert "ap-south-2" in finding.price_note
