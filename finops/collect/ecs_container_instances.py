"""ECS container instances (the EC2 hosts of EC2-launch-type clusters): which EC2 instance, how
busy (running and pending tasks), agent state, capacity provider, registration time.

A host with no running task for a long time is an idle EC2 instance paid for by the cluster. Only
the named fields are kept: registered/remaining resources, attributes, agent versions and
attachments are not copied. Clusters are listed here (not taken from ``ecs.clusters``) so a
denied ListClusters is this read's own gap, as for ``ecs.services``.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.collect import CollectContext, collector, iso, paginate, tags_dict
from finops.collect.ecs_clusters import chunks
from finops.models import InventoryItem

DESCRIBE_BATCH = 100  # DescribeContainerInstances takes at most 100 container instances


@collector(
    "ecs.container_instances",
    service="ecs",
    resource_type="ecs:container-instance",
    title="ECS container instances",
    operations=("ListClusters", "ListContainerInstances", "DescribeContainerInstances"),
    iam_actions=("ecs:ListClusters", "ecs:ListContainerInstances", "ecs:DescribeContainerInstances"),
)
def collect_container_instances(ctx: CollectContext) -> Iterator[InventoryItem]:
    ecs = ctx.client("ecs")
    for cluster_arn in list(paginate(ecs, "list_clusters", "clusterArns", maxResults=100)):
        cluster_name = cluster_arn.rsplit("/", 1)[-1]
        arns = list(paginate(ecs, "list_container_instances", "containerInstanceArns",
                             cluster=cluster_arn, maxResults=100))
        for batch in chunks(arns, DESCRIBE_BATCH):
            described = ecs.describe_container_instances(
                cluster=cluster_arn, containerInstances=batch, include=["TAGS"]
            )
            for host in described.get("containerInstances", []):
                host_arn = host["containerInstanceArn"]
                yield InventoryItem(
                    collector="ecs.container_instances",
                    resource_type="ecs:container-instance",
                    account_id=ctx.account_id,
                    region=ctx.region,
                    resource_id=host_arn.rsplit("/", 1)[-1],
                    arn=host_arn,
                    data={
                        "cluster_arn": cluster_arn,
                        "cluster_name": cluster_name,
                        "ec2_instance_id": host.get("ec2InstanceId"),
                        "status": host.get("status"),
                        "running_tasks": host.get("runningTasksCount"),
                        "pending_tasks": host.get("pendingTasksCount"),
                        "registered_at": iso(host.get("registeredAt")),
                        "agent_connected": host.get("agentConnected"),
                        "capacity_provider_name": host.get("capacityProviderName"),
                        "tags": tags_dict(
                            [{"Key": t.get("key"), "Value": t.get("value")} for t in host.get("tags", [])]
                        ),
                    },
                )
