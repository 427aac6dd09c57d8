"""Lambda provisioned concurrency: one item per configuration (a function's alias or version kept
warm, billed per GB-second whether invoked or not).

Read after ``lambda.functions`` (ListProvisionedConcurrencyConfigs takes one function), one call
chain per function, fanned out like S3's per-bucket reads. Each item copies the function's
``memory_mb`` and ``architectures`` from its inventory item, since the price of provisioned
concurrency is per GB of configured memory and differs for arm64. A function deleted between the
two reads (ResourceNotFoundException) has no configuration: a normal outcome. When the functions
could not be read, this read is a gap of its own (``DependencyUnavailable``), not an empty "ok".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from finops.collect import CollectContext, collector, iso, paginate
from finops.errors import DependencyUnavailable
from finops.models import InventoryItem

FUNCTIONS = "lambda.functions"
GONE = {"ResourceNotFoundException"}


@collector(
    "lambda.provisioned_concurrency",
    service="lambda",
    resource_type="lambda:provisioned-concurrency",
    title="Lambda provisioned concurrency",
    operations=("ListProvisionedConcurrencyConfigs",),
    iam_actions=("lambda:ListProvisionedConcurrencyConfigs",),
    after=(FUNCTIONS,),
)
def collect_provisioned_concurrency(ctx: CollectContext) -> Iterator[InventoryItem]:
    if FUNCTIONS in ctx.unavailable:
        raise DependencyUnavailable([FUNCTIONS])
    client = ctx.client("lambda")
    functions = ctx.of(FUNCTIONS)
    for configs in ctx.fan_out(lambda fn: _configs(client, fn), functions):
        yield from (_item(ctx, fn, config) for fn, config in configs)


def _configs(client: Any, function: InventoryItem) -> list[tuple[InventoryItem, dict]]:
    try:
        pages = paginate(client, "list_provisioned_concurrency_configs", "ProvisionedConcurrencyConfigs",
                         FunctionName=function.resource_id)
        return [(function, config) for config in pages]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in GONE:
            return []
        raise


def _item(ctx: CollectContext, function: InventoryItem, config: dict) -> InventoryItem:
    name = function.resource_id
    config_arn = config.get("FunctionArn") or ""
    # arn:aws:lambda:<region>:<account>:function:<name>:<qualifier>
    qualifier = config_arn.split(":")[7] if config_arn.count(":") >= 7 else ""
    return InventoryItem(
        collector="lambda.provisioned_concurrency",
        resource_type="lambda:provisioned-concurrency",
        account_id=ctx.account_id,
        region=ctx.region,
        resource_id=f"{name}:{qualifier}",
        arn=config_arn,
        data={
            "function_name": name,
            "qualifier": qualifier,
            "requested": config.get("RequestedProvisionedConcurrentExecutions"),
            "allocated": config.get("AllocatedProvisionedConcurrentExecutions"),
            "available": config.get("AvailableProvisionedConcurrentExecutions"),
            "status": config.get("Status"),
            "last_modified": iso(config.get("LastModified")),
            "memory_mb": function.data.get("memory_mb"),
            "architectures": function.data.get("architectures"),
        },
    )
