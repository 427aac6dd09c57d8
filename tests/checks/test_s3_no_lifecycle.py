from decimal import Decimal

import pytest

from tests.checks.kit import EU_FACTOR, TEST_PRICES, context, item, metrics, one, run, us

GIB = 2**30


def standard(tier, region="us-east-1"):
    """The test catalogue's S3 Standard rate of ``tier`` (0: first 50 TB, 1: next 450 TB)."""
    usd = Decimal(TEST_PRICES["s3.standard.storage"][1][tier][1])
    return usd if region == "us-east-1" else (usd * EU_FACTOR).quantize(Decimal("0.0000000001"))


def bucket(region="us-east-1", name="logs-bucket", **data):
    fields = {"creation_date": "2024-01-01T00:00:00Z", "versioning": "Disabled", "mfa_delete": "Disabled",
              "lifecycle_rules": [], "intelligent_tiering_configs": [], **data}
    return item("s3.buckets", "s3:bucket", name, region, f"arn:aws:s3:::{name}", **fields)


def sized(region="us-east-1", sizes=None, **data):
    """A bucket and its BucketSizeBytes per storage type (GiB, or a daily list of GiB)."""
    b = bucket(region, **data)
    series = {f"BucketSizeBytes__{kind}__Average": [v * GIB for v in gib] if isinstance(gib, list) else gib * GIB
              for kind, gib in (sizes or {"StandardStorage": 100}).items()}
    return [b, metrics(b, **series)]


@pytest.mark.parametrize("items, expected", [
    # 100 GB in Standard
    (sized(), 100 * standard(0)),
    (sized("eu-west-1"), 100 * standard(0, "eu-west-1")),
    # each storage type at its own price; Glacier's 8 KB per-object metadata is billed at the Standard rate
    (sized(sizes={"StandardStorage": 100, "GlacierS3ObjectOverhead": 1, "StandardIAStorage": 200,
                  "GlacierStorage": 50, "GlacierObjectOverhead": 2, "IntelligentTieringIAStorage": 10}),
     101 * standard(0) + 200 * us("s3.standard_ia.storage") + 52 * us("s3.glacier.storage")
     + 10 * us("s3.intelligent_tiering.infrequent")),
    # Standard is tiered: 51,200 GB at the first rate, the rest at the second
    (sized(sizes={"StandardStorage": 60000}), 51200 * standard(0) + 8800 * standard(1)),
    # the latest day with data, not the average over the lookback
    (sized(sizes={"StandardStorage": [400] * 29 + [100]}), 100 * standard(0)),
    # boundary: only disabled rules is no enabled rule
    (sized(lifecycle_rules=[{"id": "old", "status": "Disabled", "expiration_days": 30}]), 100 * standard(0)),
])
def test_bucket_without_enabled_rule_shows_its_current_cost_unestimated(items, expected):
    finding = one(context(items), "s3_no_lifecycle")
    assert finding.current_monthly_cost == expected
    assert finding.monthly_savings is None and finding.price_status == "not_estimated"
    assert "depends on how the objects are used" in finding.price_note
    assert finding.action == "SetLifecyclePolicy" and finding.confidence == "Low"
    assert {line.role for line in finding.price_lines} == {"current"}
    assert {line.region for line in finding.price_lines} == {items[0].region}
    assert finding.remediation == (f"aws s3api put-bucket-lifecycle-configuration --region {items[0].region} "
                                   "--bucket logs-bucket --lifecycle-configuration file://lifecycle.json")


@pytest.mark.parametrize("items, why", [
    (sized("ap-south-2"), "ap-south-2"),  # no price there: shown, cost unknown
    ([bucket()], "no BucketSizeBytes data"),  # no size: still flagged
    (sized(sizes={"StandardStorage": 10, "ReducedRedundancyStorage": 5}), "ReducedRedundancyStorage"),
])
def test_cost_unknown_is_still_a_finding_with_the_reason(items, why):
    finding = one(context(items), "s3_no_lifecycle")
    assert finding.price_status == "not_estimated" and finding.current_monthly_cost is None
    assert finding.price_lines == ()
    assert why in finding.evidence["current_monthly_cost_unknown"]


def test_an_empty_bucket_costs_nothing():
    finding = one(context(sized(sizes={"StandardStorage": 0})), "s3_no_lifecycle")
    assert finding.current_monthly_cost == 0


@pytest.mark.parametrize("rules", [
    [{"id": "expire", "status": "Enabled", "expiration_days": 365}],
    [{"id": "off", "status": "Disabled"}, {"id": "abort", "status": "Enabled", "abort_incomplete_multipart_days": 7}],
])
def test_buckets_with_an_enabled_rule_are_not_flagged(rules):
    assert run(context(sized(lifecycle_rules=rules)), "s3_no_lifecycle") == []
