"""Fargate service on x86 that could run on Graviton (ARM64) at Fargate's lower ARM rates.

Finds ACTIVE ECS services on Fargate On-Demand whose task definition runs Linux on x86 (no
``runtimePlatform``, or ``cpuArchitecture`` X86_64) with at least one running task.

Why it costs money: Fargate's ARM64 vCPU-hour and GB-hour rates are lower than x86's for the same
task size, and the service pays the x86 rate for every running task.

Priced as running count x (task vCPU x (x86 - ARM vCPU-hour) + task GB x (x86 - ARM GB-hour)) x
730 hours, in the service's region: the current bill at x86 rates, the recommended bill at ARM
rates, both for the tasks running now (``running_count``, not the desired count).

Confidence is Medium: every container image of the task must be built for arm64 (multi-arch
images), and native dependencies rebuilt; nothing in the inventory shows whether they are.

Skipped on purpose: services with no running task (nothing to price), Fargate Spot (Spot rates
are not in the catalogue), Windows tasks (Fargate has no Windows on ARM64), EC2 or external
launch types, and services whose launch type is left to the cluster's default strategy.
Task definitions without task-level CPU and memory are reported unpriced, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._containers import (
    FARGATE_PRICES,
    add_tasks,
    arch,
    cluster_name,
    fmt,
    on_fargate,
    runs_linux,
    sizing_unavailable,
    task_gb,
    task_vcpu,
)
from finops.checks.context import CheckContext
from finops.models import Finding


@check(
    title="Fargate services on x86",
    category="Containers",
    service="ecs",
    resource_type="ecs:service",
    action="MigrateToGraviton",
    needs=("ecs.services",),
    prices=FARGATE_PRICES,
    effort="Medium",
    restart_needed=True,
    rollback_possible=True,
    confidence="Medium",
    rule=(
        "ACTIVE Fargate (On-Demand) service running Linux tasks on x86 (`cpuArchitecture` unset or X86_64) with at "
        "least one running task."
    ),
    formula=(
        "running count x (task vCPU x (x86 - ARM vCPU-hour) + task GB x (x86 - ARM GB-hour)) x 730 hours"
    ),
    remediation=(
        "aws ecs register-task-definition --region {region} --cli-input-json file://task-definition-arm64.json && "
        "aws ecs update-service --region {region} --cluster {cluster} --service {service} "
        "--task-definition {family}"
    ),
    console=(
        "https://{region}.console.aws.amazon.com/ecs/v2/clusters/{cluster}/services/{service}/health?region={region}"
    ),
)
def ecs_fargate_graviton(ctx: CheckContext) -> Iterator[Finding]:
    for service in ctx.of("ecs.services"):
        data = service.data
        if data.get("status") != "ACTIVE" or not on_fargate(data):
            continue
        if arch(data) != "x86" or not runs_linux(data):
            continue
        running = int(data.get("running_count") or 0)
        if running <= 0:
            continue
        vcpu, gb = task_vcpu(data), task_gb(data)
        unavailable = sizing_unavailable(data)
        current, after = ctx.bill(), ctx.bill("recommended")
        if not unavailable and vcpu is not None and gb is not None:
            add_tasks(current, service.region, "x86", running, vcpu, gb)
            add_tasks(after, service.region, "arm", running, vcpu, gb)
        size = f"{fmt(vcpu)} vCPU / {fmt(gb)} GB" if vcpu is not None and gb is not None else "unsized"
        name = data.get("service_name") or service.resource_id.rsplit("/", 1)[-1]
        family = data.get("task_definition_family") or _family(data.get("task_definition"))
        yield ctx.finding(
            service,
            title=f"Fargate service on x86: {running} running task{'s' if running != 1 else ''} of {size}",
            current=current,
            after=after,
            recommended=(
                f"Register a revision of task definition {family} with runtimePlatform.cpuArchitecture ARM64 "
                "(images built for arm64) and update the service to it"
            ),
            unavailable=unavailable,
            evidence={
                "running_count": running, "desired_count": data.get("desired_count"),
                "task_definition": data.get("task_definition"), "task_cpu": data.get("task_cpu"),
                "task_memory": data.get("task_memory"), "task_vcpu": None if vcpu is None else str(vcpu),
                "task_gb": None if gb is None else str(gb), "cpu_architecture": data.get("cpu_architecture"),
                "os_family": data.get("os_family"), "launch_type": data.get("launch_type"),
                "capacity_providers": data.get("capacity_providers") or [],
            },
            remediation_args={"cluster": cluster_name(data, service.resource_id), "service": name, "family": family},
        )


def _family(task_definition: str | None) -> str:
    """"arn:aws:ecs:...:task-definition/web:7" -> "web"."""
    if not task_definition:
        return "TASK_DEFINITION_FAMILY"
    return str(task_definition).rsplit("/", 1)[-1].split(":", 1)[0]
