"""Versioned S3 bucket that never expires or transitions noncurrent versions: every overwrite is kept.

Finds buckets with versioning Enabled, or Suspended (versions made while it was enabled are kept
until deleted), and no Enabled lifecycle rule with ``NoncurrentVersionExpiration`` or a
``NoncurrentVersionTransition``.

Why it costs money: in a versioned bucket an overwritten or deleted object stays as a noncurrent
version, billed as storage at its class's full rate, for as long as nothing removes it.

Not estimated: CloudWatch ``BucketSizeBytes`` counts current and noncurrent versions together, so
the storage held by noncurrent versions cannot be separated without listing the bucket's versions,
which FinOps Pack never does. The bucket's current monthly storage cost is shown instead; with no
size data the cost is shown as unknown.

Skipped on purpose: unversioned buckets, and buckets with an Enabled noncurrent-version rule (its
prefix is not judged). Confidence is Low: some buckets keep every version on purpose (audit, legal
hold); their owners can say so by suppressing the finding.
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

VERSIONED = ("Enabled", "Suspended")
NOT_ESTIMATED = (
    "CloudWatch's BucketSizeBytes counts current and noncurrent versions together, so the storage held by "
    "noncurrent versions cannot be told apart without listing the bucket's versions, which FinOps Pack never does; "
    "the bucket's current storage cost is shown instead."
)


@check(
    title="Versioned S3 buckets that keep noncurrent versions forever",
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
    rule=(
        "Versioning `Enabled` or `Suspended`, and no `Enabled` lifecycle rule with `NoncurrentVersionExpiration` "
        "or `NoncurrentVersionTransition`."
    ),
    formula="not estimated; current cost = latest daily BucketSizeBytes per storage type x its storage price",
    remediation=REMEDIATION,
    console=CONSOLE,
)
def s3_noncurrent_versions_kept(ctx: CheckContext) -> Iterator[Finding]:
    for bucket in ctx.of("s3.buckets"):
        data = bucket.data
        versioning = data.get("versioning") or "Disabled"
        if versioning not in VERSIONED:
            continue
        if any(
            rule.get("noncurrent_expiration_days") is not None or rule.get("noncurrent_transitions")
            for rule in enabled_rules(data)
        ):
            continue
        found = storage(ctx, bucket)
        yield ctx.finding(
            bucket,
            title=f"S3 bucket with versioning {versioning.lower()} and no rule for noncurrent versions",
            **current_cost(found),
            recommended=(
                "Add a rule to lifecycle.json that expires noncurrent versions after the days you need to recover "
                "from (NoncurrentVersionExpiration; NewerNoncurrentVersions keeps the latest few), or transitions "
                "them to a colder class. " + REPLACES
            ),
            not_estimated=NOT_ESTIMATED,
            evidence={
                **rule_summary(data), **found.evidence(),
                "versioning_note": (
                    "Versioning is suspended: versions made while it was enabled are kept until deleted."
                    if versioning == "Suspended" else None
                ),
            },
        )
