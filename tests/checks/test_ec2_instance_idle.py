import pytest

from tests.checks.kit import ago, context, eu, instance, metrics, one, run
from tests.checks.kit_ec2 import HOURS, hourly

CHECK = "ec2_instance_idle"
MB = 10**6


def quiet(cpu=2.0, net_in=1 * MB, net_out=1 * MB, days=30, region="us-east-1", **data):
    host = instance("i-1", region, **data)
    return [host, metrics(host, days=days, CPUUtilization__Average=cpu, CPUUtilization__Maximum=9,
                          NetworkIn__Sum=net_in, NetworkOut__Sum=net_out)]


@pytest.mark.parametrize("items, region, expected", [
    (quiet(), "us-east-1", HOURS * hourly("m5.large")),
    (quiet(region="eu-west-1"), "eu-west-1", HOURS * eu("ec2.linux.m5.large")),
    (quiet(instance_type="t3.micro"), "us-east-1", HOURS * hourly("t3.micro")),
    # boundary: exactly at both thresholds on every day
    (quiet(cpu=5.0, net_in=3 * MB, net_out=2 * MB), "us-east-1", HOURS * hourly("m5.large")),
    # boundary: exactly the minimum days of data, launched exactly that long ago
    (quiet(days=14, launch_time=ago(14)), "us-east-1", HOURS * hourly("m5.large")),
])
def test_idle_instance_saves_its_on_demand_hours(items, region, expected):
    finding = one(context(items), CHECK)
    assert finding.monthly_savings == expected
    assert finding.action == "Stop" and finding.confidence == "Medium"
    assert finding.restart_needed and finding.rollback_possible
    assert finding.recommended == "Stop it (or terminate it if nobody needs it)"
    assert set(finding.evidence["metrics"]) == {"CPUUtilization.Average", "NetworkIn.Sum", "NetworkOut.Sum"}
    assert {line.region for line in finding.price_lines} == {region}
    assert finding.remediation == f"aws ec2 stop-instances --region {region} --instance-ids i-1"


@pytest.mark.parametrize("items", [
    quiet(cpu=[2.0] * 29 + [6.0]),  # busy look-alike: one day at 6% CPU
    quiet(net_in=[1 * MB] * 29 + [50 * MB]),  # busy look-alike: one day with 50 MB of traffic
    quiet(cpu=[5.0] * 29 + [5.01]),  # just beyond the CPU threshold
    quiet(net_in=3 * MB, net_out=[2 * MB] * 29 + [2 * MB + 1]),  # just beyond the network threshold
    quiet(days=13),  # too few days of evidence
    quiet(launch_time=ago(13.9)),  # started too recently to judge
    quiet(state="stopped"),
    quiet(lifecycle="spot"),
    quiet(autoscaling_group="web"),  # the group would replace it
])
def test_busy_young_or_managed_instances_are_not_flagged(items):
    assert run(context(items), CHECK) == []


def test_cpu_without_network_data_is_not_evidence():
    host = instance("i-1")
    cpu_only = metrics(host, CPUUtilization__Average=1.0)
    assert run(context([host, cpu_only]), CHECK) == []
    few_network_days = metrics(host, CPUUtilization__Average=1.0, NetworkIn__Sum=[0] * 13, NetworkOut__Sum=[0] * 13)
    assert run(context([host, few_network_days]), CHECK) == []


def test_threshold_override():
    assert run(context(quiet(cpu=8.0)), CHECK) == []
    assert run(context(quiet(cpu=8.0), thresholds={"ec2_idle_cpu_percent": 10}), CHECK)


@pytest.mark.parametrize("data, words", [
    ({"platform": "windows", "platform_details": "Windows"}, "Windows"),
    ({"platform_details": "Red Hat Enterprise Linux"}, "Red Hat Enterprise Linux"),
    ({"tenancy": "dedicated"}, "dedicated tenancy"),
])
def test_a_platform_the_catalogue_cannot_price_gives_an_unpriced_finding(data, words):
    finding = one(context(quiet(**data)), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert words in finding.price_note and finding.price_lines == ()


def test_unpriced_region_keeps_the_finding_with_the_reason():
    finding = one(context(quiet(region="ap-south-2")), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert "ap-south-2" in finding.price_note
