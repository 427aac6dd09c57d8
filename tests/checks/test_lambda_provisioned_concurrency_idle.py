from decimal import Decimal

import pytest

from tests.checks.kit import ACCOUNT, TEST_PRICES, context, eu, item, metrics, one, run, us

MONTH_SECONDS = 730 * 3600


def config(region="us-east-1", **data):
    fields = {"function_name": "api", "qualifier": "live", "requested": 10, "allocated": 10, "available": 10,
              "status": "READY", "last_modified": "2026-06-01T00:00:00Z", "memory_mb": 2048,
              "architectures": ["x86_64"], **data}
    return item("lambda.provisioned_concurrency", "lambda:provisioned-concurrency", "api:live", region,
                f"arn:aws:lambda:{region}:{ACCOUNT}:function:api:live", **fields)


def idle(peak=0.01, days=30, region="us-east-1", **data):
    pc = config(region, **data)
    return [pc, metrics(pc, days=days, ProvisionedConcurrencyUtilization__Maximum=peak)]


@pytest.mark.parametrize("items, price", [
    (idle(), us("lambda.provisioned.x86")),
    (idle(region="eu-west-1"), eu("lambda.provisioned.x86")),
    (idle(architectures=["arm64"]), us("lambda.provisioned.arm64")),
    (idle(peak=0), us("lambda.provisioned.x86")),
    # boundaries: exactly lambda_pc_idle_percent (0.05 as CloudWatch's fraction), exactly metrics_min_days of data
    (idle(peak=0.05), us("lambda.provisioned.x86")),
    (idle(days=14), us("lambda.provisioned.x86")),
    # a series with a value above 1 can only be in percent: 3 is 3%
    (idle(peak=3.0), us("lambda.provisioned.x86")),
])
def test_idle_provisioned_concurrency_is_priced_at_its_allocation(items, price):
    finding = one(context(items), "lambda_provisioned_concurrency_idle")
    gb_seconds = 10 * Decimal(2) * MONTH_SECONDS  # 10 allocated x 2 GB
    assert finding.monthly_savings == gb_seconds * price == finding.current_monthly_cost
    assert finding.action == "Delete" and finding.confidence == "Medium"
    assert {line.region for line in finding.price_lines} == {items[0].region}
    assert finding.remediation == (f"aws lambda delete-provisioned-concurrency-config --region {items[0].region} "
                                   "--function-name api --qualifier live")
    assert finding.evidence["metrics"]["ProvisionedConcurrencyUtilization.Maximum"]["days_with_data"] >= 14


def test_the_on_demand_cost_after_deleting_is_a_note_never_in_the_saving():
    finding = one(context(idle(peak=0.05)), "lambda_provisioned_concurrency_idle")
    (note,) = [line for line in finding.price_lines if line.role == "note"]
    gb_seconds = 10 * Decimal(2) * MONTH_SECONDS
    assert note.price_key == "lambda.duration.x86" and note.quantity == gb_seconds * 5 / 100
    assert note.unit_price == Decimal(TEST_PRICES["lambda.duration.x86"][1][0][1])
    assert finding.monthly_savings == gb_seconds * us("lambda.provisioned.x86")
    assert finding.evidence["on_demand_after_upper_bound"] == str(note.amount)


@pytest.mark.parametrize("items", [
    idle(peak=0.0501),  # boundary: just above 5%
    idle(peak=[0.01] * 29 + [0.8]),  # busy look-alike: one busy day
    idle(peak=0.5),  # 50% read as a fraction: not idle
    idle(days=13),  # boundary: one day short of metrics_min_days
    idle(status="IN_PROGRESS"),
    idle(allocated=0),
    [config()],  # no utilisation evidence
])
def test_used_or_unproven_configurations_are_not_flagged(items):
    assert run(context(items), "lambda_provisioned_concurrency_idle") == []


@pytest.mark.parametrize("items, reason", [
    (idle(region="ap-south-2"), "ap-south-2"),
    (idle(memory_mb=None), "memory size"),
])
def test_unpriceable_configurations_are_shown_unpriced(items, reason):
    finding = one(context(items), "lambda_provisioned_concurrency_idle")
    assert finding.monthly_savings is None and finding.price_status == "unavailable" and reason in finding.price_note


def test_threshold_override_changes_the_boundary():
    overridden = context(idle(peak=0.2), thresholds={"lambda_pc_idle_percent": 20})
    assert run(overridden, "lambda_provisioned_concurrency_idle")
    assert not run(context(idle(peak=0.2)), "lambda_provisioned_concurrency_idle")
