from decimal import Decimal

import pytest

from finops.checks.merge import merge
from finops.models import Finding
from tests.checks.kit import ACCOUNT, ago, context, eu, instance, item, make_catalogue, metrics, one, run, us

CI = "0123456789abcdef0123456789abcdef"


def container(region="us-east-1", **data):
    fields = {
        "cluster_arn": f"arn:aws:ecs:{region}:{ACCOUNT}:cluster/batch", "cluster_name": "batch",
        "ec2_instance_id": "i-1", "status": "ACTIVE", "running_tasks": 0, "pending_tasks": 0,
        "registered_at": ago(30), "agent_connected": True, "capacity_provider_name": "batch-cp", "tags": {}, **data,
    }
    return item("ecs.container_instances", "ecs:container-instance", CI, region,
                f"arn:aws:ecs:{region}:{ACCOUNT}:container-instance/batch/{CI}", **fields)


def empty(region="us-east-1", cpu=None, host=None, **data):
    """A container instance with no task, its EC2 instance (an ASG member), and optionally its CPU."""
    ec2 = instance("i-1", region, **{"autoscaling_group": "batch-asg", **(host or {})})
    items = [container(region, **data), ec2]
    if cpu is not None:
        items.append(metrics(ec2, CPUUtilization__Average=cpu))
    return items


@pytest.mark.parametrize("items, expected", [
    (empty(), 730 * us("ec2.linux.m5.large")),
    (empty("eu-west-1"), 730 * eu("ec2.linux.m5.large")),
    (empty(cpu=0.8), 730 * us("ec2.linux.m5.large")),
    # boundaries: CPU exactly at ec2_idle_cpu_percent, registered exactly ecs_container_instance_min_days ago
    (empty(cpu=5.0), 730 * us("ec2.linux.m5.large")),
    (empty(registered_at=ago(7)), 730 * us("ec2.linux.m5.large")),
    (empty(host={"instance_type": "c4.large"}, agent_connected=False), 730 * us("ec2.linux.c4.large")),
])
def test_empty_container_instance_is_priced_at_its_instance(items, expected):
    finding = one(context(items), "ecs_container_instance_idle")
    assert finding.monthly_savings == expected == finding.current_monthly_cost
    assert finding.covers == ("i-1",)
    assert finding.action == "ScaleIn" and finding.confidence == "Low" and finding.rollback_possible
    assert {line.region for line in finding.price_lines} == {items[0].region}
    assert "point-in-time" in finding.evidence["confidence_note"]
    assert finding.remediation == (
        f"aws ecs update-container-instances-state --region {items[0].region} --cluster batch --container-instances "
        f"{CI} --status DRAINING && aws autoscaling terminate-instance-in-auto-scaling-group --region "
        f"{items[0].region} --instance-id i-1 --should-decrement-desired-capacity"
    )


def test_an_instance_outside_any_auto_scaling_group_is_terminated_directly():
    finding = one(context(empty(host={"autoscaling_group": None})), "ecs_container_instance_idle")
    assert finding.remediation.endswith("--status DRAINING && aws ec2 terminate-instances --region us-east-1 "
                                        "--instance-ids i-1")
    assert not finding.rollback_possible


def test_a_type_the_kit_lacks_is_priced_from_an_extra_catalogue_key():
    catalogue = make_catalogue(extra={"ec2.linux.c7g.xlarge": ("Hrs", "0.145")})
    finding = one(context(empty(host={"instance_type": "c7g.xlarge"}), catalogue=catalogue),
                  "ecs_container_instance_idle")
    assert finding.monthly_savings == 730 * Decimal("0.145")


@pytest.mark.parametrize("items", [
    empty(running_tasks=1),
    empty(pending_tasks=1),
    empty(status="DRAINING"),
    empty(registered_at=ago(6.9)),  # boundary: registered less than 7 days ago
    empty(cpu=5.01),  # boundary: just above ec2_idle_cpu_percent on a day
    empty(cpu=[0.5] * 29 + [40.0]),  # busy look-alike: tasks ran there in the lookback
    empty(host={"state": "stopped"}),  # a stopped instance costs no compute
    [container()],  # its EC2 instance is not in the inventory
])
def test_busy_young_or_missing_instances_are_not_flagged(items):
    assert run(context(items), "ecs_container_instance_idle") == []


@pytest.mark.parametrize("items, reason", [
    (empty("ap-south-2"), "ap-south-2"),
    (empty(host={"platform": "windows", "platform_details": "Windows"}), "Linux On-Demand prices only"),
    (empty(host={"lifecycle": "spot"}), "spot instance"),
    (empty(host={"instance_type": "x9.mega"}), "ec2.linux.x9.mega"),
])
def test_unpriceable_instances_are_shown_unpriced_with_the_reason(items, reason):
    finding = one(context(items), "ecs_container_instance_idle")
    assert finding.monthly_savings is None and finding.price_status == "unavailable" and reason in finding.price_note


def test_the_ec2_instance_is_covered_not_counted_twice():
    finding = one(context(empty()), "ecs_container_instance_idle")
    ec2 = Finding(check_id="ec2_idle", title="idle", resource_type="ec2:instance", resource_id="i-1",
                  region="us-east-1", account_id=ACCOUNT, monthly_savings=Decimal("70"), action="Stop")
    result = merge([finding, ec2])
    assert [f.resource_id for f in result.findings] == [CI]
    assert result.findings[0].alternatives[0]["check_id"] == "ec2_idle"
