from decimal import Decimal

import pytest

from finops.checks.merge import merge
from tests.checks.kit import ago, context, eu, instance, one, run, us, volume
from tests.checks.kit_ec2 import HOURS, address, lines

CHECK = "ec2_instance_stopped"


def stopped(region="us-east-1", days=60, **data):
    fields = {"state": "stopped", "stopped_since": ago(days) if days is not None else None,
              "state_transition_reason": "User initiated", **data}
    return instance("i-1", region, **fields)


def attached(volume_id, region="us-east-1", **data):
    return volume(volume_id, region, attachments=[{"instance_id": "i-1", "state": "attached"}], **data)


def world(region="us-east-1", days=60, **data):
    return [
        stopped(region, days, **data),
        attached("vol-1", region, volume_type="gp2", size_gib=100),
        attached("vol-2", region, volume_type="gp3", size_gib=50, iops=4000, throughput=125),
        address("eipalloc-1", region, instance_id="i-1", association_id="eipassoc-1"),
    ]


@pytest.mark.parametrize("region, price", [("us-east-1", us), ("eu-west-1", eu)])
def test_stopped_instance_is_priced_by_its_volumes_and_addresses(region, price):
    finding = one(context(world(region)), CHECK)
    expected = (100 * price("ebs.gp2.storage") + 50 * price("ebs.gp3.storage") + 1000 * price("ebs.gp3.iops")
                + HOURS * price("vpc.public_ipv4.idle"))
    assert finding.monthly_savings == expected and finding.current_monthly_cost == expected
    assert finding.resource_id == "i-1" and finding.action == "Delete" and finding.confidence == "High"
    assert set(finding.covers) == {"vol-1", "vol-2", "eipalloc-1"}
    assert {line.region for line in finding.price_lines} == {region}
    (note,) = lines(finding, "note")  # the final AMI: shown, never in the saving
    assert note.price_key == "ebs.snapshot.standard" and note.quantity == Decimal(150)
    assert finding.evidence["stopped_days"] == 60.0
    for step in ("create-image", "wait image-available", "terminate-instances", "release-address", "delete-volume"):
        assert step in finding.remediation
    assert "--name final-i-1" in finding.remediation


@pytest.mark.parametrize("days, flagged", [(30, True), (29.9, False), (None, False)])
def test_boundary_at_the_minimum_stopped_days(days, flagged):
    assert bool(run(context(world(days=days)), CHECK)) is flagged


@pytest.mark.parametrize("data", [
    {"state": "running"},
    {"state": "stopping"},
    {"autoscaling_group": "web"},  # warm pool: stopped on purpose, and the group replaces what is terminated
])
def test_running_or_managed_instances_are_not_flagged(data):
    assert run(context(world(**data)), CHECK) == []


def test_byoip_address_adds_nothing_but_is_covered():
    items = [stopped(), attached("vol-1", size_gib=10),
             address("eipalloc-2", instance_id="i-1", public_ipv4_pool="ipv4pool-ec2-0123")]
    finding = one(context(items), CHECK)
    assert finding.monthly_savings == 10 * us("ebs.gp2.storage")
    assert "eipalloc-2" in finding.covers


def test_threshold_override():
    assert run(context(world(days=3), thresholds={"stopped_instance_min_days": 2}), CHECK)


def test_unpriced_region_keeps_the_finding_with_the_reason():
    finding = one(context(world("ap-south-2")), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert "ap-south-2" in finding.price_note


def test_the_covered_volume_findings_are_not_counted_again():
    ctx = context(world())
    stopped_finding = one(ctx, CHECK)
    gp3 = one(ctx, "ec2_ebs_gp2_to_gp3")  # vol-1 is gp2
    result = merge([stopped_finding, gp3])
    assert [f.resource_id for f in result.findings] == ["i-1"]
    assert result.findings[0].alternatives[0]["check_id"] == "ec2_ebs_gp2_to_gp3"
    assert result.monthly_savings == stopped_finding.monthly_savings.quantize(Decimal("0.01"))
