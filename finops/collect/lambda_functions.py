"""Lambda functions: runtime, architecture, memory, timeout, package size, last modified.

``ListFunctions`` returns ``Environment.Variables`` (plaintext application configuration): only
the named fields below are copied, so environment variables never leave this function.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.collect import CollectContext, collector, paginate
from finops.models import InventoryItem


@collector(
    "lambda.functions",
    service="lambda",
    resource_type="lambda:function",
    title="Lambda functions",
    operations=("ListFunctions",),
    iam_actions=("lambda:ListFunctions",),
)
def collect_functions(ctx: CollectContext) -> Iterator[InventoryItem]:
    for fn in paginate(ctx.client("lambda"), "list_functions", "Functions"):
        name = fn["FunctionName"]
        yield InventoryItem(
            collector="lambda.functions",
            resource_type="lambda:function",
            account_id=ctx.account_id,
            region=ctx.region,
            resource_id=name,
            arn=fn.get("FunctionArn") or f"arn:aws:lambda:{ctx.region}:{ctx.account_id}:function:{name}",
            data={
                "runtime": fn.get("Runtime"),
                "package_type": fn.get("PackageType") or "Zip",
                "architectures": fn.get("Architectures") or ["x86_64"],
                "memory_mb": fn.get("MemorySize"),
                "timeout_s": fn.get("Timeout"),
                "ephemeral_storage_mb": (fn.get("EphemeralStorage") or {}).get("Size"),
                "code_size_bytes": fn.get("CodeSize"),
                "last_modified": fn.get("LastModified"),
                "state": fn.get("State"),
            },
        )
