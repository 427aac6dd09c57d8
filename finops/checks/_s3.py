"""What the S3 checks share: a bucket's rules, and its current monthly storage cost from CloudWatch.

The storage cost is priced from ``BucketSizeBytes.<StorageType>.Average`` (S3 publishes it once a
day, per storage type, in the bucket's region): for each storage type, its value on the latest
day with data, in GB (bytes / 2^30), at the catalogue price of the storage class that bills it.
Besides the storage classes themselves, S3 reports per-object overheads, billed as the S3 pricing
page states: objects under 128 KB in Standard-IA, One Zone-IA and Glacier Instant Retrieval are
billed as 128 KB (``*SizeOverhead``, at that class's rate); each object in Glacier Flexible
Retrieval or Deep Archive adds 32 KB at that class's rate (``*ObjectOverhead``) and 8 KB at the
S3 Standard rate (``*S3ObjectOverhead``). Everything at the S3 Standard rate is added up before
the tiers apply.

The figure is storage only (no requests, retrievals or Intelligent-Tiering monitoring fees),
counts noncurrent versions and incomplete multipart uploads (BucketSizeBytes includes them), and
prices the S3 Standard tiers as if the bucket were the account's only one in the region (tiers
count all its buckets there). When a storage type with bytes has no price (Reduced Redundancy,
staging storage, S3 Express One Zone) or a price is unavailable in the region, no cost is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from finops.checks.context import CheckContext
from finops.models import InventoryItem
from finops.pricing import Bill

GIB = Decimal(2**30)
GB_PLACES = Decimal("0.000001")
OBJECTS = "NumberOfObjects.AllStorageTypes.Average"
STANDARD = "StandardStorage"
STANDARD_KEY = "s3.standard.storage"
S3_PRICES = ("s3.*.storage", "s3.intelligent_tiering.*")

# StorageType -> (price key, what it is)
PRICED_TYPES: dict[str, tuple[str, str]] = {
    "StandardStorage": (STANDARD_KEY, "S3 Standard"),
    "StandardIAStorage": ("s3.standard_ia.storage", "S3 Standard-IA"),
    "StandardIASizeOverhead": ("s3.standard_ia.storage", "S3 Standard-IA 128 KB minimum object size"),
    "OneZoneIAStorage": ("s3.onezone_ia.storage", "S3 One Zone-IA"),
    "OneZoneIASizeOverhead": ("s3.onezone_ia.storage", "S3 One Zone-IA 128 KB minimum object size"),
    "GlacierInstantRetrievalStorage": ("s3.glacier_ir.storage", "S3 Glacier Instant Retrieval"),
    "GlacierInstantRetrievalSizeOverhead": (
        "s3.glacier_ir.storage", "S3 Glacier Instant Retrieval 128 KB minimum object size"),
    "GlacierStorage": ("s3.glacier.storage", "S3 Glacier Flexible Retrieval"),
    "GlacierObjectOverhead": ("s3.glacier.storage", "S3 Glacier Flexible Retrieval 32 KB per-object index"),
    "GlacierS3ObjectOverhead": (STANDARD_KEY, "S3 Glacier Flexible Retrieval 8 KB per-object metadata"),
    "DeepArchiveStorage": ("s3.deep_archive.storage", "S3 Glacier Deep Archive"),
    "DeepArchiveObjectOverhead": ("s3.deep_archive.storage", "S3 Glacier Deep Archive 32 KB per-object index"),
    "DeepArchiveS3ObjectOverhead": (STANDARD_KEY, "S3 Glacier Deep Archive 8 KB per-object metadata"),
    "IntelligentTieringFAStorage": ("s3.intelligent_tiering.frequent", "S3 Intelligent-Tiering Frequent Access"),
    "IntelligentTieringIAStorage": ("s3.intelligent_tiering.infrequent", "S3 Intelligent-Tiering Infrequent Access"),
    "IntelligentTieringAIAStorage": (
        "s3.intelligent_tiering.archive_instant", "S3 Intelligent-Tiering Archive Instant Access"),
    "IntelligentTieringAAStorage": ("s3.intelligent_tiering.archive", "S3 Intelligent-Tiering Archive Access"),
    "IntelligentTieringDAAStorage": (
        "s3.intelligent_tiering.deep_archive", "S3 Intelligent-Tiering Deep Archive Access"),
}
# Storage types S3 reports that the catalogue cannot price: with bytes in them, no cost is shown.
UNPRICED_TYPES = (
    "ReducedRedundancyStorage", "StandardIAObjectOverhead", "GlacierStagingStorage", "DeepArchiveStagingStorage",
    "ExpressOneZone",
)
BASIS = (
    "Latest daily BucketSizeBytes of each storage type x its storage price (S3 Standard tiers from the first, as if "
    "this were the account's only bucket in the region). Storage only: no requests, retrievals or "
    "Intelligent-Tiering monitoring; noncurrent versions and incomplete multipart uploads are included."
)


@dataclass
class Storage:
    """A bucket's latest measured size per storage type, and its current monthly storage cost."""

    bytes: dict[str, tuple[float, str]] = field(default_factory=dict)  # storage type -> (bytes, day)
    objects: tuple[float, str] | None = None  # NumberOfObjects (all storage types), day
    current: Bill | None = None  # priced, complete: or None with ``why``
    why: str = ""  # why no current cost is shown

    def gb(self, storage_type: str) -> Decimal | None:
        if storage_type not in self.bytes:
            return None
        return (Decimal(str(self.bytes[storage_type][0])) / GIB).quantize(GB_PLACES)

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "storage": {
                kind: {
                    "bytes": int(value), "gb": str(self.gb(kind)), "day": day,
                    "price_key": PRICED_TYPES[kind][0] if kind in PRICED_TYPES else None,
                }
                for kind, (value, day) in sorted(self.bytes.items())
            },
            "objects": None if self.objects is None else int(self.objects[0]),
            "objects_day": None if self.objects is None else self.objects[1],
        }
        if self.current is not None:
            out["current_monthly_cost_basis"] = BASIS
        else:
            out["current_monthly_cost_unknown"] = self.why
        return out


def latest(ctx: CheckContext, bucket: InventoryItem, key: str) -> tuple[float, str] | None:
    summary = ctx.metric(bucket, key)
    if summary is None or not summary.daily:
        return None
    day = max(summary.daily)
    return summary.daily[day], day


def storage(ctx: CheckContext, bucket: InventoryItem) -> Storage:
    """The bucket's measured storage and, when every byte can be priced, its monthly cost."""
    out = Storage()
    for kind in (*PRICED_TYPES, *UNPRICED_TYPES):
        found = latest(ctx, bucket, f"BucketSizeBytes.{kind}.Average")
        if found is not None:
            out.bytes[kind] = found
    out.objects = latest(ctx, bucket, OBJECTS)
    if not out.bytes:
        out.why = "CloudWatch has no BucketSizeBytes data for the bucket in the lookback, so its size is unknown."
        return out
    unpriced = sorted(kind for kind, (value, _) in out.bytes.items() if kind not in PRICED_TYPES and value > 0)
    if unpriced:
        out.why = (
            f"The catalogue has no price for storage type {', '.join(unpriced)}, so the bucket's cost is not shown."
        )
        return out
    by_key: dict[str, list[str]] = {}
    for kind, (value, _) in out.bytes.items():  # in PRICED_TYPES order: S3 Standard first
        if value > 0:
            by_key.setdefault(PRICED_TYPES[kind][0], []).append(kind)
    bill = ctx.bill()
    for key, kinds in by_key.items():
        quantity = sum((Decimal(str(out.bytes[k][0])) / GIB for k in kinds), Decimal(0)).quantize(GB_PLACES)
        label = " + ".join(PRICED_TYPES[k][1] for k in kinds)
        bill.add(key, bucket.region, quantity, f"{label}, GB (latest daily BucketSizeBytes)")
    if bill.missing:
        out.why = "No storage price in the region: " + "; ".join(dict.fromkeys(m.reason for m in bill.missing)) + "."
        return out
    out.current = bill
    return out


def enabled_rules(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [rule for rule in data.get("lifecycle_rules") or [] if (rule.get("status") or "") == "Enabled"]


def enabled_tiering(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [c for c in data.get("intelligent_tiering_configs") or [] if (c.get("status") or "") == "Enabled"]


def rule_summary(data: Mapping[str, Any]) -> dict[str, Any]:
    rules = data.get("lifecycle_rules") or []
    return {
        "versioning": data.get("versioning") or "Disabled",
        "lifecycle_rules": len(rules), "enabled_lifecycle_rules": len(enabled_rules(data)),
        "intelligent_tiering_configs": len(data.get("intelligent_tiering_configs") or []),
        "created": data.get("creation_date"),
    }


REMEDIATION = (
    "aws s3api put-bucket-lifecycle-configuration --region {region} --bucket {resource_id} "
    "--lifecycle-configuration file://lifecycle.json"
)
CONSOLE = "https://s3.console.aws.amazon.com/s3/buckets/{resource_id}?region={region}&tab=management"
REPLACES = (
    "put-bucket-lifecycle-configuration replaces the bucket's whole lifecycle configuration: write lifecycle.json "
    "with the bucket's existing rules (aws s3api get-bucket-lifecycle-configuration) plus the new one."
)


def current_cost(found: Storage) -> dict[str, Any]:
    """``ctx.finding`` arguments that show the bucket's current cost (an empty bucket costs $0)."""
    if found.current is None:
        return {}
    if not found.current.lines:
        return {"current": found.current, "current_cost": Decimal(0)}
    return {"current": found.current}
