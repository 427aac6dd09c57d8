from decimal import Decimal

import pytest

from tests.checks.kit import context, eu, metrics, one, run, us
from tests.checks.test_s3_no_lifecycle import bucket, standard

GIB = 2**30
CHECK = "s3_standard_without_intelligent_tiering"


def large(gib=2048, objects=1_000_000, region="us-east-1", extra_bytes=0, **data):
    b = bucket(region, **data)
    series = {"BucketSizeBytes__StandardStorage__Average": gib * GIB + extra_bytes}
    if objects is not None:
        series["NumberOfObjects__AllStorageTypes__Average"] = objects
    return [b, metrics(b, **series)]


def bound(gib, objects, region="us-east-1"):
    price = us if region == "us-east-1" else eu
    return (gib * standard(0, region) - gib * price("s3.intelligent_tiering.infrequent")
            - Decimal(objects) / 1000 * price("s3.intelligent_tiering.monitoring"))


@pytest.mark.parametrize("items, gib, region", [
    (large(), 2048, "us-east-1"),
    (large(region="eu-west-1"), 2048, "eu-west-1"),
    (large(gib=1024), 1024, "us-east-1"),  # boundary: exactly s3_large_bucket_gb
    # disabled configurations and rules do not count
    (large(intelligent_tiering_configs=[{"id": "it", "status": "Disabled", "tierings": []}],
           lifecycle_rules=[{"id": "t", "status": "Disabled", "transitions": [{"days": 30,
                                                                               "storage_class": "STANDARD_IA"}]}]),
     2048, "us-east-1"),
    # an enabled rule without a transition does not count
    (large(lifecycle_rules=[{"id": "abort", "status": "Enabled", "abort_incomplete_multipart_days": 7,
                             "transitions": []}]), 2048, "us-east-1"),
])
def test_large_standard_bucket_is_flagged_with_an_uncounted_upper_bound(items, gib, region):
    finding = one(context(items), CHECK)
    assert finding.monthly_savings is None and finding.price_status == "not_estimated"
    assert finding.current_monthly_cost == gib * standard(0, region)
    upper = finding.evidence["upper_bound_not_counted"]
    assert Decimal(upper["monthly"]) == bound(gib, 1_000_000, region)
    assert "Upper bound, not counted" in upper["sentence"]
    notes = [line for line in finding.price_lines if line.role == "note"]
    assert {line.price_key for line in notes} == {"s3.standard.storage", "s3.intelligent_tiering.infrequent",
                                                 "s3.intelligent_tiering.monitoring"}
    assert {line.region for line in finding.price_lines} == {region}
    assert finding.action == "SetLifecyclePolicy" and finding.confidence == "Low"
    assert "INTELLIGENT_TIERING" in finding.recommended


def test_without_an_object_count_there_is_no_upper_bound():
    finding = one(context(large(objects=None)), CHECK)
    assert finding.evidence["upper_bound_not_counted"]["monthly"] is None
    assert "NumberOfObjects" in finding.evidence["upper_bound_not_counted"]["why"]
    assert [line.role for line in finding.price_lines] == ["current"]


def test_unpriced_region_is_flagged_with_cost_and_bound_unknown():
    finding = one(context(large(region="ap-south-2")), CHECK)
    assert finding.current_monthly_cost is None and finding.price_lines == ()
    assert "ap-south-2" in finding.evidence["upper_bound_not_counted"]["why"]
    assert "ap-south-2" in finding.evidence["current_monthly_cost_unknown"]


@pytest.mark.parametrize("items", [
    large(gib=1024, extra_bytes=-(2**20)),  # boundary: 1 MiB under 1,024 GB
    large(intelligent_tiering_configs=[{"id": "it", "status": "Enabled", "tierings": []}]),
    large(lifecycle_rules=[{"id": "t", "status": "Enabled",
                            "transitions": [{"days": 0, "storage_class": "INTELLIGENT_TIERING"}]}]),
    [bucket()],  # no size data: cannot judge
])
def test_small_tiered_or_unmeasured_buckets_are_not_flagged(items):
    assert run(context(items), CHECK) == []


def test_only_standard_storage_counts_towards_the_threshold():
    b = bucket()
    items = [b, metrics(b, BucketSizeBytes__StandardIAStorage__Average=5000 * GIB,
                        BucketSizeBytes__StandardStorage__Average=10 * GIB)]
    assert run(context(items), CHECK) == []


def test_threshold_override_changes_the_boundary():
    assert run(context(large(gib=100), thresholds={"s3_large_bucket_gb": 100}), CHECK)
    assert not run(context(large(gib=100)), CHECK)
