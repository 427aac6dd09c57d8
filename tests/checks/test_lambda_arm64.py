from decimal import Decimal

import pytest

from tests.checks.kit import ACCOUNT, EU_FACTOR, TEST_PRICES, context, item, make_catalogue, metrics, one, run

TEN = Decimal("0.0000000001")


def first_tier(key, region="us-east-1"):
    usd = Decimal(TEST_PRICES[key][1][0][1])
    return usd if region == "us-east-1" else (usd * EU_FACTOR).quantize(TEN)


def function(name="orders", region="us-east-1", **data):
    fields = {"runtime": "python3.12", "package_type": "Zip", "architectures": ["x86_64"], "memory_mb": 1024,
              "timeout_s": 30, "code_size_bytes": 1000, "last_modified": "2026-01-01T00:00:00Z", "state": "Active",
              **data}
    return item("lambda.functions", "lambda:function", name, region,
                f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}", **fields)


def invoked(duration=720_000, calls=1200, region="us-east-1", days=30, **data):
    """A function with ``duration`` ms and ``calls`` invocations a day over a 30-day lookback."""
    fn = function(region=region, **data)
    return [fn, metrics(fn, days=days, Duration__Sum=duration, Invocations__Sum=calls)]


def gb_seconds(total_ms, memory_mb, lookback=30):
    """The monthly GB-seconds of the formula, computed here from its definition."""
    return (Decimal(total_ms) / 1000 * Decimal(memory_mb) / 1024 * 730 / (24 * lookback)).quantize(Decimal("0.001"))


# 720,000 ms a day x 30 days at 1 GB = 21,600 GB-s in 30 days = 21,900 GB-s a month
@pytest.mark.parametrize("items, quantity, region, effort", [
    (invoked(), gb_seconds(720_000 * 30, 1024), "us-east-1", "Low"),
    (invoked(region="eu-west-1"), gb_seconds(720_000 * 30, 1024), "eu-west-1", "Low"),
    (invoked(memory_mb=3008, runtime="nodejs20.x"), gb_seconds(720_000 * 30, 3008), "us-east-1", "Low"),
    # boundary: invoked on a single day of the lookback
    (invoked(duration=[5000], days=1, runtime="ruby3.3"), gb_seconds(5000, 1024), "us-east-1", "Low"),
    (invoked(runtime="java21"), gb_seconds(720_000 * 30, 1024), "us-east-1", "Medium"),
    (invoked(runtime=None, package_type="Image"), gb_seconds(720_000 * 30, 1024), "us-east-1", "Medium"),
    (invoked(runtime="python3.7"), gb_seconds(720_000 * 30, 1024), "us-east-1", "High"),
])
def test_x86_function_is_priced_at_the_arm64_duration_difference(items, quantity, region, effort):
    finding = one(context(items), "lambda_arm64")
    x86, arm = first_tier("lambda.duration.x86", region), first_tier("lambda.duration.arm64", region)
    assert finding.monthly_savings == quantity * (x86 - arm)
    assert finding.current_monthly_cost == quantity * x86
    assert {line.region for line in finding.price_lines} == {region}
    assert {line.quantity for line in finding.price_lines} == {quantity}
    assert finding.action == "MigrateToGraviton" and finding.confidence == "Medium" and finding.effort == effort
    assert finding.evidence["monthly_gb_seconds"] == str(quantity)
    assert set(finding.evidence["metrics"]) == {"Duration.Sum", "Invocations.Sum"}
    assert "lambda.requests" not in {line.price_key for line in finding.price_lines}


def test_tiers_split_the_quantity():
    catalogue = make_catalogue(extra={
        "lambda.duration.x86": ("GB-Second", [("10000", "0.0000166667"), (None, "0.000015")]),
        "lambda.duration.arm64": ("GB-Second", [("10000", "0.0000133334"), (None, "0.0000120001")]),
    })
    finding = one(context(invoked(), catalogue=catalogue), "lambda_arm64")
    x86 = 10000 * Decimal("0.0000166667") + 11900 * Decimal("0.000015")
    arm = 10000 * Decimal("0.0000133334") + 11900 * Decimal("0.0000120001")
    assert finding.monthly_savings == x86 - arm
    assert len([line for line in finding.price_lines if line.role == "current"]) == 2


def test_remediation_uses_the_package_type():
    zip_fn = one(context(invoked()), "lambda_arm64")
    assert zip_fn.remediation == ("aws lambda update-function-code --region us-east-1 --function-name orders "
                                  "--architectures arm64 --zip-file fileb://function-arm64.zip")
    image = one(context(invoked(package_type="Image", runtime=None)), "lambda_arm64")
    assert image.remediation.endswith("--architectures arm64 --image-uri ARM64_IMAGE_URI")


@pytest.mark.parametrize("items", [
    invoked(architectures=["arm64"]),  # already on arm64
    invoked(duration=[], calls=[]),  # boundary: no invocation in the lookback
    [function()],  # its duration was not read
])
def test_arm64_or_unused_functions_are_not_flagged(items):
    assert run(context(items), "lambda_arm64") == []


def provisioned(name="orders", region="us-east-1"):
    return item("lambda.provisioned_concurrency", "lambda:provisioned-concurrency", f"{name}:live", region,
                f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}:live", function_name=name, qualifier="live",
                allocated=5, status="READY", memory_mb=1024, architectures=["x86_64"])


@pytest.mark.parametrize("items, reason", [
    (invoked(region="ap-south-2"), "ap-south-2"),
    ([*invoked(), provisioned()], "provisioned concurrency (live)"),
    (invoked(memory_mb=None), "memory size"),
])
def test_unpriceable_functions_are_shown_unpriced_with_the_reason(items, reason):
    finding = one(context(items), "lambda_arm64")
    assert finding.monthly_savings is None and finding.price_status == "unavailable" and reason in finding.price_note
    assert finding.current_monthly_cost is None or items[0].region == "ap-south-2"


def test_provisioned_concurrency_of_another_function_does_not_matter():
    assert one(context([*invoked(), provisioned("other")]), "lambda_arm64").monthly_savings
