import pytest

from tests.checks.kit import context, one, run
from tests.checks.test_s3_no_lifecycle import bucket, sized, standard

ABORT = {"id": "abort", "status": "Enabled", "abort_incomplete_multipart_days": 7}


@pytest.mark.parametrize("rules", [
    [],  # no lifecycle configuration at all
    [{"id": "expire", "status": "Enabled", "expiration_days": 90}],  # rules, none aborting uploads
    [{**ABORT, "status": "Disabled"}],  # boundary: the abort rule is disabled
])
def test_bucket_without_an_abort_rule_is_flagged_unestimated(rules):
    finding = one(context(sized(lifecycle_rules=rules)), "s3_no_abort_multipart")
    assert finding.monthly_savings is None and finding.price_status == "not_estimated"
    assert "never does" in finding.price_note and "listing" in finding.price_note
    assert finding.current_monthly_cost == 100 * standard(0)
    assert finding.action == "SetLifecyclePolicy" and finding.confidence == "Low"
    assert "AbortIncompleteMultipartUpload" in finding.recommended and "replaces" in finding.recommended
    assert "put-bucket-lifecycle-configuration" in finding.remediation


@pytest.mark.parametrize("region, cost", [("eu-west-1", 100 * standard(0, "eu-west-1")), ("ap-south-2", None)])
def test_current_cost_is_regional_or_unknown(region, cost):
    finding = one(context(sized(region)), "s3_no_abort_multipart")
    assert finding.current_monthly_cost == cost and finding.price_status == "not_estimated"
    if cost is None:
        assert "ap-south-2" in finding.evidence["current_monthly_cost_unknown"]


def test_a_bucket_without_size_data_is_still_flagged():
    finding = one(context([bucket()]), "s3_no_abort_multipart")
    assert finding.current_monthly_cost is None
    assert "BucketSizeBytes" in finding.evidence["current_monthly_cost_unknown"]


@pytest.mark.parametrize("rules", [
    [ABORT],
    [{"id": "expire", "status": "Enabled", "expiration_days": 90}, {**ABORT, "prefix": "uploads/"}],
    [{**ABORT, "abort_incomplete_multipart_days": 1}],
])
def test_buckets_that_abort_uploads_are_not_flagged(rules):
    assert run(context(sized(lifecycle_rules=rules)), "s3_no_abort_multipart") == []
