"""ECS services with the sizing of their task definition.

Kept from the task definition: task cpu/memory, compatibilities, network mode, runtime platform
and each container's name, cpu and memory. Container ``environment``, ``secrets``,
``environmentFiles``, commands and images are never copied: they often hold credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from finops.collect import CollectContext, collector, iso, paginate
from finops.collect.ecs_clusters import chunks
from finops.models import InventoryItem

DESCRIBE_BATCH = 10  # DescribeServices takes at most 10 services


def task_sizing(task_def: dict[str, Any]) -> dict[str, Any]:
    """The sizing fields of a task definition, and nothing else."""
    platform = task_def.get("runtimePlatform") or {}
    return {
        "task_definition_family": task_def.get("family"),
        "task_definition_revision": task_def.get("revision"),
        "task_cpu": task_def.get("cpu"),  # a string in CPU units, e.g. "256"
        "task_memory": task_def.get("memory"),  # a string in MiB, e.g. "512"
        "requires_compatibilities": task_def.get("requiresCompatibilities", []),
        "network_mode": task_def.get("networkMode"),
        "cpu_architecture": platform.get("cpuArchitecture"),
        "os_family": platform.get("operatingSystemFamily"),
        "containers": [
            {
                "name": c.get("name"),
                "cpu": c.get("cpu"),
                "memory": c.get("memory"),
                "memory_reservation": c.get("memoryReservation"),
            }
            for c in task_def.get("containerDefinitions", [])
        ],
    }


@collector(
    "ecs.services",
    service="ecs",
    resource_type="ecs:service",
    title="ECS services",
    operations=("ListClusters", "ListServices", "DescribeServices", "DescribeTaskDefinition"),
    iam_actions=("ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices", "ecs:DescribeTaskDefinition"),
)
def collect_ecs_services(ctx: CollectContext) -> Iterator[InventoryItem]:
    ecs = ctx.client("ecs")
    sizing: dict[str, dict[str, Any]] = {}
    for cluster_arn in list(paginate(ecs, "list_clusters", "clusterArns", maxResults=100)):
        service_arns = list(paginate(ecs, "list_services", "serviceArns", cluster=cluster_arn, maxResults=100))
        for batch in chunks(service_arns, DESCRIBE_BATCH):
            for svc in ecs.describe_services(cluster=cluster_arn, services=batch).get("services", []):
                task_def_arn = svc.get("taskDefinition")
                if task_def_arn and task_def_arn not in sizing:
                    task_def = ecs.describe_task_definition(taskDefinition=task_def_arn)["taskDefinition"]
                    sizing[task_def_arn] = task_sizing(task_def)
                    del task_def  # the full definition (with environment) goes no further
                yield InventoryItem(
                    collector="ecs.services",
                    resource_type="ecs:service",
                    account_id=ctx.account_id,
                    region=ctx.region,
                    resource_id=f"{cluster_arn.rsplit('/', 1)[-1]}/{svc['serviceName']}",
                    arn=svc["serviceArn"],
                    data={
                        "cluster_arn": cluster_arn,
                        "service_name": svc["serviceName"],
                        "status": svc.get("status"),
                        "launch_type": svc.get("launchType")
                        or ("CAPACITY_PROVIDER" if svc.get("capacityProviderStrategy") else None),
                        "capacity_providers": [
                            s.get("capacityProvider") for s in svc.get("capacityProviderStrategy", [])
                        ],
                        "scheduling_strategy": svc.get("schedulingStrategy"),
                        "desired_count": svc.get("desiredCount"),
                        "running_count": svc.get("runningCount"),
                        "created_at": iso(svc.get("createdAt")),
                        "task_definition": task_def_arn,
                        **sizing.get(task_def_arn or "", {}),
                    },
                )
