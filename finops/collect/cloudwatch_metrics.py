"""CloudWatch evidence for the checks, read after the resources (last phase), one region at a time.

What is read, per resource found by the earlier collectors of the same region, over
``CollectContext.lookback_days`` complete UTC days (default 30, ``FINOPS_METRICS_LOOKBACK_DAYS``)
at a daily period:

- EC2 instance ``CPUUtilization`` (Maximum, Average), ``NetworkIn`` and ``NetworkOut`` (Sum);
- NAT gateway ``BytesOutToDestination``, ``BytesInFromSource``, ``BytesInFromDestination``,
  ``BytesOutToSource`` (Sum);
- RDS instance ``DatabaseConnections`` and ``CPUUtilization`` (Maximum, Average);
- Lambda function ``Invocations`` and ``Duration`` (Sum; Duration in milliseconds);
- Lambda provisioned concurrency ``ProvisionedConcurrencyUtilization`` (Maximum), dimensions
  ``FunctionName`` and ``Resource`` = ``"<function>:<qualifier>"``;
- ECS service ``CPUUtilization`` (Maximum, Average) and ``MemoryUtilization`` (Maximum), namespace
  ``AWS/ECS``, dimensions ``ClusterName`` (the service's ``cluster_arn`` tail) and ``ServiceName``;
- EBS volume ``VolumeReadOps``, ``VolumeWriteOps``, ``VolumeReadBytes``, ``VolumeWriteBytes``
  (Maximum), only for volumes paying for performance beyond the baseline: gp3 with more than
  3,000 IOPS or more than 125 MiB/s, and every io1/io2 volume. Other volumes have nothing to
  right-size on IOPS, and leaving them out keeps the query count bounded on accounts with
  thousands of volumes (4 queries per selected volume, none for the rest);
- S3 bucket ``BucketSizeBytes`` (Average) per ``StorageType`` that ListMetrics reports for the
  bucket, and ``NumberOfObjects`` (Average, ``StorageType=AllStorageTypes``) for every bucket (S3
  publishes both daily, in the bucket's region). Objects are never listed.

**EBS daily Maximum.** An EBS ``Volume*Ops`` / ``Volume*Bytes`` data point is the total of one
reporting interval: 1 minute for every volume type per the current EBS User Guide (older guides:
1 minute for io1, 5 minutes for gp2/st1/sc1/standard), sent only while the volume is attached. The
daily ``Maximum`` is therefore the busiest single data point of the day, not a per-second rate
and not the day's total. Peak IOPS = Maximum / data-point seconds, and peak throughput (bytes/s)
= the Bytes Maximum / data-point seconds. The checks should divide by **60**: where a volume
really reported 5-minute points, dividing by 60 overstates its peak (up to 5x), which can only
make a "provisioned IOPS/throughput are unused" finding smaller, never invent one: the
conservative side for a right-sizing recommendation. A one-minute total still averages out bursts
shorter than a minute, so a recommendation should keep headroom above this peak. AWS documents
Minimum/Maximum for these metrics only for volumes attached to Nitro-based instances (on Xen
instances a data point is not an interval total): the checks should use these keys only when the
attached instance (``ec2.volumes`` attachments -> ``ec2.instances`` ``instance_type``) is Nitro.

Queries go out in batched GetMetricData calls (at most 500 queries each, fewer for long
lookbacks so one call stays under 100,800 data points); result pages are merged by query id.

Storage: one separate inventory item per resource with any query, collector
``cloudwatch.metrics``, resource type ``cloudwatch:metrics``, ``resource_id`` = the resource's
ARN (``arn`` is empty: a metric series has no ARN of its own), and ``data``::

    {"target_collector": "ec2.instances", "target_resource_type": "ec2:instance",
     "target_resource_id": "i-0abc", "target_arn": "arn:aws:ec2:...",
     "window": {"start": iso, "end": iso, "period_seconds": 86400, "lookback_days": 30},
     "metrics": {"CPUUtilization.Maximum": {"daily": {"2026-11-01": 3.5, ...},
                 "datapoints": 30, "max": 9.0, "avg": 2.1, "sum": 63.0, "latest": 1.2}, ...}}

A metric with no data points in the window is present with ``datapoints: 0`` and null
summaries: for these metrics that means "no traffic / no invocations / no running task /
not attached" (AWS publishes no zero points), which the checks must read as evidence of
idleness, not as missing coverage. Metric keys are ``<MetricName>.<Stat>``, except S3's
``BucketSizeBytes.<StorageType>.Average`` and ``NumberOfObjects.AllStorageTypes.Average``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from finops.collect import CollectContext, collector, paginate
from finops.models import InventoryItem

PERIOD = 86400
MAX_QUERIES = 500  # GetMetricData limit per call
MAX_DATAPOINTS = 100_800  # GetMetricData limit per call

Dimensions = Callable[[InventoryItem], tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class ResourceMetrics:
    """What to read for every item of one collector (optionally only the items ``select`` keeps)."""

    namespace: str
    dimensions: Dimensions
    metrics: tuple[tuple[str, str], ...]  # (metric name, statistic)
    select: Callable[[InventoryItem], bool] = lambda item: True


def _by_id(name: str) -> Dimensions:
    return lambda item: ((name, item.resource_id),)


def _ecs_service(item: InventoryItem) -> tuple[tuple[str, str], ...]:
    cluster = str(item.data.get("cluster_arn") or "").rsplit("/", 1)[-1]
    return (("ClusterName", cluster), ("ServiceName", str(item.data.get("service_name") or "")))


def _provisioned_concurrency(item: InventoryItem) -> tuple[tuple[str, str], ...]:
    function = str(item.data.get("function_name") or "")
    return (("FunctionName", function), ("Resource", f"{function}:{item.data.get('qualifier') or ''}"))


GP3_BASELINE_IOPS = 3000
GP3_BASELINE_THROUGHPUT = 125  # MiB/s


def paid_performance(volume: InventoryItem) -> bool:
    """io1/io2, or gp3 provisioned above its free baseline (3,000 IOPS, 125 MiB/s)."""
    data = volume.data
    if data.get("volume_type") in ("io1", "io2"):
        return True
    return data.get("volume_type") == "gp3" and (
        (data.get("iops") or 0) > GP3_BASELINE_IOPS or (data.get("throughput") or 0) > GP3_BASELINE_THROUGHPUT
    )


RESOURCE_METRICS: dict[str, ResourceMetrics] = {
    "ec2.instances": ResourceMetrics("AWS/EC2", _by_id("InstanceId"), (
        ("CPUUtilization", "Maximum"), ("CPUUtilization", "Average"), ("NetworkIn", "Sum"), ("NetworkOut", "Sum"),
    )),
    "ec2.nat_gateways": ResourceMetrics("AWS/NATGateway", _by_id("NatGatewayId"), (
        ("BytesOutToDestination", "Sum"), ("BytesInFromSource", "Sum"),
        ("BytesInFromDestination", "Sum"), ("BytesOutToSource", "Sum"),
    )),
    "ec2.volumes": ResourceMetrics("AWS/EBS", _by_id("VolumeId"), (
        ("VolumeReadOps", "Maximum"), ("VolumeWriteOps", "Maximum"),
        ("VolumeReadBytes", "Maximum"), ("VolumeWriteBytes", "Maximum"),
    ), select=paid_performance),
    "rds.instances": ResourceMetrics("AWS/RDS", _by_id("DBInstanceIdentifier"), (
        ("DatabaseConnections", "Maximum"), ("DatabaseConnections", "Average"),
        ("CPUUtilization", "Maximum"), ("CPUUtilization", "Average"),
    )),
    "lambda.functions": ResourceMetrics("AWS/Lambda", _by_id("FunctionName"), (
        ("Invocations", "Sum"), ("Duration", "Sum"),
    )),
    "lambda.provisioned_concurrency": ResourceMetrics("AWS/Lambda", _provisioned_concurrency, (
        ("ProvisionedConcurrencyUtilization", "Maximum"),
    )),
    "ecs.services": ResourceMetrics("AWS/ECS", _ecs_service, (
        ("CPUUtilization", "Maximum"), ("CPUUtilization", "Average"), ("MemoryUtilization", "Maximum"),
    )),
}
S3_COLLECTOR = "s3.buckets"


@dataclass(frozen=True)
class Query:
    target: InventoryItem
    key: str  # e.g. "CPUUtilization.Maximum"
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str


def window(now: datetime, lookback_days: int) -> tuple[datetime, datetime]:
    """``lookback_days`` complete UTC days ending at the last midnight before ``now``."""
    end = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return end - timedelta(days=lookback_days), end


def batch_size(lookback_days: int) -> int:
    return max(1, min(MAX_QUERIES, MAX_DATAPOINTS // max(lookback_days, 1)))


def plan(ctx: CollectContext, s3_metrics: list[dict[str, Any]]) -> list[Query]:
    queries: list[Query] = []
    for collector_id, spec in RESOURCE_METRICS.items():
        for item in ctx.of(collector_id):
            if not spec.select(item):
                continue
            dimensions = spec.dimensions(item)
            for metric, stat in spec.metrics:
                queries.append(Query(item, f"{metric}.{stat}", spec.namespace, metric, dimensions, stat))
    buckets = {item.resource_id: item for item in ctx.of(S3_COLLECTOR)}
    for bucket in buckets.values():
        queries.append(Query(
            bucket, "NumberOfObjects.AllStorageTypes.Average", "AWS/S3", "NumberOfObjects",
            (("BucketName", bucket.resource_id), ("StorageType", "AllStorageTypes")), "Average",
        ))
    seen: set[tuple[str, str]] = set()
    for metric in s3_metrics:
        dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
        bucket = buckets.get(dims.get("BucketName", ""))
        if bucket is None or set(dims) != {"BucketName", "StorageType"}:
            continue
        if (bucket.resource_id, dims["StorageType"]) in seen:
            continue
        seen.add((bucket.resource_id, dims["StorageType"]))
        queries.append(Query(
            bucket, f"BucketSizeBytes.{dims['StorageType']}.Average", "AWS/S3", "BucketSizeBytes",
            (("BucketName", bucket.resource_id), ("StorageType", dims["StorageType"])), "Average",
        ))
    return queries


def fetch(cloudwatch: Any, queries: list[Query], start: datetime, end: datetime, size: int) -> dict[int, dict]:
    """Query index -> {date: value}, over batched, paginated GetMetricData calls."""
    values: dict[int, dict[str, float]] = defaultdict(dict)
    for offset in range(0, len(queries), size):
        batch = queries[offset : offset + size]
        request = [
            {
                "Id": f"q{offset + n}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": q.namespace,
                        "MetricName": q.metric,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in q.dimensions],
                    },
                    "Period": PERIOD,
                    "Stat": q.stat,
                },
                "ReturnData": True,
            }
            for n, q in enumerate(batch)
        ]
        pages = cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=request, StartTime=start, EndTime=end, ScanBy="TimestampAscending"
        )
        for page in pages:  # a query's points may be split over pages: merge by id
            for result in page.get("MetricDataResults", []):
                index = int(result["Id"][1:])
                for ts, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                    values[index][ts.astimezone(UTC).date().isoformat()] = value
    return values


def summarize(daily: dict[str, float]) -> dict[str, Any]:
    points = [daily[d] for d in sorted(daily)]
    return {
        "daily": dict(sorted(daily.items())),
        "datapoints": len(points),
        "max": max(points) if points else None,
        "avg": sum(points) / len(points) if points else None,
        "sum": sum(points) if points else None,
        "latest": points[-1] if points else None,
    }


@collector(
    "cloudwatch.metrics",
    service="cloudwatch",
    resource_type="cloudwatch:metrics",
    title="CloudWatch usage metrics",
    operations=("GetMetricData", "ListMetrics"),
    iam_actions=("cloudwatch:GetMetricData", "cloudwatch:ListMetrics"),
    after=(*RESOURCE_METRICS, S3_COLLECTOR),
)
def collect_metrics(ctx: CollectContext) -> Iterator[InventoryItem]:
    cloudwatch = ctx.client("cloudwatch")
    s3_metrics: list[dict[str, Any]] = []
    if ctx.of(S3_COLLECTOR):
        s3_metrics = list(paginate(
            cloudwatch, "list_metrics", "Metrics", Namespace="AWS/S3", MetricName="BucketSizeBytes"
        ))
    queries = plan(ctx, s3_metrics)
    if not queries:
        return
    start, end = window(ctx.now or datetime.now(UTC), ctx.lookback_days)
    values = fetch(cloudwatch, queries, start, end, batch_size(ctx.lookback_days))
    by_target: dict[str, list[int]] = defaultdict(list)
    for index, query in enumerate(queries):
        by_target[query.target.uid].append(index)
    for indexes in by_target.values():
        target = queries[indexes[0]].target
        yield InventoryItem(
            collector="cloudwatch.metrics",
            resource_type="cloudwatch:metrics",
            account_id=ctx.account_id,
            region=ctx.region,
            resource_id=target.arn or target.uid,
            arn="",
            data={
                "target_collector": target.collector,
                "target_resource_type": target.resource_type,
                "target_resource_id": target.resource_id,
                "target_arn": target.arn,
                "window": {
                    "start": start.isoformat(), "end": end.isoformat(),
                    "period_seconds": PERIOD, "lookback_days": ctx.lookback_days,
                },
                "metrics": {queries[i].key: summarize(values.get(i, {})) for i in indexes},
            },
        )
