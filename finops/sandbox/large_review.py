"""A finished review with N findings, shaped like a large real one: for benchmarks and tests.

The findings spread over the registered usage checks (so over their categories and actions), six
regions and one account; each carries two price lines, a metric summary, a command, and one in
five an alternative; a quarter of them come from Cost Optimization Hub too, each with its stored
COH recommendation naming the same resource, plus a few recommendations that match nothing, so the
report's COH panel places every one. Everything is written through ``reviews.store_result``, as a
scan does. Deterministic: the same N gives the same review.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

import sqlite_utils

from finops import links, reviews
from finops.checks import discover
from finops.checks.merge import merge
from finops.config import Settings
from finops.models import (
    COH,
    NATIVE,
    USAGE,
    CostData,
    CostRecommendation,
    Coverage,
    Finding,
    InventoryItem,
    PriceLine,
    ScanResult,
)

ACCOUNT = "222222222222"
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1"]


def _finding(n: int, spec, rng: random.Random) -> Finding:
    region = REGIONS[n % len(REGIONS)]
    resource_id = f"{spec.resource_type.split(':')[-1][:6]}-{n:012x}"
    now = Decimal(rng.randrange(500, 200_000)) / 100
    after = (now * Decimal(rng.choice(["0", "0.5", "0.25"]))).quantize(Decimal("0.01"))
    hours = Decimal(730)
    lines = (
        PriceLine(item="instance hours", role="current", price_key="ec2.m5.large", usage_type="BoxUsage:m5.large",
                  unit_price=(now / hours).quantize(Decimal("0.0001")), unit="Hrs", quantity=hours, region=region,
                  effective_date="2026-07-01", source="bench", source_title="Benchmark prices"),
        PriceLine(item="instance hours", role="recommended", price_key="ec2.m5.large", usage_type="BoxUsage:m5.large",
                  unit_price=(after / hours).quantize(Decimal("0.0001")), unit="Hrs", quantity=hours, region=region,
                  effective_date="2026-07-01", source="bench", source_title="Benchmark prices"),
    )
    savings = sum((line.amount for line in lines if line.role == "current"), Decimal(0)) - sum(
        (line.amount for line in lines if line.role == "recommended"), Decimal(0))
    metric = {"metric": "CPUUtilization", "lookback_days": 14, "days_with_data": 14,
              "window": {"start": "2026-11-16T00:00:00Z", "end": "2026-11-30T00:00:00Z"},
              "max": f"{rng.random() * 10:.1f}", "avg": f"{rng.random() * 3:.1f}", "p95": f"{rng.random() * 5:.1f}"}
    coh = n % 4 == 0
    return Finding(
        check_id=spec.id, title=f"{spec.title[:-1] if spec.title.endswith('s') else spec.title} {n}",
        resource_type=spec.resource_type, resource_id=resource_id, region=region, account_id=ACCOUNT,
        monthly_savings=savings, current_monthly_cost=now, category=spec.category, action=spec.action,
        resource_name=f"service-{n % 97}-{'prod' if n % 3 else 'staging'}", price_lines=lines,
        formula="730 h x (price now - price after)", evidence={"metrics": {"cpu": metric}},
        remediation=f"aws ec2 describe-instances --region {region} --instance-ids {resource_id}",
        console_url=f"https://{region}.console.aws.amazon.com/ec2/home?region={region}",
        sources=(NATIVE, COH) if coh else (NATIVE,),
        coh={"monthly_savings": str((savings * Decimal("0.9")).quantize(Decimal("0.01"))),
             "estimation_mode": "AfterDiscounts"} if coh else None,
        effort=spec.effort, confidence=spec.confidence, recommended="a smaller instance type",
    )


def _recommendation(n: int, finding: Finding | None) -> CostRecommendation:
    region = finding.region if finding else REGIONS[n % len(REGIONS)]
    return CostRecommendation(
        recommendation_id=f"rec-{n:08d}", account_id=ACCOUNT, region=region,
        resource_id=finding.resource_id if finding else f"i-elsewhere{n:08d}",
        resource_arn="", action_type=finding.action if finding else "Stop", current_resource_type="Ec2Instance",
        recommended_resource_type="Ec2Instance", current_resource_summary="m5.large",
        recommended_resource_summary="t3.large", estimated_monthly_savings=Decimal(n % 300 + 1),
        estimated_monthly_cost=Decimal(400), estimated_savings_percentage=Decimal(25), currency="USD",
        implementation_effort="Low", restart_needed=True, rollback_possible=True, lookback_days=14,
        source="cost-optimization-hub", last_refresh="2026-11-29T00:00:00Z",
    )


def create(db: sqlite_utils.Database, settings: Settings, count: int, company: str = "Big Co") -> tuple[str, str]:
    """Store a finished review with ``count`` findings; returns (review id, report URL path)."""
    rng = random.Random(count)
    specs = [spec for spec in discover().values() if spec.kind == USAGE and spec.service != "cost-optimization-hub"]
    findings = [_finding(n, specs[n % len(specs)], rng) for n in range(count)]
    # One in five resources has a second, smaller opportunity: the merge lists it as an alternative.
    findings += [replace(f, check_id=specs[(n + 1) % len(specs)].id, monthly_savings=(f.monthly_savings or 0) / 2,
                         sources=(COH,), coh=None) for n, f in enumerate(findings) if n % 5 == 1]
    merged = merge(findings)
    recommendations = [_recommendation(n, f) for n, f in enumerate(merged.findings) if COH in f.sources]
    recommendations += [_recommendation(count + n, None) for n in range(max(count // 20, 1))]
    items = [InventoryItem("bench", f.resource_type, ACCOUNT, f.region, f.resource_id, "", {}) for f in merged.findings]
    coverage = [Coverage(source="ec2.instances", region=region, api_calls=3, attempts=3) for region in REGIONS]
    review = reviews.create_review(db, settings, contact=reviews.Contact("Bench", "bench@example.com", company))
    db.execute("update reviews set status = 'running', account_id = ? where id = ?", [ACCOUNT, review["id"]])
    result = ScanResult(ACCOUNT, REGIONS, coverage, items, merged.findings,
                        costs=CostData(recommendations=recommendations, coh_enrollment="Active",
                                       coh_savings_estimation_mode="AfterDiscounts",
                                       coh_deduped_savings=sum((r.estimated_monthly_savings for r in recommendations),
                                                               Decimal(0)), coh_commitment_savings=Decimal(0)),
                        commitments=merged.commitments)
    reviews.store_result(db, review["id"], result)
    token = links.ensure_token(db, settings, reviews.get_review(db, review["id"]), links.REPORT)
    return review["id"], f"/r/{token}"
