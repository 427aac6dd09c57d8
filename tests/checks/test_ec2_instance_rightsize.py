from decimal import Decimal

import pytest

from tests.checks.kit import ago, context, eu, instance, make_catalogue, metrics, one, run, us
from tests.checks.kit_ec2 import HOURS

CHECK = "ec2_instance_rightsize"


def peaks(cpu=30.0, days=30, region="us-east-1", **data):
    host = instance("i-1", region, **{"instance_type": "m5.xlarge", **data})
    return [host, metrics(host, days=days, CPUUtilization__Maximum=cpu, CPUUtilization__Average=3)]


def delta(price, current, target):
    return HOURS * (price(f"ec2.linux.{current}") - price(f"ec2.linux.{target}"))


@pytest.mark.parametrize("items, region, current, target", [
    (peaks(), "us-east-1", "m5.xlarge", "m5.large"),
    (peaks(region="eu-west-1"), "eu-west-1", "m5.xlarge", "m5.large"),
    (peaks(instance_type="m5.2xlarge"), "us-east-1", "m5.2xlarge", "m5.xlarge"),
    (peaks(instance_type="t3.medium"), "us-east-1", "t3.medium", "t3.micro"),  # t3.small unknown: skipped over
    # boundary: the 95th percentile exactly at 40%
    (peaks(cpu=40.0), "us-east-1", "m5.xlarge", "m5.large"),
    # one busy day in 30 is above the 95th percentile
    (peaks(cpu=[20.0] * 29 + [95.0]), "us-east-1", "m5.xlarge", "m5.large"),
    (peaks(days=14, launch_time=ago(14)), "us-east-1", "m5.xlarge", "m5.large"),
])
def test_one_size_down_is_priced(items, region, current, target):
    price = us if region == "us-east-1" else eu
    finding = one(context(items), CHECK)
    assert finding.monthly_savings == delta(price, current, target)
    assert finding.recommended == target
    assert f"--attribute instanceType --value {target}" in finding.remediation
    assert "stop-instances" in finding.remediation and "start-instances" in finding.remediation
    assert finding.action == "Rightsize" and finding.confidence == "Medium" and finding.restart_needed
    assert set(finding.evidence["metrics"]) == {"CPUUtilization.Maximum"}
    assert "memory" in finding.evidence["not_visible"]
    assert {line.region for line in finding.price_lines} == {region}


@pytest.mark.parametrize("items", [
    peaks(cpu=40.1),  # just beyond the threshold
    peaks(cpu=[20.0] * 28 + [95.0, 95.0]),  # busy look-alike: two busy days reach the 95th percentile
    peaks(instance_type="m5.large"),  # no smaller m5 in the catalogue
    peaks(instance_type="m5.metal"),  # off the ladder
    peaks(days=13),
    peaks(launch_time=ago(10)),
    peaks(state="stopped"),
    peaks(lifecycle="spot"),
    peaks(autoscaling_group="web"),  # resized through the launch template
])
def test_busy_unresizable_or_managed_instances_are_not_flagged(items):
    assert run(context(items), CHECK) == []


def test_the_next_smaller_size_is_one_the_catalogue_knows():
    catalogue = make_catalogue(extra={"ec2.linux.m6i.2xlarge": ("Hrs", "0.384")})  # no m6i.xlarge
    finding = one(context(peaks(instance_type="m6i.2xlarge"), catalogue=catalogue), CHECK)
    assert finding.recommended == "m6i.large"
    assert finding.monthly_savings == HOURS * (Decimal("0.384") - us("ec2.linux.m6i.large"))


def test_threshold_override():
    assert run(context(peaks(cpu=50.0)), CHECK) == []
    assert run(context(peaks(cpu=50.0), thresholds={"ec2_rightsize_cpu_percent": 50}), CHECK)


def test_windows_gives_an_unpriced_finding():
    finding = one(context(peaks(platform="windows", platform_details="Windows")), CHECK)
    assert finding.monthly_savings is None and "Windows" in finding.price_note


def test_unpriced_region_keeps_the_finding_with_the_reason():
    finding = one(context(peaks(region="ap-south-2")), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert "ap-south-2" in finding.price_note
