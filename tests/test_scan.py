"""The scan pipeline against the local AWS: assume-role outcomes and the read-only guard."""

from __future__ import annotations

import boto3
import pytest

from finops.config import Settings
from finops.errors import AssumeRoleError, ReadOnlyViolation, RoleUnsafe, UnsupportedPartition
from finops.sandbox import seed
from finops.scan import run_scan
from tests.helpers import assume_role_calls, guarded

EXTERNAL_ID = "fp-test-external-id-0001"


def test_wrong_or_missing_external_id_is_refused_by_the_local_aws(local_aws, customer):
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    sts = boto3.client("sts")
    for kwargs in ({}, {"ExternalId": "fp-wrong"}):
        with pytest.raises(sts.exceptions.ClientError) as caught:
            sts.assume_role(RoleArn=role_arn, RoleSessionName="test-session", **kwargs)
        assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert sts.assume_role(RoleArn=role_arn, RoleSessionName="test-session", ExternalId=EXTERNAL_ID)["Credentials"]


def test_scan_with_wrong_external_id_gives_a_sentence(local_aws, customer):
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    with pytest.raises(AssumeRoleError) as caught:
        run_scan(role_arn, "fp-not-the-one", Settings())
    assert "sts:ExternalId condition is this review's External ID exactly" in caught.value.customer_message


def test_role_without_external_id_condition_is_refused_as_unsafe(local_aws, customer):
    policy = seed.trust_policy(seed.DEFAULT_SCANNER_PRINCIPAL, EXTERNAL_ID)
    del policy["Statement"][0]["Condition"]
    role_arn = seed.create_role(customer, policy)
    with pytest.raises(RoleUnsafe) as caught:
        run_scan(role_arn, EXTERNAL_ID, Settings())
    assert caught.value.customer_message.startswith("Role unsafe: it can be assumed without the External ID")
    # It stopped at the probe: no scan session was ever requested, nothing was read.
    assert [c["params"]["RoleSessionName"] for c in assume_role_calls(local_aws)] == ["finops-pack-safety-probe"]
    assert not [r for r in local_aws.requests() if r["service"] == "ec2"]


def test_govcloud_is_refused_before_any_request(local_aws):
    with pytest.raises(UnsupportedPartition):
        run_scan("arn:aws-us-gov:iam::222222222222:role/finops-pack-readonly", EXTERNAL_ID, Settings())
    assert local_aws.requests() == []


@pytest.mark.parametrize("service, call, params", [
    ("ec2", "terminate_instances", {"InstanceIds": ["i-1234567890abcdef0"]}),
    ("ec2", "delete_volume", {"VolumeId": "vol-1234567890abcdef0"}),
    ("ec2", "create_tags", {"Resources": ["vol-1"], "Tags": [{"Key": "a", "Value": "b"}]}),
    ("s3", "put_object", {"Bucket": "customer-data", "Key": "x", "Body": b"x"}),
    ("s3", "get_object", {"Bucket": "customer-data", "Key": "x"}),
    ("iam", "create_access_key", {}),
    ("sts", "assume_role", {"RoleArn": "arn:aws:iam::222222222222:role/x", "RoleSessionName": "probe"}),
])
def test_guard_refuses_mutations_before_they_are_sent(local_aws, customer, service, call, params):
    client = guarded(customer).client(service, region_name="us-east-1")
    with pytest.raises(ReadOnlyViolation):
        getattr(client, call)(**params)
    assert local_aws.requests() == []  # nothing reached the local AWS


def test_guarded_session_still_reads(local_aws, customer):
    seed.seed_demo_waste(customer)
    volumes = guarded(customer).client("ec2").describe_volumes()["Volumes"]
    assert volumes and local_aws.requests()[-1]["action"] == "DescribeVolumes"


def test_scan_finds_the_seeded_waste_in_every_region(local_aws, customer):
    seed.seed_demo_waste(customer)
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    steps: list[str] = []
    result = run_scan(role_arn, EXTERNAL_ID, Settings(), on_step=steps.append)
    assert result.account_id == "222222222222"
    assert {(f.check_id, f.region) for f in result.findings} == set(seed.DEMO_WASTE)
    assert not result.partial
    assert any("Connected to account 222222222222" in s for s in steps)
    # Never GovCloud or China, even though the local AWS lists them.
    assert not [r for r in result.regions if r.startswith(("us-gov-", "cn-"))]


def test_scan_limited_to_requested_regions(local_aws, customer):
    seed.seed_demo_waste(customer)
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    result = run_scan(role_arn, EXTERNAL_ID, Settings(), regions=["eu-west-1"])
    assert result.regions == ["eu-west-1"]
    assert {f.region for f in result.findings} == {"eu-west-1"}


def test_cost_sources_are_read_while_the_inventory_is(local_aws, customer):
    seed.seed_demo_waste(customer)
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    local_aws.set_faults(latency_ms=60)
    try:
        result = run_scan(role_arn, EXTERNAL_ID, Settings(), regions=["us-east-1", "eu-west-1", "us-west-2"])
    finally:
        local_aws.set_faults()
    sent = local_aws.requests()
    first_cost = min(r["at"] for r in sent if r["service"] in ("ce", "cost-optimization-hub"))
    last_inventory = max(r["at"] for r in sent if r["service"] in ("ec2", "rds", "lambda", "s3", "ecs"))
    assert first_cost < last_inventory  # overlapped, not one after the other
    assert {c.source for c in result.coverage} >= {"ce.spend", "ce.resources", "coh.recommendations"}
    assert result.costs.ce_requests >= 1
