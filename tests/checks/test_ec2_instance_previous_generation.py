import pytest

from finops.checks import discover, run_checks
from tests.checks.kit import context, eu, instance, make_catalogue, one, run, us
from tests.checks.kit_ec2 import HOURS

CHECK = "ec2_instance_previous_generation"


@pytest.mark.parametrize("current, target, region", [
    ("m4.large", "m5.large", "us-east-1"),
    ("m4.large", "m5.large", "eu-west-1"),
    ("m4.xlarge", "m5.xlarge", "us-east-1"),
    ("t2.medium", "t3.medium", "us-east-1"),
    ("t2.micro", "t3.micro", "us-east-1"),
    ("c4.large", "c5.large", "us-east-1"),
    ("r4.large", "r5.large", "us-east-1"),
])
def test_previous_generation_is_priced_against_its_successor(current, target, region):
    price = us if region == "us-east-1" else eu
    finding = one(context([instance(region=region, instance_type=current)]), CHECK)
    assert finding.monthly_savings == HOURS * (price(f"ec2.linux.{current}") - price(f"ec2.linux.{target}"))
    assert finding.current_monthly_cost == HOURS * price(f"ec2.linux.{current}")
    assert finding.recommended == target and f"--value {target}" in finding.remediation
    assert finding.action == "Upgrade" and finding.confidence == "High" and finding.effort == "Medium"
    assert finding.restart_needed
    assert {line.region for line in finding.price_lines} == {region}


@pytest.mark.parametrize("data", [
    {"instance_type": "m5.large"},  # current generation
    {"instance_type": "m3.medium"},  # no m5.medium: no successor of the same size
    {"instance_type": "m4.large", "state": "stopped"},
    {"instance_type": "m4.large", "lifecycle": "spot"},  # the On-Demand delta does not apply
    {"instance_type": "m4.large", "autoscaling_group": "web"},  # changed through the launch template
])
def test_current_or_managed_instances_are_not_flagged(data):
    assert run(context([instance(**data)]), CHECK) == []


def test_a_successor_that_costs_more_is_no_opportunity():
    catalogue = make_catalogue(extra={"ec2.linux.m4.2xlarge": ("Hrs", "0.30")})  # below m5.2xlarge's 0.384
    spec = discover()[CHECK]
    ctx = context([instance(instance_type="m4.2xlarge")], catalogue=catalogue, regions=("us-east-1",))
    assert run_checks(ctx, [spec]).findings == []


def test_windows_gives_an_unpriced_finding():
    finding = one(context([instance(instance_type="m4.large", platform="windows", platform_details="Windows")]),
                  CHECK)
    assert finding.monthly_savings is None and "Windows" in finding.price_note


def test_unpriced_region_keeps_the_finding_with_the_reason():
    finding = one(context([instance(region="ap-south-2", instance_type="m4.large")]), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert "ap-south-2" in finding.price_note
