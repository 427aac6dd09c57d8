"""Building blocks for the checks' table tests: records in, findings out, no AWS, no SQLite.

    ctx = context([volume("vol-1", volume_type="gp2", size_gib=100)])
    findings = run(ctx, "ec2_gp2_to_gp3")

Prices come from ``TEST_PRICES``, a small synthetic catalogue with round numbers in two regions
(the real catalogue is exercised by the end-to-end test): expected dollars in a table test are
computed from these entries, never from the code under test. ``eu-west-1`` prices differ from
``us-east-1`` so a check that prices in the wrong region fails; ``ap-south-2`` is in the
catalogue's regions but every price there is unavailable.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from finops.checks import discover
from finops.checks.context import CheckContext
from finops.checks.thresholds import Thresholds
from finops.models import CostData, CostRecommendation, Coverage, Finding, InventoryItem, ResourceCost
from finops.pricing import PriceCatalogue

ACCOUNT = "111122223333"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
REGIONS = ("us-east-1", "eu-west-1", "ap-south-2")
PRICED_REGIONS = ("us-east-1", "eu-west-1")
EU_FACTOR = Decimal("1.1")  # eu-west-1 test prices are us-east-1's x 1.1 (test data only)

# key -> (unit, us-east-1 price, or a list of (upto, price) tiers)
TEST_PRICES: dict[str, tuple[str, Any]] = {
    "ebs.gp2.storage": ("GB-Mo", "0.10"), "ebs.gp3.storage": ("GB-Mo", "0.08"),
    "ebs.io1.storage": ("GB-Mo", "0.125"), "ebs.io2.storage": ("GB-Mo", "0.125"),
    "ebs.st1.storage": ("GB-Mo", "0.045"), "ebs.sc1.storage": ("GB-Mo", "0.015"),
    "ebs.standard.storage": ("GB-Mo", "0.05"),
    "ebs.gp3.iops": ("IOPS-Mo", "0.005"), "ebs.gp3.throughput": ("MiBps-Mo", "0.04"),
    "ebs.io1.iops": ("IOPS-Mo", "0.065"),
    "ebs.io2.iops": ("IOPS-Mo", [("32000", "0.065"), ("64000", "0.0455"), (None, "0.032")]),
    "ebs.snapshot.standard": ("GB-Mo", "0.05"), "ebs.snapshot.archive": ("GB-Mo", "0.0125"),
    "vpc.public_ipv4.idle": ("Hrs", "0.005"), "vpc.public_ipv4.in_use": ("Hrs", "0.005"),
    "nat.hours": ("Hrs", "0.045"), "nat.data": ("GB", "0.045"),
    "fargate.x86.vcpu": ("vCPU-Hours", "0.04"), "fargate.x86.memory": ("GB-Hours", "0.004"),
    "fargate.arm.vcpu": ("vCPU-Hours", "0.032"), "fargate.arm.memory": ("GB-Hours", "0.0035"),
    "lambda.requests": ("Requests", "0.0000002"),
    "lambda.duration.x86": ("GB-Second", [("6000000000", "0.0000166667"), ("15000000000", "0.000015"),
                                          (None, "0.0000133334")]),
    "lambda.duration.arm64": ("GB-Second", [("7500000000", "0.0000133334"), ("18750000000", "0.0000120001"),
                                            (None, "0.0000106667")]),
    "lambda.provisioned.x86": ("GB-Second", "0.0000041667"), "lambda.provisioned.arm64": ("GB-Second", "0.0000033334"),
    "lambda.provisioned_duration.x86": ("GB-Second", "0.0000097222"),
    "lambda.provisioned_duration.arm64": ("GB-Second", "0.0000077778"),
    "s3.standard.storage": ("GB-Mo", [("51200", "0.023"), ("512000", "0.022"), (None, "0.021")]),
    "s3.standard_ia.storage": ("GB-Mo", "0.0125"), "s3.onezone_ia.storage": ("GB-Mo", "0.01"),
    "s3.glacier_ir.storage": ("GB-Mo", "0.004"), "s3.glacier.storage": ("GB-Mo", "0.0036"),
    "s3.deep_archive.storage": ("GB-Mo", "0.00099"),
    "s3.intelligent_tiering.frequent": ("GB-Mo", "0.023"), "s3.intelligent_tiering.infrequent": ("GB-Mo", "0.0125"),
    "s3.intelligent_tiering.archive_instant": ("GB-Mo", "0.004"),
    "s3.intelligent_tiering.archive": ("GB-Mo", "0.0036"), "s3.intelligent_tiering.deep_archive": ("GB-Mo", "0.00099"),
    "s3.intelligent_tiering.monitoring": ("Objects", "0.0025"),
    "rds.storage.gp2.single": ("GB-Mo", "0.115"), "rds.storage.gp2.multi": ("GB-Mo", "0.23"),
    "rds.storage.gp3.single": ("GB-Mo", "0.115"), "rds.storage.gp3.multi": ("GB-Mo", "0.23"),
    "rds.storage.io1.single": ("GB-Mo", "0.125"), "rds.storage.io1.multi": ("GB-Mo", "0.25"),
    "rds.storage.io2.single": ("GB-Mo", "0.125"), "rds.storage.io2.multi": ("GB-Mo", "0.25"),
    "rds.storage.standard.single": ("GB-Mo", "0.10"), "rds.storage.standard.multi": ("GB-Mo", "0.20"),
    "rds.iops.io1.single": ("IOPS-Mo", "0.10"), "rds.iops.io1.multi": ("IOPS-Mo", "0.20"),
    "rds.iops.gp3.single": ("IOPS-Mo", "0.02"), "rds.iops.gp3.multi": ("IOPS-Mo", "0.04"),
    "rds.snapshot": ("GB-Mo", "0.095"), "aurora.storage": ("GB-Mo", "0.10"),
    "rds.extended_support.mysql.yr1-2": ("vCPU-Hr", "0.100"), "rds.extended_support.mysql.yr3": ("vCPU-Hr", "0.200"),
    "rds.extended_support.postgres.yr1-2": ("vCPU-Hr", "0.100"),
    "rds.extended_support.postgres.yr3": ("vCPU-Hr", "0.200"),
    "rds.extended_support.aurora-mysql.yr1-2": ("vCPU-Hr", "0.100"),
    "rds.extended_support.aurora-mysql.yr3": ("vCPU-Hr", "0.200"),
    "rds.extended_support.aurora-postgresql.yr1-2": ("vCPU-Hr", "0.100"),
    "rds.extended_support.aurora-postgresql.yr3": ("vCPU-Hr", "0.200"),
}
# EC2 Linux On-Demand (us-east-1 test values; hourly).
EC2_HOURLY = {
    "t2.micro": "0.0116", "t2.medium": "0.0464", "t3.micro": "0.0104", "t3.medium": "0.0416", "t4g.medium": "0.0336",
    "m4.large": "0.10", "m4.xlarge": "0.20", "m5.large": "0.096", "m5.xlarge": "0.192", "m5.2xlarge": "0.384",
    "m6i.large": "0.096", "m6g.large": "0.077", "m6g.xlarge": "0.154", "m7g.large": "0.0816",
    "c4.large": "0.10", "c5.large": "0.085", "c6g.large": "0.068",
    "r4.large": "0.133", "r5.large": "0.126", "r6g.large": "0.1008",
}
RDS_HOURLY = {  # (engine, az, class) -> hourly
    ("postgres", "single", "db.m5.large"): "0.178", ("postgres", "multi", "db.m5.large"): "0.356",
    ("postgres", "single", "db.m5.xlarge"): "0.356", ("postgres", "multi", "db.m5.xlarge"): "0.712",
    ("postgres", "single", "db.m6g.large"): "0.159", ("postgres", "multi", "db.m6g.large"): "0.318",
    ("postgres", "single", "db.m4.large"): "0.182", ("postgres", "multi", "db.m4.large"): "0.364",
    ("mysql", "single", "db.m5.large"): "0.171", ("mysql", "multi", "db.m5.large"): "0.342",
    ("mysql", "single", "db.t3.medium"): "0.068", ("mysql", "multi", "db.t3.medium"): "0.136",
    ("aurora-postgresql", "single", "db.r6g.large"): "0.26", ("aurora-mysql", "single", "db.r6g.large"): "0.26",
}
for _type, _usd in EC2_HOURLY.items():
    TEST_PRICES[f"ec2.linux.{_type}"] = ("Hrs", _usd)
for (_engine, _az, _class), _usd in RDS_HOURLY.items():
    TEST_PRICES[f"rds.instance.{_engine}.{_az}.{_class}"] = ("Hrs", _usd)


def us(key: str) -> Decimal:
    """The us-east-1 test price of a flat key (for expected values in tests)."""
    return Decimal(TEST_PRICES[key][1])


def eu(key: str) -> Decimal:
    return (us(key) * EU_FACTOR).quantize(Decimal("0.0000000001"))


def make_catalogue(omit: tuple[str, ...] = (), extra: dict[str, tuple[str, Any]] | None = None) -> PriceCatalogue:
    """The test catalogue; ``extra`` adds keys (same shape as TEST_PRICES), ``omit`` makes keys unavailable."""
    prices: dict[str, Any] = {}
    for key, (unit, value) in {**TEST_PRICES, **(extra or {})}.items():
        entry: dict[str, Any] = {"unit": unit, "description": key, "regions": {}, "unavailable": {}}
        for region in REGIONS:
            if region not in PRICED_REGIONS or key in omit:
                entry["unavailable"][region] = f"test: no {key} price in {region}"
                continue
            factor = Decimal(1) if region == "us-east-1" else EU_FACTOR
            if isinstance(value, list):
                tiers = [{"upto": upto, "usd": str((Decimal(usd) * factor).quantize(Decimal("0.0000000001")))}
                         for upto, usd in value]
                entry["regions"][region] = {"tiers": tiers, "usage_type": f"TEST-{key}", "effective": "2026-11-01",
                                            "source": "test"}
            else:
                usd = (Decimal(value) * factor).quantize(Decimal("0.0000000001"))
                entry["regions"][region] = {"usd": str(usd), "usage_type": f"TEST-{key}", "effective": "2026-11-01",
                                            "source": "test"}
        prices[key] = entry
    return PriceCatalogue({
        "schema_version": 1, "currency": "USD", "generated_at": "2026-11-30", "generator": "tests", "regions": REGIONS,
        "sources": {"test": {"title": "test prices", "url": "https://example.invalid/test-prices"}},
        "prices": prices,
    })


CATALOGUE = make_catalogue()


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def item(collector: str, resource_type: str, resource_id: str, region: str = "us-east-1", arn: str = "",
         **data: Any) -> InventoryItem:
    return InventoryItem(collector, resource_type, ACCOUNT, region, resource_id,
                         arn or f"arn:aws:test:{region}:{ACCOUNT}:{resource_type}/{resource_id}", data)


def volume(volume_id: str = "vol-1", region: str = "us-east-1", **data: Any) -> InventoryItem:
    fields = {"volume_type": "gp2", "size_gib": 100, "iops": None, "throughput": None, "state": "in-use",
              "attachments": [], "create_time": ago(365), "tags": {}, **data}
    return item("ec2.volumes", "ec2:volume", volume_id, region,
                f"arn:aws:ec2:{region}:{ACCOUNT}:volume/{volume_id}", **fields)


def instance(instance_id: str = "i-1", region: str = "us-east-1", **data: Any) -> InventoryItem:
    fields = {"instance_type": "m5.large", "state": "running", "launch_time": ago(365), "platform": "linux",
              "platform_details": "Linux/UNIX", "architecture": "x86_64", "lifecycle": "on-demand",
              "autoscaling_group": None, "volume_ids": [], "image_id": "ami-1", "public_ip": None,
              "stopped_since": None, "tags": {}, **data}
    return item("ec2.instances", "ec2:instance", instance_id, region,
                f"arn:aws:ec2:{region}:{ACCOUNT}:instance/{instance_id}", **fields)


def metrics(target: InventoryItem, days: int = 30, lookback: int = 30, **series: Any) -> InventoryItem:
    """CloudWatch evidence for ``target``: ``series`` maps a metric key (dots as "__") to a value per day
    (a number for every day, or a list of values, most recent last)."""
    end = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    out: dict[str, Any] = {}
    for name, values in series.items():
        key = name.replace("__", ".")
        points = values if isinstance(values, list) else [values] * days
        daily = {(end - timedelta(days=len(points) - n)).date().isoformat(): float(v) for n, v in enumerate(points)}
        out[key] = {"daily": daily, "datapoints": len(daily)}
    return InventoryItem(
        "cloudwatch.metrics", "cloudwatch:metrics", target.account_id, target.region, target.arn or target.uid, "",
        {"target_collector": target.collector, "target_resource_type": target.resource_type,
         "target_resource_id": target.resource_id, "target_arn": target.arn,
         "window": {"start": (end - timedelta(days=lookback)).isoformat(), "end": end.isoformat(),
                    "period_seconds": 86400, "lookback_days": lookback},
         "metrics": out},
    )


def context(items: list[InventoryItem], *, thresholds: dict[str, Any] | None = None,
            resource_costs: list[ResourceCost] = (), recommendations: list[CostRecommendation] = (),
            coverage: list[Coverage] | None = None, catalogue: PriceCatalogue = CATALOGUE,
            regions: tuple[str, ...] = REGIONS) -> CheckContext:
    costs = CostData(resource_costs=list(resource_costs), recommendations=list(recommendations))
    return CheckContext(account_id=ACCOUNT, regions=regions, now=NOW, prices=catalogue,
                        thresholds=Thresholds(thresholds), inventory=items, costs=costs, coverage=coverage)


def run(ctx: CheckContext, check_id: str) -> list[Finding]:
    """One check over every region of ``ctx``, as the runner calls it (one region per view)."""
    spec = discover()[check_id]
    regions = [*ctx.regions, "global"] if spec.global_items else list(ctx.regions)
    return [f for region in regions for f in spec.fn(ctx.for_check(spec, (region,)))]


def one(ctx: CheckContext, check_id: str) -> Finding:
    found = run(ctx, check_id)
    assert len(found) == 1, [f.title for f in found]
    return found[0]


def coh(resource_id: str, action: str, savings: str, *, region: str = "us-east-1", resource_type: str = "Ec2Instance",
        cost: str | None = None, arn: str = "", account: str = ACCOUNT, **extra: Any) -> CostRecommendation:
    fields: dict[str, Any] = dict(
        recommendation_id=f"rec-{resource_id}-{action}", account_id=account, region=region, resource_id=resource_id,
        resource_arn=arn, action_type=action, current_resource_type=resource_type, recommended_resource_type="",
        current_resource_summary="", recommended_resource_summary="", estimated_monthly_savings=Decimal(savings),
        estimated_monthly_cost=Decimal(cost) if cost else None, estimated_savings_percentage=None, currency="USD",
        implementation_effort="Low", restart_needed=False, rollback_possible=True, lookback_days=14,
        source="ComputeOptimizer", last_refresh="2026-11-29T00:00:00Z",
    )
    fields.update(extra)
    return CostRecommendation(**fields)
