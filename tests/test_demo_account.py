"""End to end on the demo account: every check fires on resources that look real, each dollar figure
is what the catalogue's own entries give for the seeded facts, and busy look-alikes are left alone.

The expected amounts are computed here from ``finops/pricing/catalogue.json`` (read as a file, not
through the pricing code) and from what was seeded; the scan runs against the local AWS, stored
and reported as the product does.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

import pytest

from finops import reviews
from finops.checks import discover
from finops.config import Settings
from finops.db import connect
from finops.models import COH
from finops.pricing import CATALOGUE_FILE
from finops.report import build_report, to_csv, to_markdown
from finops.sandbox import seed
from finops.sandbox.demo_account import coh_recommendations, load_demo_cost_data, seed_demo_account
from finops.scan import run_scan
from tests.helpers import fired_checks

EXTERNAL_ID = "fp-demo-account-external-id"
REGIONS = ["us-east-1", "eu-west-1"]
PRICES = json.loads(CATALOGUE_FILE.read_text())["prices"]
CENT = Decimal("0.01")
HOURS = 730


def p(key: str, region: str = "us-east-1") -> Decimal:
    """The catalogue's flat price (or first tier) for ``key`` in ``region``."""
    entry = PRICES[key]["regions"][region]
    return Decimal(entry["usd"] if "usd" in entry else entry["tiers"][0]["usd"])


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def capped(estimate: Decimal, cost_per_day: str) -> Decimal:
    """The merge's cap: the 14-day actual cost as a monthly run rate (x 730 / 336)."""
    return min(cents(estimate), cents(Decimal(cost_per_day) * 14 * HOURS / 336))


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory, local_aws_server):
    local_aws_server.reset()
    customer = seed.customer_admin()
    demo = seed_demo_account(customer)
    load_demo_cost_data(local_aws_server, demo)
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    result = run_scan(role_arn, EXTERNAL_ID, Settings(), regions=REGIONS)
    path = tmp_path_factory.mktemp("demo") / "finops.db"
    db = connect(path)
    review = reviews.create_review(db, Settings(db_path=path))
    db.execute("update reviews set status = 'running' where id = ?", [review["id"]])
    reviews.store_result(db, review["id"], result)
    report = build_report(db, reviews.get_review(db, review["id"]))
    snapshots = customer.session("us-east-1").client("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"]
    return demo, result, report, {s["SnapshotId"]: s["VolumeSize"] for s in snapshots}


def key_of(finding: dict) -> tuple[str, str]:
    return finding["check_id"], finding["resource_name"] or finding["resource_id"]


def test_every_check_fires_on_the_demo_account(demo_report):
    _, result, report, _ = demo_report
    assert report["status"] == "complete" and report["gaps"] == []
    assert set(discover()) - fired_checks(report) == set()
    assert len(discover()) >= 30


def test_each_figure_is_the_catalogues_price_times_what_was_seeded(demo_report):
    demo, _, report, snapshot_sizes = demo_report
    got = {}
    for finding in report["findings"]:
        got.setdefault(key_of(finding), []).append(finding["monthly_savings"])
    ami = next(f for f in report["findings"] if f["check_id"] == "ec2_ami_unused")
    ami_gib = sum(snapshot_sizes[s] for s in ami["covers"])
    container_instance = next(f for f in report["findings"] if f["check_id"] == "ecs_container_instance_idle")
    old_snapshot = next(f for f in report["findings"] if f["check_id"] == "ec2_ebs_snapshot_old")
    orphaned_snapshot = next(f for f in report["findings"] if f["check_id"] == "ec2_ebs_snapshot_orphaned")
    gp2, gp3 = p("ebs.gp2.storage"), p("ebs.gp3.storage")
    es_year3 = p("rds.extended_support.mysql.yr3")
    expected = {
        ("rds_storage_io1_to_gp3", "ledger-db"):
            400 * p("rds.storage.io1.single") + 3000 * p("rds.iops.io1.single") - 400 * p("rds.storage.gp3.single"),
        ("rds_extended_support", "analytics-57"): 2 * HOURS * es_year3,  # db.m5.large: 2 vCPUs, year 3 since 2026-03
        ("ec2_ebs_io_to_gp3", "billing-cron-db"):
            200 * p("ebs.io1.storage") + 5000 * p("ebs.io1.iops")
            - (200 * gp3 + 2000 * p("ebs.gp3.iops") + 875 * p("ebs.gp3.throughput")),  # 5,000 IOPS, 1,000 MiB/s
        ("lambda_provisioned_concurrency_idle", "checkout-api:live"):
            10 * 2 * HOURS * 3600 * p("lambda.provisioned.x86"),
        ("rds_instance_idle", "reports-replica"):
            HOURS * p("rds.instance.postgres.single.db.m5.large") + 100 * p("rds.storage.gp2.single"),
        ("rds_multi_az_non_production", "qa-db"):
            HOURS * (p("rds.instance.postgres.multi.db.m5.large") - p("rds.instance.postgres.single.db.m5.large"))
            + 100 * (p("rds.storage.gp2.multi") - p("rds.storage.gp2.single")),
        ("ec2_instance_rightsize", "api-worker"): HOURS * (p("ec2.linux.m5.2xlarge") - p("ec2.linux.m5.xlarge")),
        ("rds_instance_rightsize", "orders-db"):
            HOURS * (p("rds.instance.postgres.single.db.m5.xlarge") - p("rds.instance.postgres.single.db.m5.large")),
        ("ecs_container_instance_idle", container_instance["resource_id"]): HOURS * p("ec2.linux.m5.large"),
        # peak 1,200 IOPS and 40 MiB/s + 50 % headroom stay under gp3's 3,000 / 125 included
        ("ec2_ebs_gp3_overprovisioned", "api-worker-scratch"): 7000 * p("ebs.gp3.iops") + 375 * p("ebs.gp3.throughput"),
        ("ec2_nat_gateway_idle", "nat-staging"):
            capped(HOURS * p("nat.hours") + HOURS * p("vpc.public_ipv4.in_use"), "1.08"),
        ("ec2_instance_idle", "staging-bastion"): HOURS * p("ec2.linux.t3.medium"),
        ("ec2_instance_graviton", "web-frontend"): HOURS * (p("ec2.linux.m5.xlarge") - p("ec2.linux.m6g.xlarge")),
        ("ec2_ebs_snapshot_old", old_snapshot["resource_id"]): 500 * p("ebs.snapshot.standard"),
        ("ec2_instance_stopped", "legacy-reporting"): 8 * gp2 + 200 * gp2 + HOURS * p("vpc.public_ipv4.idle"),
        ("coh_rightsize", "sessions"): Decimal("22.40"),  # Cost Optimization Hub's own figure, alone
        ("ecs_service_idle", "apps/legacy-sync"):
            HOURS * (Decimal("0.5") * p("fargate.x86.vcpu") + 1 * p("fargate.x86.memory")),
        ("ec2_ebs_volume_unattached", "eu-migration-scratch"): 200 * p("ebs.gp3.storage", "eu-west-1"),
        ("ecs_fargate_graviton", "apps/thumbnail-api"):
            2 * HOURS * ((p("fargate.x86.vcpu") - p("fargate.arm.vcpu"))
                         + 2 * (p("fargate.x86.memory") - p("fargate.arm.memory"))),
        ("rds_snapshot_old", "orders-db-pre-migration"): 100 * p("rds.snapshot"),
        ("rds_snapshot_orphaned", "crm-2019-final"): 100 * p("rds.snapshot"),
        ("ec2_ebs_snapshot_orphaned", orphaned_snapshot["resource_id"]): 150 * p("ebs.snapshot.standard"),
        ("ec2_ebs_volume_unattached", "old-build-cache"): capped(100 * gp2, "0.20"),
        # 500 GiB gp2 gives 1,500 IOPS (3,000 included in gp3) and 250 MiB/s (125 more than included)
        ("ec2_ebs_gp2_to_gp3", "web-frontend-data"): 500 * (gp2 - gp3) - 125 * p("ebs.gp3.throughput"),
        ("ec2_eip_unassociated", next(f["resource_id"] for f in report["findings"]
                                      if f["check_id"] == "ec2_eip_unassociated")): HOURS * p("vpc.public_ipv4.idle"),
        ("ec2_instance_previous_generation", "billing-cron"):
            HOURS * (p("ec2.linux.m4.large") - p("ec2.linux.m5.large")),
        ("rds_instance_previous_generation", "legacy-crm"):
            HOURS * (p("rds.instance.mysql.single.db.m4.large") - p("rds.instance.mysql.single.db.m5.large")),
        ("ec2_ami_unused", "golden-2025-q2"): ami_gib * p("ebs.snapshot.standard"),
        # 30 days x 3,600,000 ms of 1 GB = 108,000 GB-s over the lookback, x 730 / (24 x 30) a month
        ("lambda_arm64", "image-resizer"):
            Decimal(108_000) * HOURS / 720 * (p("lambda.duration.x86") - p("lambda.duration.arm64")),
        ("rds_aurora_cluster_idle", "events-aurora"): HOURS * p("rds.instance.aurora-postgresql.single.db.r6g.large"),
    }
    for key, amount in expected.items():
        assert key in got, f"{key} is not a counted finding"
        assert got[key] == [str(cents(amount))], key
    # Root volumes (8 GiB gp2, no Name tag) of the five running instances: gp2 -> gp3 each.
    roots = [f for f in report["findings"] if f["check_id"] == "ec2_ebs_gp2_to_gp3" and not f["resource_name"]]
    assert [f["monthly_savings"] for f in roots] == [str(cents(8 * (gp2 - gp3)))] * 5
    unpriced = {key_of(f): f["price_status"] for f in report["findings"] if f["monthly_savings"] is None}
    assert unpriced == {
        ("s3_standard_without_intelligent_tiering", "acme-logs-archive"): "not_estimated",
        ("s3_noncurrent_versions_kept", "acme-app-uploads"): "not_estimated",
        ("lambda_arm64", "checkout-api"): "unavailable",  # part of its duration is billed at provisioned rates
    }
    assert set(got) == set(expected) | {key_of(f) for f in roots} | set(unpriced)
    assert demo.ids["api_worker"]  # the seed names what it made


def test_totals_are_the_exact_sums_and_commitments_stay_apart(demo_report):
    _, _, report, _ = demo_report
    usage = sum(Decimal(f["monthly_savings"]) for f in report["findings"] if f["monthly_savings"] is not None)
    assert Decimal(report["totals"]["monthly_savings"]) == usage
    commitments = {f["check_id"]: f["monthly_savings"] for f in report["commitments"]}
    ri_rate = Decimal("5600") / (3 * 365 * 24)  # the RDS reservation's own terms: all upfront, 3 years
    assert commitments == {
        "ec2_reserved_instance_expiring": str(cents(4 * HOURS * (p("ec2.linux.m5.large") - Decimal("0.06")))),
        "rds_reserved_instance_expiring":
            str(cents(HOURS * (p("rds.instance.postgres.single.db.m5.xlarge") - ri_rate))),
        "coh_purchase_savings_plans": "96.36",  # overlapping purchases: the largest counts ...
        "savings_plan_expiring": None,  # ... an ending Savings Plan is a reminder, not priced
    }
    purchase = next(f for f in report["commitments"] if f["check_id"] == "coh_purchase_savings_plans")
    assert [a["check_id"] for a in purchase["alternatives"]] == ["coh_purchase_reserved_instances"]
    assert Decimal(report["totals"]["commitment_monthly_savings"]) == sum(
        Decimal(v) for v in commitments.values() if v is not None)
    assert not any(f["kind"] == "commitment" for f in report["findings"])


def test_busy_look_alikes_are_not_told_to_stop_or_delete(demo_report):
    _, _, report, _ = demo_report
    by_name = {}
    for finding in report["findings"]:
        by_name.setdefault(finding["resource_name"] or finding["resource_id"], []).append(finding)
        for alternative in finding["alternatives"]:
            by_name.setdefault(alternative["resource_id"], []).append(alternative)
    assert [f["action"] for f in by_name["web-frontend"]] == ["MigrateToGraviton"]  # busy: never Stop
    assert "nat-production" not in by_name  # carries traffic
    assert all(f["check_id"] != "rds_instance_idle" for f in by_name["orders-db"])  # has connections
    assert not {f["action"] for f in by_name["orders-db"]} & {"Delete", "Stop"}


def test_cost_optimization_hub_is_merged_never_counted_twice(demo_report):
    demo, _, report, _ = demo_report
    merged = {f["check_id"]: f for f in report["findings"] if f["coh"] and "native" in f["sources"]}
    assert set(merged) == {"ec2_instance_rightsize", "ec2_instance_idle", "ec2_ebs_volume_unattached",
                           "rds_instance_previous_generation", "lambda_arm64", "ecs_service_idle"}
    assert all(f["sources"] == ["native", COH] for f in merged.values())
    assert merged["ecs_service_idle"]["confidence"] == "Medium"  # Low, raised: two sources agree
    placements = {r["recommendation_id"]: r["placement"] for r in report["cost_recommendations"]["items"]}
    assert sorted(placements.values()) == sorted(
        ["merged"] * 6 + ["finding", "commitment", "alternative", "out_of_scope", "out_of_scope"])
    assert len(placements) == len(coh_recommendations(demo))


def test_capped_estimates_say_so(demo_report):
    _, _, report, _ = demo_report
    capped_findings = {f["resource_name"]: f["capped"] for f in report["findings"] if f["capped"]}
    assert set(capped_findings) == {"old-build-cache", "nat-staging"}
    assert capped_findings["old-build-cache"]["estimate"] == "10.00"
    assert "Capped at the resource's actual run rate" in capped_findings["old-build-cache"]["sentence"]


def test_every_export_carries_the_figures(demo_report):
    _, _, report, _ = demo_report
    markdown = to_markdown(report)
    assert "## Commitments" in markdown and "## Thresholds used" in markdown
    csv_text = to_csv(report)
    assert csv_text.count("\r\n") == 1 + len(report["findings"]) + len(report["commitments"])
    assert {t["name"] for t in report["thresholds"]} >= {"stopped_instance_min_days", "commitment_expiry_days"}
    assert report["price_basis"]["coh_savings_estimation_mode"] == "AfterDiscounts"
