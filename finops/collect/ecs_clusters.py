"""ECS clusters: status, counts of services and tasks, capacity providers."""

from __future__ import annotations

from collections.abc import Iterator

from finops.collect import CollectContext, collector, paginate, tags_dict
from finops.models import InventoryItem

DESCRIBE_BATCH = 100  # DescribeClusters takes at most 100 clusters


def chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@collector(
    "ecs.clusters",
    service="ecs",
    resource_type="ecs:cluster",
    title="ECS clusters",
    operations=("ListClusters", "DescribeClusters"),
    iam_actions=("ecs:ListClusters", "ecs:DescribeClusters"),
)
def collect_ecs_clusters(ctx: CollectContext) -> Iterator[InventoryItem]:
    ecs = ctx.client("ecs")
    arns = list(paginate(ecs, "list_clusters", "clusterArns", maxResults=100))
    for batch in chunks(arns, DESCRIBE_BATCH):
        for cluster in ecs.describe_clusters(clusters=batch, include=["TAGS"]).get("clusters", []):
            yield InventoryItem(
                collector="ecs.clusters",
                resource_type="ecs:cluster",
                account_id=ctx.account_id,
                region=ctx.region,
                resource_id=cluster["clusterName"],
                arn=cluster["clusterArn"],
                data={
                    "status": cluster.get("status"),
                    "active_services": cluster.get("activeServicesCount"),
                    "running_tasks": cluster.get("runningTasksCount"),
                    "pending_tasks": cluster.get("pendingTasksCount"),
                    "container_instances": cluster.get("registeredContainerInstancesCount"),
                    "capacity_providers": cluster.get("capacityProviders", []),
                    "tags": tags_dict(
                        [{"Key": t.get("key"), "Value": t.get("value")} for t in cluster.get("tags", [])]
                    ),
                },
            )
