"""S3 bucket with no enabled lifecycle rule: every object, version and abandoned upload is kept forever.

Finds buckets with no lifecycle rule in the Enabled state (none at all, or only disabled ones).

Why it costs money: without a lifecycle rule nothing moves objects that are no longer read to a
cheaper storage class, nothing expires what is no longer needed, and noncurrent versions and
incomplete multipart uploads stay billed as storage.

Not estimated: what a rule would save depends on how the objects are used (their age, how often
they are read, whether they may be deleted), which FinOps Pack cannot see without reading the
objects, and it never does. The bucket's current monthly storage cost is shown instead, priced from
CloudWatch ``BucketSizeBytes`` per storage type (see ``_s3``); when CloudWatch has no size for the
bucket, the finding is shown with its cost unknown.

Nothing is skipped: every bucket benefits from at least an abort-incomplete-multipart-upload
rule. Confidence is Low for that reason: some buckets are meant to keep everything.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._s3 import (
    CONSOLE,
    REMEDIATION,
    REPLACES,
    S3_PRICES,
    current_cost,
    enabled_rules,
    rule_summary,
    storage,
)
from finops.checks.context import CheckContext
from finops.models import Finding

NOT_ESTIMATED = (
    "What a lifecycle rule saves depends on how the objects are used (their age, how often they are read, whether "
    "they may be deleted), which FinOps Pack cannot see without reading the objects; the bucket's current storage "
    "cost is shown instead."
)


@check(
    title="S3 buckets without a lifecycle rule",
    category="Object storage",
    service="s3",
    resource_type="s3:bucket",
    action="SetLifecyclePolicy",
    needs=("s3.buckets", "cloudwatch.metrics"),
    prices=S3_PRICES,
    effort="Low",
    restart_needed=False,
    rollback_possible=False,
    confidence="Low",
    rule="No lifecycle rule in the `Enabled` state (none at all, or only disabled ones).",
    formula="not estimated; current cost = latest daily BucketSizeBytes per storage type x its storage price",
    remediation=REMEDIATION,
    console=CONSOLE,
)
def s3_no_lifecycle(ctx: CheckContext) -> Iterator[Finding]:
    for bucket in ctx.of("s3.buckets"):
        data = bucket.data
        if enabled_rules(data):
            continue
        found = storage(ctx, bucket)
        disabled = len(data.get("lifecycle_rules") or [])
        yield ctx.finding(
            bucket,
            title="S3 bucket with no enabled lifecycle rule" + (f" ({disabled} disabled)" if disabled else ""),
            **current_cost(found),
            recommended=(
                "Write a lifecycle configuration in lifecycle.json for how the bucket is used: transition or expire "
                "objects no longer read, expire noncurrent versions, abort incomplete multipart uploads. " + REPLACES
            ),
            not_estimated=NOT_ESTIMATED,
            evidence={**rule_summary(data), **found.evidence()},
        )
