from decimal import Decimal

import pytest

from tests.checks.kit import ACCOUNT, ago, context, eu, item, metrics, one, run, us


def service(region="us-east-1", **data):
    fields = {
        "cluster_arn": f"arn:aws:ecs:{region}:{ACCOUNT}:cluster/prod", "service_name": "web", "status": "ACTIVE",
        "launch_type": "FARGATE", "capacity_providers": [], "scheduling_strategy": "REPLICA", "desired_count": 2,
        "running_count": 2, "created_at": ago(90),
        "task_definition": f"arn:aws:ecs:{region}:{ACCOUNT}:task-definition/web:3", "task_cpu": "512",
        "task_memory": "1024", "requires_compatibilities": ["FARGATE"], "network_mode": "awsvpc",
        "cpu_architecture": None, "os_family": None, "containers": [], **data,
    }
    return item("ecs.services", "ecs:service", "prod/web", region, f"arn:aws:ecs:{region}:{ACCOUNT}:service/prod/web",
                **fields)


def idle(cpu=0.4, days=30, region="us-east-1", **data):
    svc = service(region, **data)
    return [svc, metrics(svc, days=days, CPUUtilization__Maximum=cpu)]


def cost(price, arch, tasks, vcpu, gb):
    return tasks * (Decimal(vcpu) * price(f"fargate.{arch}.vcpu") + Decimal(gb) * price(f"fargate.{arch}.memory")) * 730


@pytest.mark.parametrize("items, expected", [
    # positive: 2 tasks of 0.5 vCPU / 1 GB, CPU flat at 0.4%
    (idle(), cost(us, "x86", 2, "0.5", "1")),
    # priced in the service's own region
    (idle(region="eu-west-1"), cost(eu, "x86", 2, "0.5", "1")),
    # ARM64 tasks are priced at the ARM rate
    (idle(cpu_architecture="ARM64", task_cpu="1024", task_memory="3072"), cost(us, "arm", 2, "1", "3")),
    # a capacity provider strategy naming FARGATE only is Fargate On-Demand; desired count, not running count
    (idle(launch_type="CAPACITY_PROVIDER", capacity_providers=["FARGATE"], desired_count=3, running_count=1),
     cost(us, "x86", 3, "0.5", "1")),
    # the "1 vCPU" / "2 GB" forms of a task definition
    (idle(task_cpu="1 vCPU", task_memory="2 GB", desired_count=1), cost(us, "x86", 1, "1", "2")),
    # boundaries: CPU exactly at the threshold, exactly metrics_min_days of data, created exactly 14 days ago
    (idle(cpu=1.0), cost(us, "x86", 2, "0.5", "1")),
    (idle(days=14), cost(us, "x86", 2, "0.5", "1")),
    (idle(created_at=ago(14)), cost(us, "x86", 2, "0.5", "1")),
])
def test_idle_fargate_service_is_priced_at_its_tasks(items, expected):
    finding = one(context(items), "ecs_service_idle")
    assert finding.monthly_savings == expected == finding.current_monthly_cost
    assert finding.action == "ScaleIn" and finding.confidence == "Low" and finding.rollback_possible
    assert {line.region for line in finding.price_lines} == {items[0].region}
    assert finding.evidence["metrics"]["CPUUtilization.Maximum"]["days_with_data"] >= 14
    assert "CPU alone cannot prove" in finding.evidence["confidence_note"]
    assert "desired count 0" in finding.recommended
    assert finding.remediation == (
        f"aws ecs update-service --region {items[0].region} --cluster prod --service web --desired-count 0"
    )


@pytest.mark.parametrize("items", [
    idle(cpu=1.01),  # boundary: just above the threshold
    idle(cpu=[0.3] * 29 + [45.0]),  # busy look-alike: one busy day
    idle(days=13),  # boundary: one day short of metrics_min_days
    idle(created_at=ago(13.9)),  # too young to judge
    idle(capacity_providers=["FARGATE", "FARGATE_SPOT"], launch_type="CAPACITY_PROVIDER"),  # Spot: other prices
    idle(launch_type="EC2"),  # its cost is the container instances'
    idle(launch_type=None),  # the cluster's default strategy decides: unknown
    idle(desired_count=0),
    idle(status="DRAINING"),
    [service()],  # no CPU evidence at all
    idle(cpu=[]),  # CPU asked for, no data points
])
def test_busy_young_or_non_fargate_services_are_not_flagged(items):
    assert run(context(items), "ecs_service_idle") == []


@pytest.mark.parametrize("items, reason", [
    (idle(region="ap-south-2"), "ap-south-2"),
    (idle(task_cpu=None), "no task-level CPU and memory"),
    (idle(os_family="WINDOWS_SERVER_2022_CORE"), "Windows"),
])
def test_unpriceable_services_are_shown_unpriced_with_the_reason(items, reason):
    finding = one(context(items), "ecs_service_idle")
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    assert reason in finding.price_note


def test_threshold_override_changes_the_boundary():
    assert run(context(idle(cpu=3.0), thresholds={"ecs_idle_cpu_percent": 3.0}), "ecs_service_idle")
    assert not run(context(idle(cpu=3.0)), "ecs_service_idle")
