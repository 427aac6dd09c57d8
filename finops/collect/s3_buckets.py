"""S3 buckets (global read): region, versioning, lifecycle rules, Intelligent-Tiering configs.

ListBuckets once, then per bucket GetBucketLocation (when ListBuckets did not give the region),
GetBucketVersioning, GetBucketLifecycleConfiguration and
ListBucketIntelligentTieringConfigurations. "No lifecycle configuration" is a normal answer.
Objects are never listed: sizes per storage class come from CloudWatch ``BucketSizeBytes``
(collector ``cloudwatch.metrics``). Each bucket's item carries the bucket's own region, and its
per-bucket calls go to a client in that region (no 301 redirects counted as retries). Buckets in
regions this review does not scan are left out, like every other resource of those regions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from finops.collect import CollectContext, collector, iso, paginate
from finops.models import InventoryItem

NO_LIFECYCLE = {"NoSuchLifecycleConfiguration"}


def location_to_region(constraint: str | None) -> str:
    """GetBucketLocation's LocationConstraint -> region (None means us-east-1, "EU" eu-west-1)."""
    if not constraint:
        return "us-east-1"
    return "eu-west-1" if constraint == "EU" else constraint


def lifecycle_rules(s3: Any, bucket: str) -> list[dict[str, Any]]:
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in NO_LIFECYCLE:
            return []
        raise
    out = []
    for rule in rules:
        flt = rule.get("Filter") or {}
        out.append({
            "id": rule.get("ID"),
            "status": rule.get("Status"),
            "prefix": flt.get("Prefix", rule.get("Prefix")) or (flt.get("And") or {}).get("Prefix"),
            "transitions": [
                {"days": t.get("Days"), "date": iso(t.get("Date")), "storage_class": t.get("StorageClass")}
                for t in rule.get("Transitions", [])
            ],
            "expiration_days": (rule.get("Expiration") or {}).get("Days"),
            "noncurrent_transitions": [
                {"days": t.get("NoncurrentDays"), "storage_class": t.get("StorageClass")}
                for t in rule.get("NoncurrentVersionTransitions", [])
            ],
            "noncurrent_expiration_days": (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays"),
            "abort_incomplete_multipart_days": (rule.get("AbortIncompleteMultipartUpload") or {}).get(
                "DaysAfterInitiation"
            ),
        })
    return out


def intelligent_tiering(s3: Any, bucket: str) -> list[dict[str, Any]]:
    """Every Intelligent-Tiering configuration (botocore has no paginator for this call)."""
    configs: list[dict[str, Any]] = []
    params: dict[str, Any] = {"Bucket": bucket}
    while True:
        page = s3.list_bucket_intelligent_tiering_configurations(**params)
        for config in page.get("IntelligentTieringConfigurationList", []):
            configs.append({
                "id": config.get("Id"),
                "status": config.get("Status"),
                "prefix": (config.get("Filter") or {}).get("Prefix"),
                "tierings": [
                    {"access_tier": t.get("AccessTier"), "days": t.get("Days")} for t in config.get("Tierings", [])
                ],
            })
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return configs
        params["ContinuationToken"] = token


@collector(
    "s3.buckets",
    service="s3",
    resource_type="s3:bucket",
    title="S3 buckets",
    operations=(
        "ListBuckets", "GetBucketLocation", "GetBucketVersioning", "GetBucketLifecycleConfiguration",
        "ListBucketIntelligentTieringConfigurations",
    ),
    iam_actions=(
        "s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetBucketVersioning",
        "s3:GetLifecycleConfiguration", "s3:GetIntelligentTieringConfiguration",
    ),
    scope="global",
    regional_clients=True,
)
def collect_buckets(ctx: CollectContext) -> Iterator[InventoryItem]:
    s3 = ctx.client("s3")
    # Never pass MaxBuckets: moto answers it wrongly, and the paginator only sets it on request.
    buckets = list(paginate(s3, "list_buckets", "Buckets"))
    # Four calls per bucket: sequentially that is the longest chain of the whole scan (241 calls,
    # >= 24 s at 100 ms for 60 buckets), so the buckets are read in parallel.
    for item in ctx.fan_out(lambda bucket: _read_bucket(ctx, s3, bucket), buckets):
        if item is not None:
            yield item


def _read_bucket(ctx: CollectContext, s3: Any, bucket: dict[str, Any]) -> InventoryItem | None:
    name = bucket["Name"]
    region = bucket.get("BucketRegion") or location_to_region(
        s3.get_bucket_location(Bucket=name).get("LocationConstraint")
    )
    if ctx.regions and region not in ctx.regions:
        return None
    regional = ctx.client_in(region, "s3")
    versioning = regional.get_bucket_versioning(Bucket=name)
    return InventoryItem(
        collector="s3.buckets",
        resource_type="s3:bucket",
        account_id=ctx.account_id,
        region=region,
        resource_id=name,
        arn=f"arn:aws:s3:::{name}",
        data={
            "creation_date": iso(bucket.get("CreationDate")),
            "versioning": versioning.get("Status") or "Disabled",
            "mfa_delete": versioning.get("MFADelete") or "Disabled",
            "lifecycle_rules": lifecycle_rules(regional, name),
            "intelligent_tiering_configs": intelligent_tiering(regional, name),
        },
    )
