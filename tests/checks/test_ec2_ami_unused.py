import pytest

from tests.checks.kit import ago, context, eu, instance, one, run, us
from tests.checks.kit_ec2 import image, snapshot

CHECK = "ec2_ami_unused"


def backed(region="us-east-1", tier="standard", **data):
    """ami-9 with snap-a (8 GiB, in the inventory) and snap-b (20 GiB, known only from the block device)."""
    return [
        image("ami-9", region, snapshots={"snap-a": 8, "snap-b": 20}, **data),
        snapshot("snap-a", region, volume_id="vol-x", volume_size_gib=8, storage_tier=tier, ami_ids=["ami-9"]),
    ]


@pytest.mark.parametrize("region, tier, expected", [
    ("us-east-1", "standard", 28 * us("ebs.snapshot.standard")),
    ("eu-west-1", "standard", 28 * eu("ebs.snapshot.standard")),
    ("us-east-1", "archive", 8 * us("ebs.snapshot.archive") + 20 * us("ebs.snapshot.standard")),
])
def test_unused_ami_is_priced_by_its_snapshots(region, tier, expected):
    finding = one(context(backed(region, tier)), CHECK)
    assert finding.resource_id == "ami-9"
    assert finding.monthly_savings == expected
    assert finding.action == "Delete" and finding.confidence == "Low"
    assert set(finding.covers) == {"snap-a", "snap-b"}
    assert "upper bound" in finding.title and "upper bound" in finding.formula
    assert {line.region for line in finding.price_lines} == {region}
    assert finding.remediation == (
        f"aws ec2 deregister-image --region {region} --image-id ami-9 --delete-associated-snapshots"
    )


def test_a_snapshot_another_ami_uses_is_neither_priced_nor_covered():
    items = [*backed(), image("ami-8", snapshots={"snap-b": 20})]
    finding = [f for f in run(context(items), CHECK) if f.resource_id == "ami-9"][0]
    assert finding.monthly_savings == 8 * us("ebs.snapshot.standard")
    assert finding.covers == ("snap-a",)
    assert finding.evidence["snapshots_kept_for_other_amis"][0]["also_used_by"] == ["ami-8"]


@pytest.mark.parametrize("age, flagged", [(90, True), (89.9, False)])
def test_boundary_at_the_minimum_age(age, flagged):
    assert bool(run(context(backed(creation_date=ago(age))), CHECK)) is flagged


@pytest.mark.parametrize("launched, flagged", [(None, True), (90, True), (89.9, False), (10, False)])
def test_a_recent_launch_keeps_it(launched, flagged):
    items = backed(last_launched_time=ago(launched) if launched is not None else None)
    assert bool(run(context(items), CHECK)) is flagged


@pytest.mark.parametrize("state", ["running", "stopped"])
def test_an_ami_an_instance_uses_is_not_flagged(state):
    items = [*backed(), instance("i-1", image_id="ami-9", state=state)]
    assert run(context(items), CHECK) == []


@pytest.mark.parametrize("data", [
    {"state": "pending"},
    {"public": True},  # may have users outside the account
    {"root_device_type": "instance-store"},  # its bundle is in S3
])
def test_other_amis_are_not_flagged(data):
    assert run(context(backed(**data)), CHECK) == []


def test_unpriced_region_keeps_the_finding_with_the_reason():
    finding = one(context(backed("ap-south-2")), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert "ap-south-2" in finding.price_note
