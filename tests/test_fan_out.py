"""Per-resource calls fanned out inside one read still count into that read's coverage."""

from __future__ import annotations

from dataclasses import replace

from finops.config import Settings
from finops.sandbox import seed
from finops.scan import run_scan

EXTERNAL_ID = "fp-fan-out-test-id"


def _scan(customer, concurrency: int):  # type: ignore[no-untyped-def]
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    settings = replace(Settings(), scan_concurrency=concurrency, regions=("us-east-1", "eu-west-1"))
    return run_scan(role_arn, EXTERNAL_ID, settings)


def test_bucket_reads_in_parallel_are_all_counted(local_aws, customer):
    s3 = customer.session().client("s3")
    for i in range(12):
        s3.create_bucket(Bucket=f"fan-out-bucket-{i:02d}")
    local_aws.clear_requests()
    result = _scan(customer, concurrency=8)
    sent = [r for r in local_aws.requests() if r["service"] == "s3"]
    (coverage,) = [c for c in result.coverage if c.source == "s3.buckets"]
    assert coverage.status == "ok"
    assert coverage.api_calls == len(sent) >= 1 + 12 * 3  # list + per-bucket reads, none lost
    assert sorted(i.resource_id for i in result.inventory if i.collector == "s3.buckets") == [
        f"fan-out-bucket-{i:02d}" for i in range(12)
    ]


def test_one_worker_reads_the_same_as_many(local_aws, customer):
    s3 = customer.session().client("s3")
    for i in range(5):
        s3.create_bucket(Bucket=f"same-bucket-{i}")
    many = _scan(customer, concurrency=8)
    one = _scan(customer, concurrency=1)
    key = lambda r: sorted((i.uid, sorted(i.data)) for i in r.inventory if i.collector == "s3.buckets")  # noqa: E731
    assert key(many) == key(one)
    calls = lambda r: {c.source: c.api_calls for c in r.coverage if c.source == "s3.buckets"}  # noqa: E731
    assert calls(many) == calls(one)
