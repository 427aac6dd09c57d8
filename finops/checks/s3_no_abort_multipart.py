"""S3 bucket with no rule aborting incomplete multipart uploads: abandoned upload parts stay billed.

Finds buckets with no Enabled lifecycle rule that sets ``AbortIncompleteMultipartUpload``.

Why it costs money: the parts of a multipart upload that was never completed or aborted are
billed as storage until someone aborts the upload, and nothing lists them in the console.

Not estimated: incomplete uploads are invisible without listing the bucket's multipart uploads,
which FinOps Pack never does (it reads no object data or listings). The bucket's current monthly
storage cost (which includes those parts) is shown instead, priced from CloudWatch
``BucketSizeBytes`` per storage type; with no size data the cost is shown as unknown.

Skipped on purpose: buckets with an Enabled rule that aborts incomplete uploads, even if that rule
is limited to a prefix (uploads usually go through one prefix; the rule's prefix is not judged).
Confidence is Low.
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
    "Incomplete multipart uploads are invisible without listing the bucket's uploads, which FinOps Pack never does; "
    "their parts are billed as storage and are part of the bucket's current storage cost shown."
)


@check(
    title="S3 buckets without an abort-incomplete-multipart-upload rule",
    category="Object storage",
    service="s3",
    resource_type="s3:bucket",
    action="SetLifecyclePolicy",
    needs=("s3.buckets", "cloudwatch.metrics"),
    prices=S3_PRICES,
    effort="VeryLow",
    restart_needed=False,
    rollback_possible=False,
    confidence="Low",
    rule="No `Enabled` lifecycle rule with `AbortIncompleteMultipartUpload`.",
    formula="not estimated; current cost = latest daily BucketSizeBytes per storage type x its storage price",
    remediation=REMEDIATION,
    console=CONSOLE,
)
def s3_no_abort_multipart(ctx: CheckContext) -> Iterator[Finding]:
    for bucket in ctx.of("s3.buckets"):
        data = bucket.data
        if any(rule.get("abort_incomplete_multipart_days") is not None for rule in enabled_rules(data)):
            continue
        found = storage(ctx, bucket)
        yield ctx.finding(
            bucket,
            title="S3 bucket with no rule aborting incomplete multipart uploads",
            **current_cost(found),
            recommended=(
                "Add a rule to lifecycle.json that aborts incomplete multipart uploads (AbortIncompleteMultipartUpload,"
                " DaysAfterInitiation 7) for the whole bucket. " + REPLACES
            ),
            not_estimated=NOT_ESTIMATED,
            evidence={**rule_summary(data), **found.evidence()},
        )
