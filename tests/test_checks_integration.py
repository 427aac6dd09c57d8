"""The checks inside a real scan of the local AWS: no check can fail a review, prices are declared."""

from __future__ import annotations

import fnmatch
import json

import pytest

from finops import reviews
from finops.checks import CHECKS, check, discover
from finops.config import Settings
from finops.db import connect
from finops.errors import ConfigError
from finops.pricing import CATALOGUE_FILE, PriceCatalogue, load_catalogue
from finops.sandbox import seed
from finops.scan import run_scan
from tests.conftest import run_worker_burst  # at import time: importing conftest resets the AWS settings
from tests.helpers import connect_form, report_token_of, review_id_of, start_review

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


def test_a_reviews_own_thresholds_are_used_and_echoed(client, settings, customer):
    """reviews.set_thresholds (per review) over FINOPS_THRESHOLDS (per deployment) over the defaults."""
    ec2 = customer.session("us-east-1").client("ec2")
    young = ec2.create_volume(AvailabilityZone="us-east-1a", Size=10, VolumeType="gp2")["VolumeId"]
    seed.backdate_volume(customer, "us-east-1", young, 2)  # too young for the default 7 days
    invitation = start_review(client)
    review_id = review_id_of(client, invitation)
    db = connect(settings.db_path)
    reviews.set_thresholds(db, review_id, {"unattached_volume_min_days": 1})
    with pytest.raises(ConfigError, match="unknown threshold 'no_such_threshold'"):
        reviews.set_thresholds(db, review_id, {"no_such_threshold": 1})
    form = connect_form(client, invitation)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    client.post(f"/reviews/{invitation}/scan", data=form)
    run_worker_burst(settings)
    token = report_token_of(settings, review_id)
    report = json.loads(client.get(f"/r/{token}.json").get_data(as_text=True))
    assert [f["resource_id"] for f in report["findings"] if f["check_id"] == "ec2_ebs_volume_unattached"] == [young]
    echoed = {t["name"]: t for t in report["thresholds"]}
    assert echoed["unattached_volume_min_days"]["value"] == 1 and echoed["unattached_volume_min_days"]["overridden"]
    assert not echoed["stopped_instance_min_days"]["overridden"]


@pytest.mark.parametrize("text, suffix, message", [
    ("[thresholds]\nstopped_instance_min_days = 14\n", ".toml", None),
    ('{"ec2_idle_cpu_percent": 3}', ".json", None),
    ("stopped_instance_min_days = 'soon'\n", ".toml", "must be a number"),
    ("no_such = 1\n", ".toml", "unknown threshold 'no_such'"),
    ("stopped_instance_min_days = 1.5\n", ".toml", "must be a whole number"),
    ("this is not toml", ".toml", "is not valid toml"),
])
def test_the_thresholds_file_is_checked_at_start_up(tmp_path, text, suffix, message):
    path = tmp_path / f"thresholds{suffix}"
    path.write_text(text)
    env = {"FINOPS_THRESHOLDS": str(path)}
    if message is None:
        assert Settings.from_env(env).thresholds_file == path
    else:
        with pytest.raises(ConfigError) as refused:
            Settings.from_env(env)
        assert message in refused.value.customer_message and "FINOPS_THRESHOLDS" in refused.value.customer_message
