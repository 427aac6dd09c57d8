from decimal import Decimal

import pytest

from tests.checks.kit import ACCOUNT, context, eu, item, one, run, us


def service(region="us-east-1", **data):
    fields = {
        "cluster_arn": f"arn:aws:ecs:{region}:{ACCOUNT}:cluster/prod", "service_name": "api", "status": "ACTIVE",
        "launch_type": "FARGATE", "capacity_providers": [], "desired_count": 4, "running_count": 3,
        "task_definition": f"arn:aws:ecs:{region}:{ACCOUNT}:task-definition/api:12", "task_cpu": "1024",
        "task_memory": "2048", "cpu_architecture": None, "os_family": None, **data,
    }
    return item("ecs.services", "ecs:service", "prod/api", region, f"arn:aws:ecs:{region}:{ACCOUNT}:service/prod/api",
                **fields)


def delta(price, tasks, vcpu, gb):
    vcpu, gb = Decimal(vcpu), Decimal(gb)
    x86 = vcpu * price("fargate.x86.vcpu") + gb * price("fargate.x86.memory")
    arm = vcpu * price("fargate.arm.vcpu") + gb * price("fargate.arm.memory")
    return tasks * (x86 - arm) * 730


@pytest.mark.parametrize("svc, expected", [
    # positive: 3 running tasks (not the 4 desired) of 1 vCPU / 2 GB
    (service(), delta(us, 3, "1", "2")),
    (service("eu-west-1"), delta(eu, 3, "1", "2")),
    # explicit X86_64 and LINUX
    (service(cpu_architecture="X86_64", os_family="LINUX", task_cpu="256", task_memory="512"),
     delta(us, 3, "0.25", "0.5")),
    # boundary: a single running task
    (service(running_count=1), delta(us, 1, "1", "2")),
    (service(launch_type="CAPACITY_PROVIDER", capacity_providers=["FARGATE"]), delta(us, 3, "1", "2")),
])
def test_x86_fargate_service_is_priced_at_the_arm_difference(svc, expected):
    finding = one(context([svc]), "ecs_fargate_graviton")
    assert finding.monthly_savings == expected
    assert {line.role for line in finding.price_lines} == {"current", "recommended"}
    assert {line.price_key for line in finding.price_lines if line.role == "recommended"} == {
        "fargate.arm.vcpu", "fargate.arm.memory"}
    assert {line.region for line in finding.price_lines} == {svc.region}
    assert finding.action == "MigrateToGraviton" and finding.confidence == "Medium" and finding.effort == "Medium"
    assert "register-task-definition" in finding.remediation and "--task-definition api" in finding.remediation


def test_current_cost_is_the_x86_bill():
    finding = one(context([service()]), "ecs_fargate_graviton")
    assert finding.current_monthly_cost == 3 * (1 * us("fargate.x86.vcpu") + 2 * us("fargate.x86.memory")) * 730


@pytest.mark.parametrize("svc", [
    service(running_count=0),  # boundary: nothing running, nothing to price
    service(cpu_architecture="ARM64"),  # already on Graviton
    service(os_family="WINDOWS_SERVER_2019_FULL"),  # no Windows on ARM64 Fargate
    service(capacity_providers=["FARGATE_SPOT"], launch_type="CAPACITY_PROVIDER"),
    service(launch_type="EC2"),
    service(status="INACTIVE"),
])
def test_arm_windows_spot_or_idle_services_are_not_flagged(svc):
    assert run(context([svc]), "ecs_fargate_graviton") == []


@pytest.mark.parametrize("svc, reason", [
    (service("ap-south-2"), "ap-south-2"),
    (service(task_memory=None), "no task-level CPU and memory"),
])
def test_unpriceable_services_are_shown_unpriced(svc, reason):
    finding = one(context([svc]), "ecs_fargate_graviton")
    assert finding.monthly_savings is None and finding.price_status == "unavailable" and reason in finding.price_note
