"""Large S3 bucket kept in S3 Standard with no Intelligent-Tiering and no transition rule.

Finds buckets holding at least ``s3_large_bucket_gb`` GB in S3 Standard (latest daily CloudWatch
``BucketSizeBytes`` for ``StandardStorage``), with no Enabled Intelligent-Tiering configuration and
no Enabled lifecycle rule with a transition.

Why it costs money: S3 Standard is the dearest storage class; data that is rarely read costs less
in S3 Intelligent-Tiering, which moves each object to its Infrequent Access tier after 30 days
without access (and further if archive tiers are enabled), with no retrieval fee.

Not estimated: the saving depends on how often the objects are read, which FinOps Pack cannot see.
The evidence carries an upper bound, never counted: the Standard storage cost now, less the same
GB at the Intelligent-Tiering Infrequent Access rate, less the monitoring fee for every object in
the bucket (``NumberOfObjects``); it is only computed when the object count is known. Objects under
128 KB never leave the Frequent Access tier, and objects read within 30 days stay there, so the real
saving is lower. The bucket's current monthly storage cost is shown (see ``_s3``).

Skipped on purpose: buckets without CloudWatch size data (their size is unknown), under the
threshold, or already using Intelligent-Tiering configurations or transition rules (their
prefixes are not judged).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from finops.checks import check
from finops.checks._s3 import (
    CONSOLE,
    REMEDIATION,
    REPLACES,
    S3_PRICES,
    STANDARD,
    STANDARD_KEY,
    Storage,
    current_cost,
    enabled_rules,
    enabled_tiering,
    rule_summary,
    storage,
)
from finops.checks.context import CheckContext
from finops.models import Finding
from finops.pricing import Bill

IT_INFREQUENT = "s3.intelligent_tiering.infrequent"
IT_MONITORING = "s3.intelligent_tiering.monitoring"
NOT_ESTIMATED = (
    "What Intelligent-Tiering saves depends on how often the objects are read, which FinOps Pack cannot see; the "
    "upper bound in the evidence (every Standard byte in the Infrequent Access tier) is not counted."
)
UPPER_BOUND = (
    "Upper bound, not counted: if every S3 Standard byte moved to Intelligent-Tiering's Infrequent Access tier, "
    "less the monitoring fee for every object in the bucket. Objects under 128 KB never leave the Frequent Access "
    "tier and objects read within 30 days stay there, so the real saving is lower; lifecycle transitions also cost "
    "a one-time request charge per object."
)


@check(
    title="Large S3 Standard buckets without Intelligent-Tiering",
    category="Object storage",
    service="s3",
    resource_type="s3:bucket",
    action="SetLifecyclePolicy",
    needs=("s3.buckets", "cloudwatch.metrics"),
    prices=S3_PRICES,
    thresholds=("s3_large_bucket_gb",),
    effort="Low",
    restart_needed=False,
    rollback_possible=True,
    confidence="Low",
    rule=(
        "At least `s3_large_bucket_gb` GB in S3 Standard (latest daily `BucketSizeBytes`), no `Enabled` "
        "Intelligent-Tiering configuration and no `Enabled` lifecycle transition."
    ),
    formula=(
        "not estimated; upper bound in evidence = Standard GB x (Standard - IT Infrequent Access price) - objects / "
        "1,000 x IT monitoring price"
    ),
    remediation=REMEDIATION,
    console=CONSOLE,
)
def s3_standard_without_intelligent_tiering(ctx: CheckContext) -> Iterator[Finding]:
    large = Decimal(str(ctx.thresholds["s3_large_bucket_gb"]))
    for bucket in ctx.of("s3.buckets"):
        data = bucket.data
        if enabled_tiering(data) or any(rule.get("transitions") for rule in enabled_rules(data)):
            continue
        found = storage(ctx, bucket)
        standard_gb = found.gb(STANDARD)
        if standard_gb is None or standard_gb < large:
            continue
        notes, bound = upper_bound(ctx, bucket.region, found, standard_gb)
        yield ctx.finding(
            bucket,
            title=f"S3 bucket with {standard_gb.quantize(Decimal('1')):,} GB in S3 Standard and no Intelligent-Tiering",
            **current_cost(found),
            notes=notes,
            recommended=(
                "Add a rule to lifecycle.json that transitions objects to INTELLIGENT_TIERING (Transition Days 0), "
                "or write new objects with that storage class. " + REPLACES
            ),
            not_estimated=NOT_ESTIMATED,
            evidence={
                **rule_summary(data), **found.evidence(), "standard_gb": str(standard_gb),
                "large_bucket_gb": float(large), "upper_bound_not_counted": bound,
            },
        )


def upper_bound(ctx: CheckContext, region: str, found: Storage, standard_gb: Decimal) -> tuple[Bill, dict]:
    """Note lines and the evidence entry of the upper bound (computed only with a known object count)."""
    notes = ctx.bill("note")
    if found.objects is None:
        return notes, {"monthly": None, "why": "The bucket's object count (NumberOfObjects) is unknown, so the "
                       "Intelligent-Tiering monitoring fee and the upper bound are not computed."}
    objects = int(found.objects[0])
    standard = ctx.bill("note").add(STANDARD_KEY, region, standard_gb, "upper bound (not counted): S3 Standard GB now")
    tiered = ctx.bill("note").add(
        IT_INFREQUENT, region, standard_gb, "upper bound (not counted): the same GB in IT Infrequent Access")
    monitoring = ctx.bill("note").add(
        IT_MONITORING, region, (Decimal(objects) / 1000).quantize(Decimal("0.001")),
        f"upper bound (not counted): IT monitoring of {objects:,} objects, per 1,000",
    )
    parts = (standard, tiered, monitoring)
    if any(part.missing for part in parts):
        reasons = "; ".join(dict.fromkeys(m.reason for part in parts for m in part.missing))
        return notes, {"monthly": None, "why": f"No price to compute it: {reasons}."}
    for part in parts:
        notes.lines.extend(part.lines)
    monthly = standard.total - tiered.total - monitoring.total  # type: ignore[operator]
    return notes, {
        "monthly": str(monthly), "standard_storage": str(standard.total),
        "intelligent_tiering_infrequent": str(tiered.total), "monitoring_fee": str(monitoring.total),
        "objects": objects, "standard_gb": str(standard_gb), "sentence": UPPER_BOUND,
    }
