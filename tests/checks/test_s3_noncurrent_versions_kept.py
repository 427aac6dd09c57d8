import pytest

from tests.checks.kit import context, one, run
from tests.checks.test_s3_no_lifecycle import bucket, sized, standard

EXPIRE = {"id": "versions", "status": "Enabled", "noncurrent_expiration_days": 30, "noncurrent_transitions": []}


@pytest.mark.parametrize("versioning, rules", [
    ("Enabled", []),
    ("Suspended", []),  # versions made while it was enabled are kept
    ("Enabled", [{"id": "expire", "status": "Enabled", "expiration_days": 365}]),  # current versions only
    ("Enabled", [{**EXPIRE, "status": "Disabled"}]),  # boundary: the version rule is disabled
])
def test_versioned_bucket_without_noncurrent_rule_is_flagged(versioning, rules):
    finding = one(context(sized(versioning=versioning, lifecycle_rules=rules)), "s3_noncurrent_versions_kept")
    assert finding.monthly_savings is None and finding.price_status == "not_estimated"
    assert "noncurrent versions" in finding.price_note and "never does" in finding.price_note
    assert finding.current_monthly_cost == 100 * standard(0)
    assert finding.action == "SetLifecyclePolicy" and finding.confidence == "Low"
    assert finding.evidence["versioning"] == versioning
    assert (finding.evidence["versioning_note"] is not None) == (versioning == "Suspended")


@pytest.mark.parametrize("region, cost", [("eu-west-1", 100 * standard(0, "eu-west-1")), ("ap-south-2", None)])
def test_current_cost_is_regional_or_unknown(region, cost):
    finding = one(context(sized(region, versioning="Enabled")), "s3_noncurrent_versions_kept")
    assert finding.current_monthly_cost == cost and finding.price_status == "not_estimated"
    if cost is None:
        assert "ap-south-2" in finding.evidence["current_monthly_cost_unknown"]


def test_a_bucket_without_size_data_is_still_flagged():
    finding = one(context([bucket(versioning="Enabled")]), "s3_noncurrent_versions_kept")
    assert finding.current_monthly_cost is None


@pytest.mark.parametrize("versioning, rules", [
    ("Disabled", []),  # unversioned
    (None, []),
    ("Enabled", [EXPIRE]),
    ("Enabled", [{**EXPIRE, "noncurrent_expiration_days": None,
                  "noncurrent_transitions": [{"days": 30, "storage_class": "GLACIER"}]}]),
])
def test_unversioned_or_covered_buckets_are_not_flagged(versioning, rules):
    assert run(context(sized(versioning=versioning, lifecycle_rules=rules)), "s3_noncurrent_versions_kept") == []
