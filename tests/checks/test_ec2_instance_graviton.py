import pytest

from tests.checks.kit import context, eu, instance, one, run, us
from tests.checks.kit_ec2 import HOURS

CHECK = "ec2_instance_graviton"


@pytest.mark.parametrize("current, target, region", [
    ("m5.large", "m6g.large", "us-east-1"),
    ("m5.large", "m6g.large", "eu-west-1"),
    ("m5.xlarge", "m6g.xlarge", "us-east-1"),
    ("m6i.large", "m6g.large", "us-east-1"),
    ("t3.medium", "t4g.medium", "us-east-1"),
    ("c5.large", "c6g.large", "us-east-1"),
    ("r5.large", "r6g.large", "us-east-1"),
])
def test_x86_instance_is_priced_against_its_graviton_counterpart(current, target, region):
    price = us if region == "us-east-1" else eu
    finding = one(context([instance(region=region, instance_type=current, availability_zone=f"{region}a")]), CHECK)
    assert finding.monthly_savings == HOURS * (price(f"ec2.linux.{current}") - price(f"ec2.linux.{target}"))
    assert finding.recommended.startswith(f"{target} (arm64)")
    assert f"--instance-type {target} --image-id ARM64_AMI_ID" in finding.remediation
    assert f"AvailabilityZone={region}a" in finding.remediation
    assert finding.action == "MigrateToGraviton" and finding.confidence == "Medium" and finding.effort == "High"
    assert {line.region for line in finding.price_lines} == {region}


@pytest.mark.parametrize("data", [
    {"instance_type": "m6g.large", "architecture": "arm64"},  # already Graviton
    {"instance_type": "m4.large"},  # no Graviton counterpart mapped
    {"instance_type": "m5.2xlarge"},  # no m6g.2xlarge in the catalogue
    {"instance_type": "m5.large", "platform": "windows", "platform_details": "Windows"},  # not on Graviton
    {"instance_type": "m5.large", "state": "stopped"},
    {"instance_type": "m5.large", "lifecycle": "spot"},
    {"instance_type": "m5.large", "autoscaling_group": "web"},
])
def test_other_instances_are_not_flagged(data):
    assert run(context([instance(**data)]), CHECK) == []


def test_rhel_gives_an_unpriced_finding():
    finding = one(context([instance(platform_details="Red Hat Enterprise Linux")]), CHECK)
    assert finding.monthly_savings is None and "Red Hat Enterprise Linux" in finding.price_note


def test_an_instance_type_the_catalogue_lacks_is_unpriced_with_the_reason():
    finding = one(context([instance(instance_type="m7i.large")]), CHECK)  # m7g.large is known, m7i.large not
    assert finding.monthly_savings is None and "ec2.linux.m7i.large" in finding.price_note


def test_unpriced_region_keeps_the_finding_with_the_reason():
    finding = one(context([instance(region="ap-south-2")]), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert "ap-south-2" in finding.price_note
