"""The benchmark's replay server: a scan recorded once replays to the same result without moto."""

from __future__ import annotations

import boto3
import pytest

from finops.config import Settings
from finops.sandbox import seed
from finops.sandbox.replay import ReplayServer, request_key
from finops.scan import run_scan

EXTERNAL_ID = "fp-test-external-id-0001"
REGIONS = ["eu-west-1", "us-east-1"]  # two regions keep the test fast; both hold seeded waste


def _summary(result):  # type: ignore[no-untyped-def]
    findings = sorted((f.check_id, f.region, f.resource_id, f.monthly_savings) for f in result.findings)
    inventory = sorted((i.resource_type, i.region, i.resource_id) for i in result.inventory)
    coverage = sorted((c.source, c.region, c.status, c.api_calls) for c in result.coverage)
    return findings, inventory, coverage


@pytest.fixture
def replay(local_aws):  # type: ignore[no-untyped-def]
    server = ReplayServer(upstream=local_aws.url).start()
    yield server
    server.stop()


def test_a_recorded_scan_replays_to_the_same_findings_without_the_local_aws(
    local_aws, customer, replay, monkeypatch
):
    seed.seed_demo_waste(customer)
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    monkeypatch.setenv("AWS_ENDPOINT_URL", replay.url)  # only the scan goes through the replay server
    recorded = run_scan(role_arn, EXTERNAL_ID, Settings(), regions=REGIONS)
    assert {(f.check_id, f.region) for f in recorded.findings} == {k for k in seed.DEMO_WASTE if k[1] in REGIONS}
    assert replay.stats.recorded == replay.stats.requests > 0

    local_aws.reset()  # moto forgets the account: a replay that still forwarded would find nothing
    replay.replay()
    replay.reset_stats()
    replayed = run_scan(role_arn, EXTERNAL_ID, Settings(), regions=REGIONS)

    assert _summary(replayed) == _summary(recorded)
    assert replay.stats.misses == 0, replay.stats.missed_keys
    assert replay.stats.replayed == replay.stats.requests > 0
    assert local_aws.requests() == []  # nothing reached the local AWS


def test_a_request_that_was_never_recorded_is_an_error_not_a_forward(local_aws, replay, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", replay.url)
    ec2 = boto3.client("ec2", region_name="eu-west-1")
    ec2.describe_volumes()
    replay.replay()
    ec2.describe_volumes()  # the same request: answered from memory
    with pytest.raises(ec2.exceptions.ClientError) as caught:
        boto3.client("ec2", region_name="eu-west-2").describe_volumes()  # another region: not recorded
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 599
    assert replay.stats.misses == 1
    assert len(local_aws.requests()) == 1


def test_request_keys_ignore_credentials_clock_and_the_probes_random_external_id():
    def key(access_key: str, body: str) -> str:
        headers = {
            "authorization": f"AWS4-HMAC-SHA256 Credential={access_key}/20261128/us-east-1/sts/aws4_request, "
                             "SignedHeaders=host, Signature=abc",
            "content-type": "application/x-www-form-urlencoded",
        }
        return request_key("POST", "/", headers, body.encode())[0]

    probe = "Action=AssumeRole&RoleArn=arn&RoleSessionName=p&ExternalId="
    assert key("AKIA1", probe + "fp-wrong-0123") == key("ASIA2", probe + "fp-wrong-4567")
    assert key("AKIA1", probe + "fp-right-0001") != key("AKIA1", probe + "fp-right-0002")
    window = "Action=GetMetricStatistics&StartTime=2026-11-01T00:00:00Z&EndTime="
    assert key("A", window + "2026-11-28T06:00:00Z") == key("A", window + "2026-11-29T07:00:00Z")


def test_a_throttled_replay_reads_everything_and_counts_every_throttle_as_a_retry(
    local_aws, customer, replay, monkeypatch
):
    """What bench/run.py's throttled runs rely on: 30 % of answers are AWS's throttling error in the
    request's protocol, botocore retries them, and the scan's result does not change."""
    seed.seed_demo_waste(customer)
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    monkeypatch.setenv("AWS_ENDPOINT_URL", replay.url)
    recorded = run_scan(role_arn, EXTERNAL_ID, Settings(), regions=REGIONS)
    replay.replay(throttle_rate=0.3, seed=3)
    replay.reset_stats()
    throttled = run_scan(role_arn, EXTERNAL_ID, Settings(), regions=REGIONS)
    summary = lambda result: _summary(result)[:2]  # noqa: E731 - findings and inventory (coverage has retries)
    assert summary(throttled) == summary(recorded)
    assert {c.status for c in throttled.coverage if not c.source.startswith("check:")} == {"ok"}
    stats = replay.stats.as_dict()
    assert stats["throttled"] >= 10 and stats["misses"] == 0
    reads = stats["throttled"] - stats["throttled_by_action"].get("sts:AssumeRole", 0)
    assert sum(c.retries for c in throttled.coverage) == reads
    assert len({label.split(":")[0] for label in stats["throttled_by_action"]}) >= 4  # every protocol's shape
