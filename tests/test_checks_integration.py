"""The checks inside a real scan of the local AWS: no check can fail a review, prices are declared."""

from __future__ import annotations

import fnmatch
import json

import pytest

from finops.checks import CHECKS, check, discover
from finops.config import Settings
from finops.pricing import CATALOGUE_FILE, PriceCatalogue, load_catalogue
from finops.sandbox import seed
from finops.scan import run_scan

EXTERNAL_ID = "fp-checks-integration"


def test_every_price_key_a_check_declares_is_answered_in_every_catalogue_region():
    catalogue = load_catalogue()
    raw = json.loads(CATALOGUE_FILE.read_text())["prices"]
    for spec in discover().values():
        for pattern in spec.prices:
            keys = [k for k in catalogue.keys() if fnmatch.fnmatchcase(k, pattern)]
            assert keys, f"{spec.id} declares {pattern!r}, which no catalogue key matches"
            for key in keys:
                answered = set(raw[key].get("regions", {})) | set(raw[key].get("unavailable", {}))
                missing = set(catalogue.regions) - answered
                assert not missing, f"{key} ({spec.id}) says nothing about {sorted(missing)}"
                assert all(raw[key]["unavailable"][r].strip() for r in raw[key].get("unavailable", {}))


@pytest.fixture
def scanned_volume(local_aws, customer):
    ec2 = customer.session("us-east-1").client("ec2")
    volume_id = ec2.create_volume(AvailabilityZone="us-east-1a", Size=100, VolumeType="gp2")["VolumeId"]
    seed.backdate_volume(customer, "us-east-1", volume_id, 30)
    return volume_id, seed.create_scanner_role(customer, EXTERNAL_ID)


def test_a_check_that_raises_leaves_the_review_complete_with_a_coverage_row(scanned_volume):
    volume_id, role_arn = scanned_volume

    @check(title="Exploding test checks", category="Storage", service="ec2", resource_type="ec2:volume",
           action="Delete", needs=("ec2.volumes",))
    def exploding_test_check(ctx):  # a bug in one check, registered for this test only
        if ctx.of("ec2.volumes"):
            raise ZeroDivisionError("bug")
        return []

    try:
        result = run_scan(role_arn, EXTERNAL_ID, Settings(), regions=["us-east-1"])
    finally:
        CHECKS.pop("exploding_test_check")
    assert not result.partial
    (row,) = [c for c in result.coverage if c.source == "check:exploding_test_check"]
    assert row.status == "check_error" and "ZeroDivisionError" in row.detail
    assert [f.resource_id for f in result.findings if f.check_id == "ec2_ebs_volume_unattached"] == [volume_id]


def test_a_missing_price_leaves_the_review_complete_with_an_unpriced_finding(scanned_volume):
    volume_id, role_arn = scanned_volume
    doc = json.loads(CATALOGUE_FILE.read_text())
    entry = doc["prices"]["ebs.gp2.storage"]
    entry["unavailable"]["us-east-1"] = "test: gp2 is not priced here"
    entry["regions"].pop("us-east-1", None)
    result = run_scan(role_arn, EXTERNAL_ID, Settings(), regions=["us-east-1"], prices=PriceCatalogue(doc))
    assert not result.partial
    unpriced = [f for f in result.findings if f.resource_id == volume_id and f.price_status == "unavailable"]
    assert unpriced and all(f.monthly_savings is None for f in unpriced)
    assert any(c.status == "price_unavailable" and "gp2 is not priced here" in c.detail for c in result.coverage)
