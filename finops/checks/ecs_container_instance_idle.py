"""ECS container instance running no tasks: an EC2 instance billed by the hour for an empty cluster slot.

Finds ACTIVE container instances with no running and no pending task, registered at least
``ecs_container_instance_min_days`` days ago, whose EC2 instance is in the inventory and running.

Why it costs money: the EC2 instance behind it is billed On-Demand for every hour it runs,
whether the cluster places tasks on it or not.

Priced as the EC2 instance's Linux On-Demand hourly price x 730 hours in its region (the instance
is removed from the cluster); the finding ``covers`` the EC2 instance, so an EC2 finding on the
same instance is not counted again. Its EBS volumes are not in the figure (it can only understate).

Confidence is Low: task counts are a point-in-time reading from the moment of the scan, and a
cluster that runs scheduled or batch tasks can be empty between runs. To avoid the commonest
false positive, an instance whose daily average CPU rose above ``ec2_idle_cpu_percent`` on any day
of the lookback (it was doing work, so tasks ran there) is skipped.

Skipped on purpose: container instances that are DRAINING or inactive, still pending tasks, too
recently registered, or whose EC2 instance is not in the inventory or not running (a stopped one
costs no compute). Instances that are not billed as Linux On-Demand (Windows, licensed Linux,
Spot, scheduled) are reported unpriced, with the reason. For instances in an Auto Scaling group
(a capacity provider) the command terminates through the group and lowers its desired capacity,
so the group does not replace the instance; otherwise it terminates the instance.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks.context import CheckContext
from finops.checks.costs import INSTANCE_PRICES, add_instance_hours, is_linux
from finops.models import Finding

CPU_AVG = "CPUUtilization.Average"
DRAIN = (
    "aws ecs update-container-instances-state --region {region} --cluster {cluster} "
    "--container-instances {resource_id} --status DRAINING && "
)
IN_GROUP = (
    DRAIN + "aws autoscaling terminate-instance-in-auto-scaling-group --region {region} --instance-id {instance_id} "
    "--should-decrement-desired-capacity"
)
STANDALONE = DRAIN + "aws ec2 terminate-instances --region {region} --instance-ids {instance_id}"
LOW_CONFIDENCE = (
    "Task counts are a point-in-time reading from the scan: a cluster that runs scheduled or batch tasks can be "
    "empty between runs. Check the cluster's task history before removing the instance."
)


@check(
    title="ECS container instances running no tasks",
    category="Containers",
    service="ecs",
    resource_type="ecs:container-instance",
    action="ScaleIn",
    needs=("ecs.container_instances", "ec2.instances", "cloudwatch.metrics"),
    prices=INSTANCE_PRICES,
    thresholds=("ecs_container_instance_min_days", "ec2_idle_cpu_percent"),
    effort="Low",
    restart_needed=False,
    rollback_possible=True,
    confidence="Low",
    rule=(
        "ACTIVE container instance with no running or pending task, registered at least "
        "`ecs_container_instance_min_days` days ago, on a running EC2 instance whose daily average CPU never rose "
        "above `ec2_idle_cpu_percent` in the lookback."
    ),
    formula="the EC2 instance's On-Demand hourly price x 730 hours",
    remediation=IN_GROUP,
    console="https://{region}.console.aws.amazon.com/ecs/v2/clusters/{cluster}/infrastructure?region={region}",
)
def ecs_container_instance_idle(ctx: CheckContext) -> Iterator[Finding]:
    min_days = ctx.thresholds["ecs_container_instance_min_days"]
    idle_cpu = float(ctx.thresholds["ec2_idle_cpu_percent"])
    for container in ctx.of("ecs.container_instances"):
        data = container.data
        if data.get("status") != "ACTIVE":
            continue
        if int(data.get("running_tasks") or 0) != 0 or int(data.get("pending_tasks") or 0) != 0:
            continue
        age = ctx.days_since(data.get("registered_at"))
        if age is None or age < min_days:
            continue
        instance = ctx.get("ec2.instances", data.get("ec2_instance_id"))
        if instance is None or instance.data.get("state") != "running":
            continue
        cpu = ctx.metric(instance, CPU_AVG)
        if cpu is not None and cpu.max is not None and cpu.max > idle_cpu:
            continue  # busy in the lookback: tasks ran there, it is only empty right now
        idata = instance.data
        instance_type = idata.get("instance_type") or "unknown"
        lifecycle = idata.get("lifecycle") or "on-demand"
        unavailable = ""
        if lifecycle != "on-demand":
            unavailable = (
                f"instance {instance.resource_id} is a {lifecycle} instance; the catalogue holds On-Demand prices only"
            )
        elif not is_linux(instance):
            unavailable = (
                f"instance {instance.resource_id} runs {idata.get('platform_details') or idata.get('platform')}; "
                "the catalogue holds Linux On-Demand prices only"
            )
        current = ctx.bill()
        if not unavailable:
            add_instance_hours(current, instance.region, instance_type, label=instance.resource_id)
        group = idata.get("autoscaling_group")
        cluster = data.get("cluster_name") or str(data.get("cluster_arn") or "").rsplit("/", 1)[-1]
        args = {"cluster": cluster, "instance_id": instance.resource_id}
        metrics = {CPU_AVG: cpu.evidence()} if cpu is not None else {}
        yield ctx.finding(
            container,
            title=f"ECS container instance on {instance.resource_id} ({instance_type}) runs no tasks",
            current=current,
            recommended=(
                "Drain it and terminate it through its Auto Scaling group, lowering the desired capacity "
                "(or lower the group's or capacity provider's minimum if it holds the instance)"
                if group else "Drain it and terminate the instance"
            ),
            unavailable=unavailable,
            covers=(instance.resource_id,),
            rollback_possible=bool(group),
            evidence={
                "metrics": metrics,
                "ec2_instance_id": instance.resource_id, "instance_type": instance_type, "lifecycle": lifecycle,
                "platform_details": idata.get("platform_details"), "autoscaling_group": group,
                "capacity_provider": data.get("capacity_provider_name"), "cluster": cluster,
                "running_tasks": data.get("running_tasks"), "pending_tasks": data.get("pending_tasks"),
                "agent_connected": data.get("agent_connected"), "registered": data.get("registered_at"),
                "age_days": round(age, 1), "idle_cpu_percent": idle_cpu, "confidence_note": LOW_CONFIDENCE,
            },
            remediation_args=args,
            # no Auto Scaling group to lower: terminate the instance itself
            remediation_template=None if group else STANDALONE,
        )
