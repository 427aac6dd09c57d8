"""Idle Fargate service: tasks billed around the clock for vCPU and memory while the CPU stays flat.

Finds ACTIVE ECS services on Fargate On-Demand with a desired count above 0, at least
``metrics_min_days`` old, whose service-level ``CPUUtilization`` daily maximum stayed at or below
``ecs_idle_cpu_percent`` on every day with data, over at least ``metrics_min_days`` days.

Why it costs money: Fargate bills every running task per second for the vCPU and memory of its
task definition, busy or not.

Priced as desired count x (task vCPU x Fargate vCPU-hour + task GB x Fargate GB-hour) x 730
hours, at the Linux rate of the task's architecture (x86 or ARM64) in the service's region: the
saving of scaling the service to 0 tasks. Ephemeral storage above the free 20 GB is not in the
inventory and not in the figure (it can only understate).

Confidence is Low: CPU alone cannot prove nobody uses the service (a service that waits for
rare requests or queue messages uses almost no CPU). The finding says so.

Skipped on purpose: Fargate Spot (billed at Spot rates the catalogue does not hold) and EC2 or
external launch types (their cost is the container instances'); services whose launch type is
left to the cluster's default strategy (unknown here); services younger than
``metrics_min_days`` or with fewer days of CPU data (not enough evidence); services at 0 desired
tasks. Windows tasks and task definitions without task-level CPU and memory are reported
unpriced, with the reason.
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

CPU_MAX = "CPUUtilization.Maximum"
SHOWN_TOO = ("CPUUtilization.Average", "MemoryUtilization.Maximum")  # evidence only, not decided on
LOW_CONFIDENCE = (
    "CPU alone cannot prove nobody uses the service: one that waits for rare requests or queue messages "
    "uses almost no CPU. Check its traffic (load balancer requests, queue depth) before scaling it in."
)


@check(
    title="Idle Fargate services",
    category="Containers",
    service="ecs",
    resource_type="ecs:service",
    action="ScaleIn",
    needs=("ecs.services", "cloudwatch.metrics"),
    prices=FARGATE_PRICES,
    thresholds=("ecs_idle_cpu_percent", "metrics_min_days"),
    effort="Low",
    restart_needed=False,
    rollback_possible=True,
    confidence="Low",
    rule=(
        "ACTIVE Fargate (On-Demand) service with a desired count above 0, created at least `metrics_min_days` days "
        "ago, whose daily maximum CPU stayed at or below `ecs_idle_cpu_percent` on each of at least "
        "`metrics_min_days` days."
    ),
    formula="desired count x (task vCPU x Fargate vCPU-hour + task GB x Fargate GB-hour) x 730 hours",
    remediation=(
        "aws ecs update-service --region {region} --cluster {cluster} --service {service} --desired-count 0"
    ),
    console=(
        "https://{region}.console.aws.amazon.com/ecs/v2/clusters/{cluster}/services/{service}/health?region={region}"
    ),
)
def ecs_service_idle(ctx: CheckContext) -> Iterator[Finding]:
    min_days = ctx.thresholds["metrics_min_days"]
    idle_cpu = float(ctx.thresholds["ecs_idle_cpu_percent"])
    for service in ctx.of("ecs.services"):
        data = service.data
        if data.get("status") != "ACTIVE" or not on_fargate(data):
            continue
        desired = int(data.get("desired_count") or 0)
        if desired <= 0:
            continue
        age = ctx.days_since(data.get("created_at"))
        if age is None or age < min_days:
            continue
        cpu = ctx.metric(service, CPU_MAX)
        if cpu is None or cpu.days < min_days or cpu.max is None or cpu.max > idle_cpu:
            continue
        vcpu, gb, architecture = task_vcpu(data), task_gb(data), arch(data)
        unavailable = sizing_unavailable(data)
        if not unavailable and not runs_linux(data):
            unavailable = (
                f"its tasks run {data.get('os_family')}, billed at Fargate Windows rates plus an OS licence fee, "
                "which the price catalogue does not hold"
            )
        current = ctx.bill()
        if not unavailable and vcpu is not None and gb is not None:
            add_tasks(current, service.region, architecture, desired, vcpu, gb)
        size = f"{fmt(vcpu)} vCPU / {fmt(gb)} GB" if vcpu is not None and gb is not None else "unsized"
        metrics = {CPU_MAX: cpu.evidence()}
        for key in SHOWN_TOO:
            summary = ctx.metric(service, key)
            if summary is not None and summary.days:
                metrics[key] = summary.evidence()
        name = data.get("service_name") or service.resource_id.rsplit("/", 1)[-1]
        yield ctx.finding(
            service,
            title=(
                f"Fargate service idle: {desired} task{'s' if desired != 1 else ''} of {size}, "
                f"CPU never above {cpu.max:g}% a day"
            ),
            current=current,
            recommended=(
                "Scale in to desired count 0 (and set its Service Auto Scaling minimum to 0 if it has one), "
                "or delete the service if nothing uses it"
            ),
            unavailable=unavailable,
            evidence={
                "metrics": metrics,
                "desired_count": desired, "running_count": data.get("running_count"),
                "task_cpu": data.get("task_cpu"), "task_memory": data.get("task_memory"),
                "task_vcpu": None if vcpu is None else str(vcpu), "task_gb": None if gb is None else str(gb),
                "cpu_architecture": data.get("cpu_architecture") or "X86_64", "os_family": data.get("os_family"),
                "launch_type": data.get("launch_type"), "capacity_providers": data.get("capacity_providers") or [],
                "created": data.get("created_at"), "age_days": round(age, 1),
                "idle_cpu_percent": idle_cpu, "confidence_note": LOW_CONFIDENCE,
            },
            remediation_args={"cluster": cluster_name(data, service.resource_id), "service": name},
        )
