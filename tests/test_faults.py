"""Faults a review must survive, each injected for real: the customer reads a sentence, nothing read
is lost, and the review can be started again.

AWS faults come from the local AWS front (``local_aws.set_faults``): expiring role sessions (moto
issues them but never refuses an expired one; the front does), 5xx bursts, an endpoint that
accepts a request and never answers, and, for a real connect timeout, a loopback socket whose
accept queue is full, named as one service's endpoint with botocore's own
``AWS_ENDPOINT_URL_<SERVICE>``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from redis import Redis
from redis.exceptions import RedisError

from finops import reviews
from finops.config import Settings
from finops.db import connect
from finops.queue import review_queue
from finops.sandbox import seed
from finops.scan import run_scan
from finops.web import create_app
from tests import inventory_seed
from tests.conftest import free_port, run_worker_burst
from tests.helpers import assume_role_calls, report_token_of
from tests.test_collectors import REGIONS, inventory_rows, run_review

EXTERNAL_ID = "fp-test-faults-external-id-01"
# finops.web.limits allows 30 scan submits per hour from one address; stay below it
SUBMITS_PER_HOUR_FROM_ONE_ADDRESS = 25


def report_json(client, settings, review_id: str) -> dict:  # type: ignore[no-untyped-def]
    token = report_token_of(settings, review_id)
    return json.loads(client.get(f"/r/{token}.json").get_data(as_text=True))



def seed_regions(customer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Inventory in each of the test regions, and the worker told to scan exactly those."""
    monkeypatch.setenv("FINOPS_REGIONS", ",".join(REGIONS))
    for region in REGIONS:
        inventory_seed.seed_region(customer, region)

def reads(report: dict) -> list[dict]:
    return [c for c in report["coverage"] if not c["source"].startswith("check:")]


# -- STS sessions that expire mid-scan ----------------------------------------------------------------
def test_the_local_aws_refuses_an_expired_role_session(local_aws, customer):
    """The premise of the next test: moto would accept it forever; the front does not."""
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    local_aws.set_faults(session_seconds=1)
    creds = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="probe-expiry",
                                            ExternalId=EXTERNAL_ID)["Credentials"]
    session = boto3.Session(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    ec2 = session.client("ec2", region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
    ec2.describe_volumes()
    time.sleep(1.2)
    with pytest.raises(ClientError) as caught:
        ec2.describe_volumes()
    assert caught.value.response["Error"]["Code"] == "ExpiredToken"


def test_a_scan_outliving_its_sts_sessions_renews_them_with_the_external_id(local_aws, customer):
    seed.seed_demo_waste(customer)
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    local_aws.clear_requests()
    # Sessions of 3 s, and calls slow enough that the scan outlives its first one by far (at 300 ms
    # a faster scan ended 3.2 s in, before botocore's refresh window of its first session).
    local_aws.set_faults(latency_ms=500, session_seconds=3)
    started = time.monotonic()
    result = run_scan(role_arn, EXTERNAL_ID, Settings(), regions=list(REGIONS) + ["us-west-2", "ap-southeast-2"])
    elapsed = time.monotonic() - started
    sent = local_aws.requests()
    scan_sessions = [r for r in assume_role_calls(local_aws) if r["params"]["RoleSessionName"] == "finops-pack-scan"]
    assert elapsed > 3 and len(scan_sessions) >= 2, (elapsed, len(scan_sessions))  # it outlived one: renewed
    assert {r["params"].get("ExternalId") for r in scan_sessions} == {EXTERNAL_ID}  # always with the External ID
    assert [r for r in sent if r.get("expired")] == []  # renewed before expiry: AWS never refused one
    assert not result.partial and {(f.check_id, f.region) for f in result.findings} == set(seed.DEMO_WASTE)
    keys = {r["access_key"] for r in sent if r["service"] == "ec2"}
    assert len(keys) >= 2  # the reads really moved to the renewed sessions' keys


def test_a_role_whose_trust_changes_mid_scan_says_so_and_the_review_can_be_retried(
    client, settings, local_aws, customer, monkeypatch
):
    seed_regions(customer, monkeypatch)
    local_aws.set_faults(latency_ms=250, session_seconds=2)
    iam = customer.session().client("iam")

    def revoke_after_the_first_session() -> None:
        deadline = time.monotonic() + 30
        # Once the scan's inventory reads have begun: revoking as soon as the first session is issued
        # can refuse a renewal the scan needs before any read (account, regions) on a loaded machine:
        # a failed review, not the renewal gap this test is about.
        while not any(r["action"] == "DescribeVolumes" and r.get("status") == 200 for r in local_aws.requests()):
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
        trust = seed.trust_policy(seed.DEFAULT_SCANNER_PRINCIPAL, "fp-someone-elses-external-id")
        iam.update_assume_role_policy(RoleName="finops-pack-readonly", PolicyDocument=json.dumps(trust))

    revoker = threading.Thread(target=revoke_after_the_first_session)
    revoker.start()
    review_id = run_review(client, settings, customer)
    revoker.join()
    data = report_json(client, settings, review_id)
    renewal = [c for c in reads(data) if "could not be assumed again" in c["detail"]]
    assert renewal and data["status"] == "partial"
    assert any("the role was removed, or its trust policy changed, during the scan" in gap for gap in data["gaps"])

    local_aws.set_faults()
    retry = run_review(client, settings, customer)  # the customer fixes the role and starts again
    assert report_json(client, settings, retry)["gaps"] == []


# -- 5xx bursts ---------------------------------------------------------------------------------------
def test_bursts_of_5xx_are_retried_counted_and_lose_nothing(client, settings, local_aws, customer, monkeypatch):
    seed_regions(customer, monkeypatch)
    local_aws.clear_requests()
    # Bursts: each service's next N requests fail (fewer than one call's attempts, as a brief outage).
    local_aws.set_faults(rules=[
        {"service": "ec2", "error": "ServiceUnavailable", "count": 6},
        {"service": "rds", "error": "InternalError", "count": 5},
        {"service": "s3", "error": "ServiceUnavailable", "count": 4},
        {"service": "ce", "error": "InternalError", "count": 2},
    ])
    review_id = run_review(client, settings, customer)
    data = report_json(client, settings, review_id)
    faulted = [r for r in local_aws.requests() if r.get("fault")]
    assert len(faulted) == 17 and {r["status"] for r in faulted} == {500, 503}
    assert data["gaps"] == [] and {c["status"] for c in reads(data)} == {"ok"}
    assert sum(c["retries"] for c in reads(data)) == len(faulted)  # every one retried and counted
    inv = inventory_rows(settings, review_id)
    for collector_id in ("ec2.instances", "ec2.volumes", "ec2.snapshots", "rds.instances", "s3.buckets"):
        assert set(inv[collector_id]) == set(REGIONS), collector_id
    assert sum(len(rows) for rows in inv["ec2.instances"].values()) == 6


def test_an_endpoint_answering_5xx_every_time_is_a_named_gap_and_a_retry_reads_it(
    client, settings, local_aws, customer, monkeypatch
):
    seed_regions(customer, monkeypatch)
    monkeypatch.setenv("FINOPS_AWS_MAX_ATTEMPTS", "3")
    local_aws.set_faults(rules=[{"service": "rds", "region": "eu-west-1", "error": "ServiceUnavailable"}])
    review_id = run_review(client, settings, customer)
    data = report_json(client, settings, review_id)
    assert "RDS DB instances in eu-west-1 could not be read: AWS answered ServiceUnavailable; retried 2 times." in (
        data["gaps"])
    assert {g.split(" could not be read")[0].rsplit(" in ", 1)[1] for g in data["gaps"]} == {"eu-west-1"}
    assert {c["source"] for c in reads(data) if c["status"] != "ok"} == {
        "rds.instances", "rds.clusters", "rds.snapshots", "rds.cluster_snapshots", "rds.reserved_instances"}
    local_aws.set_faults()
    assert report_json(client, settings, run_review(client, settings, customer))["gaps"] == []


# -- endpoints that do not answer ------------------------------------------------------------------------
def test_a_region_whose_endpoints_never_answer_is_named_and_the_review_does_not_hang(
    client, settings, local_aws, customer, monkeypatch
):
    seed_regions(customer, monkeypatch)
    monkeypatch.setenv("FINOPS_AWS_READ_TIMEOUT", "1")
    local_aws.set_faults(rules=[{"region": "eu-west-1", "hang": True}])
    started = time.monotonic()
    try:
        review_id = run_review(client, settings, customer)
    finally:
        local_aws.set_faults()  # lets the front's held requests go
    elapsed = time.monotonic() - started
    assert elapsed < 45, elapsed  # a few timeouts per endpoint, not one per call and retry
    data = report_json(client, settings, review_id)
    gaps = [c for c in reads(data) if c["status"] != "ok"]
    # Every regional read of eu-west-1, and S3's one global read (its per-bucket calls go to each
    # bucket's region), says which endpoint did not answer; nothing of us-east-1 is missing.
    assert gaps and {c["region"] for c in gaps} == {"eu-west-1", "global"}
    assert {c["source"] for c in gaps if c["region"] == "global"} == {"s3.buckets"}
    assert all("endpoint in eu-west-1 did not answer (read timeout" in c["detail"] for c in gaps
               if "needs" not in c["detail"])
    assert any(g.startswith("EC2 instances in eu-west-1 could not be read: the ec2 endpoint in eu-west-1 did "
                            "not answer") for g in data["gaps"])
    inv = inventory_rows(settings, review_id)
    assert set(inv["ec2.instances"]) == {"us-east-1"}  # the other region is all there
    assert report_json(client, settings, run_review(client, settings, customer))["gaps"] == []


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A loopback address that never accepts a connection: a listening socket whose accept queue
    (backlog 0) is already full, so every further connect waits until the client's timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    filler = socket.create_connection(server.getsockname())
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        filler.close()
        server.close()


def test_an_endpoint_refusing_to_connect_is_named_per_region_and_the_review_does_not_hang(
    client, settings, local_aws, customer, monkeypatch, blackhole
):
    seed_regions(customer, monkeypatch)
    monkeypatch.setenv("FINOPS_AWS_CONNECT_TIMEOUT", "1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_RDS", blackhole)  # botocore's per-service endpoint setting
    started = time.monotonic()
    review_id = run_review(client, settings, customer)
    assert time.monotonic() - started < 45
    data = report_json(client, settings, review_id)
    rds = [c for c in reads(data) if c["source"].startswith("rds.")]
    assert rds and all(c["status"] == "error" for c in rds)
    for region in REGIONS:
        expected = (f"RDS DB instances in {region} could not be read: the rds endpoint in {region} did not answer "
                    "(connect timeout); nothing was read from it, run the review again later")
        assert [g for g in data["gaps"] if g.startswith(expected)], data["gaps"]
    assert {c["source"].split(".")[0] for c in reads(data) if c["status"] != "ok"} == {"rds"}
    monkeypatch.delenv("AWS_ENDPOINT_URL_RDS")
    assert report_json(client, settings, run_review(client, settings, customer))["gaps"] == []


# -- Redis ---------------------------------------------------------------------------------------------
class RedisServer:
    """A redis-server of this test's own on a fixed port, so it can be stopped and started again."""

    def __init__(self, workdir: Path):
        self.workdir, self.port = workdir, free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server", path="/usr/bin:/usr/local/bin") or shutil.which("redis-server")
        assert binary, "redis-server is needed"
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                Redis.from_url(self.url).ping()
                return self
            except RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()  # as a crash or an OOM kill would: nothing saved (no persistence configured)
            self.proc.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path).start()
    monkeypatch.setenv("FINOPS_REDIS_URL", server.url)
    try:
        yield server
    finally:
        server.stop()


def test_redis_down_at_submit_says_so_keeps_nothing_half_created_and_the_submit_works_once_it_is_back(
    settings, local_aws, customer, own_redis
):
    from tests.helpers import connect_form, review_id_of, start_review

    client = create_app(replace(settings, redis_url=own_redis.url)).test_client()
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    own_redis.stop()
    response = client.post(f"/reviews/{token}/scan", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "The scan queue is unavailable right now" in page
    assert f'value="{form["role_arn"]}"' in page  # what the customer typed is still in the form
    review = reviews.get_review(connect(settings.db_path), review_id)
    assert (review["status"], review["attempt"]) == ("draft", 0)  # not queued, no attempt used up

    own_redis.start()
    assert client.post(f"/reviews/{token}/scan", data=form).status_code == 303
    run_worker_burst(replace(settings, redis_url=own_redis.url))
    assert reviews.get_review(connect(settings.db_path), review_id)["status"] == "complete"


def test_redis_restarted_mid_scan_loses_nothing_and_the_review_completes(settings, local_aws, customer, own_redis):
    """Redis crashes and comes back empty while a worker scans. SQLite is the truth: the worker
    reconnects, the running review whose jobs the empty Redis lost is resumed (its account scanned
    again), and a review queued before the crash is queued again from SQLite; both complete."""
    from tests.helpers import connect_form, review_id_of, scan_job_started, start_review

    client = create_app(replace(settings, redis_url=own_redis.url)).test_client()
    seed.seed_demo_waste(customer)
    tokens = start_review(client), start_review(client)
    for token in tokens:
        form = connect_form(client, token)
        form["role_arn"] = seed.create_scanner_role(customer, form["external_id"], name=f"r-{token[:6]}")
        assert client.post(f"/reviews/{token}/scan", data=form).status_code == 303
    scanning, waiting = (review_id_of(client, token) for token in tokens)
    local_aws.set_faults(latency_ms=300)
    worker = subprocess.Popen([sys.executable, "-m", "finops.cli", "worker", "--store"], env=os.environ.copy(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    db = connect(settings.db_path)
    try:
        deadline = time.monotonic() + 60
        while not scan_job_started(replace(settings, redis_url=own_redis.url), scanning, seed.CUSTOMER_ACCOUNT):
            assert time.monotonic() < deadline, "the worker never started the scan"
            time.sleep(0.1)
        own_redis.stop()
        time.sleep(2)
        own_redis.start()  # empty: the waiting review's job is gone
        local_aws.set_faults()
        while any(reviews.get_review(db, r)["status"] not in ("complete", "partial", "failed")
                  for r in (scanning, waiting)):
            assert time.monotonic() < deadline + 60, [reviews.get_review(db, r)["status"] for r in (scanning, waiting)]
            time.sleep(0.2)
    finally:
        local_aws.set_faults()
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        print(worker.stderr.read()[-6000:])
    for review_id in (scanning, waiting):
        review = reviews.get_review(db, review_id)
        assert review["status"] == "complete", (review["status"], review["error_message"])


# -- SQLite: busy, and a full disk ------------------------------------------------------------------------
def test_web_and_worker_writing_at_once_both_succeed(settings, local_aws, customer, monkeypatch):
    """A worker stores a large scan (one write transaction) while customers create reviews, submit
    forms and poll progress: writers queue on SQLite's busy timeout, nobody gets an error."""
    from tests.helpers import connect_form, review_id_of, start_review

    seed_regions(customer, monkeypatch)
    client = create_app(settings).test_client()
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    client.post(f"/reviews/{token}/scan", data=form)
    worker = subprocess.Popen([sys.executable, "-m", "finops.cli", "worker", "--store", "--burst"],
                              env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    statuses: list[int] = []
    submits = 0
    try:
        while worker.poll() is None:
            other = start_review(client)  # a write (insert)
            statuses.append(client.get(f"/reviews/{other}").status_code)
            statuses.append(client.get(f"/reviews/{token}/progress").status_code)
            if submits < SUBMITS_PER_HOUR_FROM_ONE_ADDRESS:  # past it, the submit limit (429) would answer
                bad = client.post(f"/reviews/{other}/scan", data=connect_form(client, other, role_arn="nope"))
                statuses.append(bad.status_code)
                submits += 1
    finally:
        log = worker.communicate(timeout=120)[1]
    assert statuses and set(statuses) <= {200, 400}  # 400: the deliberately invalid ARN, said on the form
    assert 500 not in statuses and 503 not in statuses
    db = connect(settings.db_path)
    assert reviews.get_review(db, review_id)["status"] == "complete", log[-3000:]
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    # (This test once caught the database being corrupted: a process opening and closing its own
    # descriptor of the file drops SQLite's POSIX locks; finops.db.private_database never does.)


def test_a_database_busy_past_the_timeout_keeps_the_form_and_saves_nothing_half(settings, local_aws, customer):
    from tests.helpers import connect_form, review_id_of, start_review

    client = create_app(replace(settings, db_busy_timeout=1)).test_client()
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    blocker = sqlite3.connect(settings.db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer that holds the database (a long store)
    try:
        response = client.post(f"/reviews/{token}/scan", data=form)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "FinOps Pack was busy saving other reviews and could not save this in time" in page
    assert f'value="{form["role_arn"]}"' in page and 'value="dana@example.com"' in page
    review = reviews.get_review(connect(settings.db_path), review_id)
    assert (review["status"], review["attempt"], review["role_arn"]) == ("draft", 0, None)
    assert len(review_queue(settings)) == 0  # not queued either
    assert client.post(f"/reviews/{token}/scan", data=form).status_code == 303  # once it is free


# Runs the review's jobs (what a worker does: claim, scan, store, finish) in a process that cannot
# grow any file past a limit: RLIMIT_FSIZE, inherited by its work-horses and no one else. Python
# ignores SIGXFSZ, so a write past the limit is short (SQLite: "database or disk is full") or fails
# with EFBIG ("disk I/O error").
_FSIZE_JOB = """
import resource, sys
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
from rq import Worker
from finops.config import Settings
from finops.queue import SERIALIZER, redis_connection, worker_queue_names
settings = Settings.from_env()
Worker(worker_queue_names(settings), connection=redis_connection(settings), serializer=SERIALIZER).work(
    burst=True, with_scheduler=False)
"""


def test_a_full_disk_fails_the_review_with_a_sentence_and_leaves_a_sound_database(
    client, settings, local_aws, customer, monkeypatch
):
    """A disk cannot be filled without privileges here; a file-size limit (RLIMIT_FSIZE) on the
    process that stores the review refuses its writes the same way. The store is one transaction:
    it is rolled back whole, the review fails with the disk-full sentence, the database passes
    SQLite's integrity check, and once there is room the review is scanned again."""
    from tests.helpers import connect_form, review_id_of, start_review

    monkeypatch.setenv("FINOPS_REGIONS", "us-east-1")
    monkeypatch.setenv("FINOPS_HEARTBEAT_TIMEOUT", "300")
    ec2 = customer.session("us-east-1").client("ec2")
    for number in range(600):  # enough inventory and findings that storing them needs > 1 MiB
        tags = [{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": f"v{number}"}]}]
        ec2.create_volume(AvailabilityZone="us-east-1a", Size=10 + number, VolumeType="gp2", TagSpecifications=tags)
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    client.post(f"/reviews/{token}/scan", data=form)  # its jobs run below, in the limited process
    db_path = Path(settings.db_path)
    sizes = [p.stat().st_size for p in (db_path, db_path.with_name(db_path.name + "-wal")) if p.exists()]
    limit = max(sizes) + 1024 * 1024  # room for the scan's progress lines, not for its result
    done = subprocess.run([sys.executable, "-c", _FSIZE_JOB, str(limit)], env=os.environ.copy(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count("state=store-retry code=storage_full") == 5, done.stderr[-5000:]  # tried 6 times

    db = connect(settings.db_path)
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    review = reviews.get_review(db, review_id)
    assert review["status"] == "failed" and review["error_code"] == "storage_full"
    assert db.execute("select count(*) from inventory where review_id = ?", [review_id]).fetchone()[0] == 0
    page = client.get(f"/reviews/{token}").get_data(as_text=True)
    assert "could not save this review because its server&#39;s disk is full" in page and 'id="start-scan"' in page

    assert client.post(f"/reviews/{token}/scan", data=form).status_code == 303  # room again: retry
    run_worker_burst(settings)
    assert reviews.get_review(db, review_id)["status"] == "complete"
