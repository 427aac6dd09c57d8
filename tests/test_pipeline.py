"""The review pipeline of issue 11: stateless scan workers, one job per account, a store worker.

Scan workers here are real ``finops-pack worker`` processes started in their own empty working
directories with a FINOPS_DB_PATH that points into a directory that does not exist: a scan worker
that opened SQLite would create it (or fail). Only ``finops-pack worker --store --no-scan`` has
the database. The AWS is the local one, with the organization of ``finops.sandbox.organization``:
its member roles are created account by account from the same template (``seed_organization``);
``tests/test_organization.py`` deploys them through the StackSet commands instead.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from rq.job import Job

from finops import reviews, wire
from finops.db import connect
from finops.lifecycle import stop_all
from finops.models import ScanResult
from finops.queue import SERIALIZER, redis_connection, scan_queue
from finops.sandbox import seed
from finops.sandbox.organization import ROLE_NONE, ROLE_WRONG_EXTERNAL_ID, SUSPENDED, seed_organization
from finops.scan import run_scan
from tests.helpers import connect_form, reaped_children_faults, review_id_of, start_review

FINISHED = ("complete", "partial", "failed")


def _env(tmp_path: Path, name: str, database: bool) -> tuple[dict[str, str], Path]:
    env = {**os.environ, "FINOPS_REGIONS": "us-east-1", "PYTHONPATH": str(Path(__file__).parents[1])}
    home = tmp_path / name
    home.mkdir()
    if not database:
        env["FINOPS_DB_PATH"] = str(tmp_path / f"{name}-has-no-database" / "finops.db")  # the directory does not exist
        env.pop("FINOPS_SECRET_KEY", None)
    return env, home


def _worker(tmp_path: Path, name: str, *args: str, database: bool = False) -> subprocess.Popen:
    env, home = _env(tmp_path, name, database)
    return subprocess.Popen([sys.executable, "-m", "finops.cli", "worker", *args], cwd=home, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"{name}.log", "w"))  # noqa: SIM115


def _submit_organization_review(client, customer, settings) -> str:
    token = start_review(client)
    review_id = review_id_of(client, token)
    connect(settings.db_path).execute("update reviews set scope = 'organization' where id = ?", [review_id])
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    org = seed_organization(customer, form["external_id"])
    assert client.post(f"/reviews/{token}/scan", data=form).status_code == 303
    return review_id, {m.role: m.account_id for m in org.members}, token


def _submit_single_account_review(client, customer) -> str:  # type: ignore[no-untyped-def]
    """A review of one account, submitted through the wizard as the customer would: its id."""
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    assert client.post(f"/reviews/{token}/scan", data=form).status_code == 303
    return review_id


def _wait_for_the_scan(settings, review_id: str) -> None:  # type: ignore[no-untyped-def]
    """Until a worker runs the scan job of the review's (one) account."""
    from tests.helpers import scan_job_started

    deadline = time.monotonic() + 60
    while not scan_job_started(settings, review_id, seed.CUSTOMER_ACCOUNT):
        assert time.monotonic() < deadline, "the scan never started"
        time.sleep(0.05)


def _wait(db, review_id: str, timeout: float, logs: Path) -> dict:
    deadline = time.monotonic() + timeout
    while (review := reviews.get_review(db, review_id))["status"] not in FINISHED:
        if time.monotonic() > deadline:
            tails = {p.name: p.read_text()[-3000:] for p in logs.glob("*.log")}
            raise AssertionError(f"review still {review['status']} after {timeout} s: {tails}")
        time.sleep(0.2)
    return review


def _scan_jobs(settings, review_id: str, attempt: int = 1) -> dict[str, Job]:
    connection = redis_connection(settings)
    queue = scan_queue(settings, connection)
    ids = [jid for jid in connection.scan_iter(f"rq:job:scan-{review_id}-{attempt}-*")]
    jobs = [Job.fetch(jid.decode().removeprefix("rq:job:"), connection=connection, serializer=SERIALIZER)
            for jid in ids]
    assert queue.name == settings.queue_name
    return {job.args[0]["account_id"]: job for job in jobs}


def test_a_scan_result_travels_through_redis_and_is_stored_exactly_as_without_the_trip(settings, local_aws, customer):
    seed.seed_demo_waste(customer)
    external_id = "fp-wire-external-id"
    result = run_scan(seed.create_scanner_role(customer, external_id), external_id,
                      replace(settings, regions=("us-east-1", "eu-west-1")))
    assert result.findings and result.inventory
    data = wire.dump(result)
    travelled = wire.load(ScanResult, data)
    assert len(data) < len(wire.json.dumps(wire.encode(result)).encode()) / 3  # compressed
    # Typed fields come back as they were (money a Decimal, never a float; tuples tuples)...
    assert [f.monthly_savings for f in travelled.findings] == [f.monthly_savings for f in result.findings]
    assert all(isinstance(f.monthly_savings, Decimal | None) for f in travelled.findings)
    assert travelled.coverage == result.coverage and travelled.inventory == result.inventory
    assert [f.price_lines for f in travelled.findings] == [f.price_lines for f in result.findings]
    db = connect(settings.db_path)
    stored = {}
    for name, each in (("direct", result), ("travelled", travelled)):
        review = reviews.create_review(db, settings.with_secret_key())
        db.execute("update reviews set status = 'running', role_arn = ? where id = ?",
                   [f"arn:aws:iam::{result.account_id}:role/x", review["id"]])
        reviews.store_result(db, review["id"], each)
        stored[name] = {
            table: sorted(tuple(v for k, v in row.items() if k != "review_id")
                          for row in db.query(f"select * from {table} where review_id = ?", [review["id"]]))  # noqa: S608
            for table in ("findings", "inventory", "coverage", "cost_recommendations", "spend_monthly",
                          "check_runs", "review_accounts")
        }
        assert len(stored[name]["review_accounts"]) == 1  # one account row
    stored["direct"]["review_accounts"] = [r[:-1] for r in stored["direct"]["review_accounts"]]  # finished_at
    stored["travelled"]["review_accounts"] = [r[:-1] for r in stored["travelled"]["review_accounts"]]
    assert stored["direct"] == stored["travelled"]
    assert stored["direct"]["findings"]


def test_two_scan_workers_without_the_database_complete_an_organization_review(
        settings, local_aws, customer, tmp_path):
    from finops.web import create_app

    client = create_app(settings).test_client()
    review_id, org, token = _submit_organization_review(client, customer, settings)
    local_aws.set_faults(latency_ms=20)  # accounts overlap: both scan workers get some
    scanners = [_worker(tmp_path, f"scan-{n}") for n in (1, 2)]
    store = _worker(tmp_path, "store", "--store", "--no-scan", database=True)
    try:
        review = _wait(connect(settings.db_path), review_id, 240, tmp_path)
    finally:
        local_aws.set_faults()
        stop_all([*scanners, store])
    assert review["status"] == "partial", (review["status"], review["error_message"])
    for n in (1, 2):  # neither scan worker opened (or created) a database
        assert not (tmp_path / f"scan-{n}-has-no-database").exists()
        assert list((tmp_path / f"scan-{n}").iterdir()) == []
    jobs = _scan_jobs(settings, review_id)
    accounts = {row["account_id"]: row for row in reviews.account_rows(connect(settings.db_path), review_id)}
    scanned = {a for a, row in accounts.items() if row["status"] != "skipped"}
    assert set(jobs) == scanned  # one scan job per account, none for the suspended one
    by_worker = {job.worker_name for job in jobs.values()}
    assert len(by_worker) == 2, by_worker  # both scan workers took accounts; the store worker took none
    # Members are queued once the management account has listed them, by its scan while it still
    # reads, not after its whole scan; they wait for its cost data only for their checks. (Whether
    # one also starts before that scan ends depends on how long its cost reads take: at 20 ms a
    # call, sometimes not.)
    management = jobs[seed.CUSTOMER_ACCOUNT]
    assert management.args[0]["kind"] == "management"
    assert max(j.enqueued_at for a, j in jobs.items() if a != seed.CUSTOMER_ACCOUNT) < management.ended_at
    assert accounts[org[ROLE_WRONG_EXTERNAL_ID]]["status"] == "failed"
    assert accounts[org[ROLE_NONE]]["status"] == "failed"
    assert accounts[org[SUSPENDED]]["status"] == "skipped"
    for kind in (ROLE_WRONG_EXTERNAL_ID, ROLE_NONE):
        assert "refused to let the scanner assume" in accounts[org[kind]]["reason"]
    read = [row for row in accounts.values() if row["status"] in ("complete", "partial")]
    assert len(read) == 4  # the management account and three readable members
    db = connect(settings.db_path)
    for row in read:  # each account's findings are stored under that account, and counted in its row
        n = db.execute("select count(*) from findings where review_id = ? and account_id = ? and kind = 'usage'",
                       [review_id, row["account_id"]]).fetchone()[0]
        assert n == row["findings"] and (n > 0 or row["management"]), row  # each member has seeded waste
    steps = [s["message"] for s in reviews.steps(db, review_id)]
    assert any(s.startswith("[management] ") for s in steps) and steps[-1].startswith("Report ready")
    assert any("2 account(s) could not be read" in s for s in steps), steps[-3:]
    connection = redis_connection(settings)
    assert not list(connection.scan_iter(f"finops:review:{review_id}:*"))  # nothing left behind in Redis
    page = client.get(f"/reviews/{token}/progress").get_data(as_text=True)
    assert "Accounts:\n    <strong>4</strong> read · <strong>2</strong> could not be read · <strong>1</strong> " \
           "not scanned (not active)\n    of 7." in page, page


def test_killing_a_scan_worker_mid_account_runs_that_account_again_and_the_review_completes(
        settings, local_aws, customer, tmp_path):
    from finops.web import create_app

    client = create_app(settings).test_client()
    review_id, _org, _token = _submit_organization_review(client, customer, settings)
    store = _worker(tmp_path, "store", "--store", "--no-scan", database=True)
    first = _worker(tmp_path, "scan-1")
    second = None
    db = connect(settings.db_path)
    try:
        deadline = time.monotonic() + 120
        killed = None
        slowed_at = None
        while killed is None:  # the first member scan begun once one is done: kill its worker in the middle of it
            assert time.monotonic() < deadline, "no member scan started"
            done = {r["account_id"] for r in reviews.account_rows(db, review_id)
                    if not r["management"] and r["status"] not in ("scanning", "skipped")}
            if done and slowed_at is None:
                # From here every call takes 400 ms: a scan begun after this (two probes, the
                # AssumeRole, who-am-I and the regions, one after the other) is still reading 1.5 s later.
                local_aws.set_faults(latency_ms=400)
                slowed_at = datetime.now(UTC)
            for account, job in _scan_jobs(settings, review_id).items():
                begun = job.started_at and job.started_at.replace(tzinfo=job.started_at.tzinfo or UTC)
                if (slowed_at and job.get_status() == "started" and job.args[0]["kind"] == "member"
                        and begun and begun > slowed_at):
                    time.sleep(1.5)
                    killed = account
                    first.send_signal(signal.SIGKILL)
                    first.wait(timeout=10)
                    break
            time.sleep(0.05)
        local_aws.set_faults()
        second = _worker(tmp_path, "scan-2")
        review = _wait(db, review_id, 180, tmp_path)
    finally:
        local_aws.set_faults()
        stop_all([p for p in (first, second, store) if p is not None])
    assert review["status"] == "partial", (review["status"], review["error_message"])
    rows = {r["account_id"]: r for r in reviews.account_rows(db, review_id)}
    assert rows[killed]["status"] == "complete" and rows[killed]["attempts"] == 2, rows[killed]
    others = [r for a, r in rows.items() if a != killed and r["status"] != "skipped"]
    assert others and all(r["attempts"] == 1 for r in others), [(r["account_id"], r["attempts"]) for r in others]
    jobs = _scan_jobs(settings, review_id)
    assert jobs[killed].worker_name != "" and {j.get_status() for j in jobs.values()} == {"finished"}


@pytest.mark.parametrize("scope", ["account"])
def test_a_single_account_review_is_one_scan_job_and_the_store_worker_writes_it(
        settings, local_aws, customer, tmp_path, scope):
    from finops.web import create_app

    client = create_app(settings).test_client()
    seed.seed_demo_waste(customer)
    review_id = _submit_single_account_review(client, customer)
    scanner = _worker(tmp_path, "scan-1")
    store = _worker(tmp_path, "store", "--store", "--no-scan", database=True)
    try:
        review = _wait(connect(settings.db_path), review_id, 120, tmp_path)
        forked = {name: reaped_children_faults(proc.pid) for name, proc in (("scan", scanner), ("store", store))}
    finally:
        stop_all([scanner, store])
    # Neither the scan worker nor the worker that takes no scan forked a work-horse for its jobs
    # (the claim, the scan, the progress, the store, the finish): each ran them in its own process.
    assert forked == {"scan": 0, "store": 0}, forked
    assert review["status"] == "complete" and review["scope"] == scope
    jobs = _scan_jobs(settings, review_id)
    assert list(jobs) == [seed.CUSTOMER_ACCOUNT] and jobs[seed.CUSTOMER_ACCOUNT].args[0]["kind"] == "single"
    rows = reviews.account_rows(connect(settings.db_path), review_id)
    assert [(r["account_id"], r["management"], r["status"]) for r in rows] == [(seed.CUSTOMER_ACCOUNT, 1, "complete")]
    assert not (tmp_path / "scan-1-has-no-database").exists()


def test_a_scan_worker_scans_in_its_own_process_and_a_stop_mid_scan_hands_the_account_to_another(
        settings, local_aws, customer, tmp_path, monkeypatch):
    """A scan worker runs its scan jobs itself, with no work-horse, and renews the job's lease while
    it reads. SIGTERM mid-scan: after FINOPS_SHUTDOWN_GRACE the worker fails the job through RQ and
    exits 0; RQ queues the account again (FINOPS_SCAN_RETRIES) and another scan worker completes the
    review, the account's row saying two attempts."""
    from finops.web import create_app
    from tests.helpers import descendants

    client = create_app(settings).test_client()
    review_id = _submit_single_account_review(client, customer)
    local_aws.set_faults(latency_ms=400)  # about 4 s of reads: the stop lands mid-scan
    monkeypatch.setenv("FINOPS_SHUTDOWN_GRACE", "1")
    store = _worker(tmp_path, "store", "--store", "--no-scan", database=True)
    first = _worker(tmp_path, "scan-1")
    second = None
    db = connect(settings.db_path)
    try:
        _wait_for_the_scan(settings, review_id)
        time.sleep(0.5)
        assert descendants(first.pid) == []  # no work-horse: the scan runs in the worker's process
        job = _scan_jobs(settings, review_id)[seed.CUSTOMER_ACCOUNT]
        assert job.get_status() == "started" and job.worker_name
        stopped = time.monotonic()
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=15) == 0
        assert time.monotonic() - stopped < 1 + 5, "the grace is 1 s"
        assert job.get_status() == "queued"  # failed through RQ, which runs it again
        assert reviews.get_review(db, review_id)["status"] == "running"
        local_aws.set_faults()
        second = _worker(tmp_path, "scan-2")
        review = _wait(db, review_id, 90, tmp_path)
    finally:
        local_aws.set_faults()
        stop_all([p for p in (first, second, store) if p is not None])
    assert review["status"] == "complete", (review["status"], review["error_message"])
    (row,) = reviews.account_rows(db, review_id)
    assert row["status"] == "complete" and row["attempts"] == 2, dict(row)
    assert "worker-stopping" in (tmp_path / "scan-1.log").read_text()


def test_a_scan_worker_stopped_mid_scan_finishes_the_account_within_its_grace_and_exits(
        settings, local_aws, customer, tmp_path, monkeypatch):
    """SIGTERM while a scan worker scans, with a grace longer than the scan: the worker takes no
    new job, finishes the account (one attempt), and its process ends with 0, instead of starting
    again as a fresh worker because the grace's timer was still pending when the scan ended."""
    from finops.web import create_app

    client = create_app(settings).test_client()
    review_id = _submit_single_account_review(client, customer)
    local_aws.set_faults(latency_ms=300)  # a few seconds of reads: the stop lands mid-scan
    monkeypatch.setenv("FINOPS_SHUTDOWN_GRACE", "60")
    store = _worker(tmp_path, "store", "--store", "--no-scan", database=True)
    scanner = _worker(tmp_path, "scan-1")
    db = connect(settings.db_path)
    try:
        _wait_for_the_scan(settings, review_id)
        time.sleep(0.3)
        scanner.send_signal(signal.SIGTERM)
        assert scanner.wait(timeout=45) == 0, "the scan worker did not stop after its scan"
        job = _scan_jobs(settings, review_id)[seed.CUSTOMER_ACCOUNT]
        assert job.get_status() == "finished"  # the account was read within the grace, not cut short
        local_aws.set_faults()
        review = _wait(db, review_id, 60, tmp_path)
    finally:
        local_aws.set_faults()
        stop_all([scanner, store])
    assert review["status"] == "complete", (review["status"], review["error_message"])
    (row,) = reviews.account_rows(db, review_id)
    assert row["status"] == "complete" and row["attempts"] == 1, dict(row)
    log_text = (tmp_path / "scan-1.log").read_text()
    assert "action=restart" not in log_text and "interrupted" not in log_text, log_text[-2000:]


def test_a_worker_that_takes_no_scan_stopped_mid_test_connection_answers_the_page_and_exits(
        settings, local_aws, customer, tmp_path, monkeypatch):
    """The worker that takes no scan runs a Test connection in its own process. SIGTERM while AWS
    is slow to answer it: after FINOPS_SHUTDOWN_GRACE the worker stops the job (RQ records it
    stopped), the page gets the sentence "did not finish... try again" at once instead of a spinner
    until it gives up, and the worker exits 0."""
    from finops import connection_checks
    from finops.queue import quick_queue
    from finops.web import create_app
    from tests.helpers import csrf

    client = create_app(settings).test_client()
    token = start_review(client)
    wizard = client.get(f"/reviews/{token}").get_data(as_text=True)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    data = {"csrf_token": csrf(wizard), "role_arn": form["role_arn"], "external_id": form["external_id"]}
    local_aws.set_faults(latency_ms=1500)  # three AssumeRole calls and who-am-I: 6 s
    monkeypatch.setenv("FINOPS_SHUTDOWN_GRACE", "1")
    assert client.post(f"/reviews/{token}/test-connection", data=data,
                       headers={"HX-Request": "true"}).status_code == 200
    db = connect(settings.db_path)
    (check,) = db.query("select id from connection_checks")
    store = _worker(tmp_path, "store", "--store", "--no-scan", database=True)
    try:
        job = Job.fetch(f"connection-{check['id']}", connection=redis_connection(settings), serializer=SERIALIZER)
        deadline = time.monotonic() + 60
        while job.get_status() != "started":
            assert time.monotonic() < deadline, "the Test connection never started"
            time.sleep(0.05)
        time.sleep(0.3)
        stopped = time.monotonic()
        store.send_signal(signal.SIGTERM)
        assert store.wait(timeout=15) == 0
        assert time.monotonic() - stopped < 1 + 4, "the grace is 1 s"
    finally:
        local_aws.set_faults()
        stop_all([store])
    assert job.get_status() == "stopped"
    (row,) = db.query("select status, code, message from connection_checks where id = ?", [check["id"]])
    assert (row["status"], row["code"], row["message"]) == ("done", "did_not_finish", connection_checks.DID_NOT_FINISH)
    assert "reason=worker-stopping" in (tmp_path / "store.log").read_text()
    assert quick_queue(settings).count == 0


def test_a_job_that_needs_the_database_in_the_scan_queue_goes_to_the_store_queue_once(settings, tmp_path):
    """A store-side job found in the scan queue (an older version's, a misrouted one): the scan worker,
    which has no database, hands it to the store workers' queue, once, and leaves no trace of having
    taken it (RQ's list of taken jobs, whose clean-up would fail it a minute later); before, it put
    the job back in its own queue and took it again, forever."""
    from finops.queue import PROGRESS_JOB, review_queue

    connection = redis_connection(settings)
    scans = scan_queue(settings, connection)
    job = scans.enqueue(PROGRESS_JOB, "r-misrouted", 1, job_id="progress-r-misrouted-1-x")
    scanner = _worker(tmp_path, "scan-1", "--burst")
    assert scanner.wait(timeout=60) == 0, (tmp_path / "scan-1.log").read_text()
    assert job.id in review_queue(settings, connection).get_job_ids()
    assert scans.get_job_ids() == [] and scans.intermediate_queue.get_job_ids() == []
    assert job.get_status(refresh=True) == "queued"
    assert "state=handed-to-store-queue" in (tmp_path / "scan-1.log").read_text()


def test_results_wait_in_redis_for_a_store_worker_that_starts_later(settings, local_aws, customer, tmp_path):
    """No store worker runs while the scan workers work: every account's result waits in Redis
    (compressed), the review stays running; a store worker started afterwards stores them all and
    the review completes, each result deleted from Redis once stored."""
    from finops import pipeline
    from finops.web import create_app

    client = create_app(settings).test_client()
    review_id, _org, _token = _submit_organization_review(client, customer, settings)
    connection = redis_connection(settings)
    store = _worker(tmp_path, "store-1", "--store", "--no-scan", "--burst", database=True)
    assert store.wait(timeout=60) == 0  # claims the review and queues the management account, then exits
    scanner = _worker(tmp_path, "scan-1", "--burst")
    # Every account: the management account's scan queues its members itself, once it has listed them.
    assert scanner.wait(timeout=180) == 0
    db = connect(settings.db_path)
    assert reviews.get_review(db, review_id)["status"] == "running"
    waiting = pipeline.get(connection, pipeline.result_key(review_id, 1, seed.CUSTOMER_ACCOUNT))
    assert waiting is not None and wire.load(dict, waiting)["outcome"]["read"] is True
    waiting = [key for key in connection.scan_iter(f"finops:review:{review_id}:1:result:*")]
    assert len(waiting) == 6  # the management account, three readable members and the two refusals
    assert reviews.account_rows(db, review_id) == []  # nothing in SQLite yet
    store = _worker(tmp_path, "store-2", "--store", "--no-scan", "--burst", database=True)
    assert store.wait(timeout=60) == 0
    review = reviews.get_review(db, review_id)
    assert review["status"] == "partial", (review["status"], review["error_message"])
    assert len(reviews.account_rows(db, review_id)) == 7
    assert not list(connection.scan_iter(f"finops:review:{review_id}:*"))


def test_when_the_management_account_is_lost_after_listing_its_members_they_stop_and_the_review_fails(
        settings, local_aws, customer, tmp_path, monkeypatch):
    """The management account's scan queues its members as soon as it has listed them, then its
    scan worker dies (no retry here). Another scan worker takes the first member, which reads its
    inventory while it waits for the cost data; when the lost scan's lease runs out, that member
    has it failed (RQ's maintenance, which a busy worker cannot run) and stops with a sentence, the
    management account's store job leaves the failure in Redis, so every later member stops before
    calling AWS, and the review fails with the management account's sentence, instead of scanning
    members whose checks could never get the cost data."""
    from finops.errors import ManagementUnavailable, WorkerLost
    from finops.web import create_app
    from tests.helpers import process_table

    client = create_app(settings).test_client()
    review_id, org, token = _submit_organization_review(client, customer, settings)
    local_aws.set_faults(latency_ms=300)  # Cost Explorer's requests, one after the other, outlast the listing
    monkeypatch.setenv("FINOPS_SCAN_RETRIES", "0")  # the workers' environment: no second run of the scan
    store = _worker(tmp_path, "store", "--store", "--no-scan", database=True)
    scanner = _worker(tmp_path, "scan-1")
    second = None
    db = connect(settings.db_path)
    try:
        deadline = time.monotonic() + 90
        while len(reviews.account_rows(db, review_id)) < 2:  # the members' rows: the management scan queued them
            assert time.monotonic() < deadline, "the members were never queued"
            time.sleep(0.05)
        management = _scan_jobs(settings, review_id)[seed.CUSTOMER_ACCOUNT]
        assert management.get_status() == "started"  # still reading: the members were queued mid-scan
        # Every account is counted from the moment they are listed, the management account too (then 5
        # active members waiting for its cost data, and a suspended one), in the progress the customer sees.
        assert reviews.account_counts(db, review_id) == {"read": 0, "scanning": 6, "failed": 0, "skipped": 1}
        progress = client.get(f"/reviews/{token}/progress").get_data(as_text=True)
        assert "<strong>6</strong> being scanned or waiting for a scanner" in progress and "of 7." in progress
        assert not [p for p in process_table().values() if p.ppid == scanner.pid]  # the scan runs in the worker
        scanner.send_signal(signal.SIGKILL)
        scanner.wait(timeout=10)
        local_aws.set_faults()
        second = _worker(tmp_path, "scan-2")
        review = _wait(db, review_id, 90, tmp_path)  # the lease runs out after 20 s
    finally:
        local_aws.set_faults()
        stop_all([p for p in (scanner, second, store) if p is not None])
    assert review["status"] == "failed" and review["error_message"] == WorkerLost.customer_message, review
    rows = {r["account_id"]: r for r in reviews.account_rows(db, review_id)}
    members = [r for a, r in rows.items() if not r["management"] and r["status"] != "skipped"]
    assert len(members) == 5
    for row in members:  # none was checked: each says why
        assert row["status"] == "failed" and row["error_code"] == ManagementUnavailable.code, row
        assert ManagementUnavailable.customer_message in row["reason"], row
    # (its worker may die while the management scan queues the members: one never queued has no time)
    waited = [row for row in members if (row["scan_seconds"] or 0) >= 0.5]
    assert len(waited) == 1, [(r["account_id"], r["scan_seconds"]) for r in members]  # the others called no AWS
    assert rows[org[ROLE_NONE]]["reason"].startswith(f"Account {org[ROLE_NONE]}")
    assert not list(redis_connection(settings).scan_iter(f"finops:review:{review_id}:*"))


def test_a_management_scan_lost_while_it_queued_its_members_leaves_every_member_named(
        settings, local_aws, customer, tmp_path):
    """The management account's scan worker died while it queued the members: the accounts job,
    two members' scans and stores and a third member's scan are queued; that member's store, the
    other members and the finish are not (the state is built here with the queue's own functions).
    Run again, its scan is refused (its trust now names another External ID). Its store queues the
    rest as the scan would have: the review fails with the management account's sentence, every
    member says it was not checked because the management account's scan did not complete (none
    that its result "could not be stored"), and no member's result is left in Redis."""
    from finops import iam_policy
    from finops.errors import ManagementUnavailable
    from finops.organization import ACTIVE, OrgAccount
    from finops.queue import enqueue_members, finish_job_id, review_queue, store_job_id
    from finops.web import create_app

    client = create_app(settings).test_client()
    review_id, _org, _token = _submit_organization_review(client, customer, settings)
    store = _worker(tmp_path, "store-1", "--store", "--no-scan", "--burst", database=True)
    assert store.wait(timeout=60) == 0  # claims the review and queues the management account's scan
    connection = redis_connection(settings)
    management = _scan_jobs(settings, review_id)[seed.CUSTOMER_ACCOUNT]
    listed = [OrgAccount(a["Id"], a["Name"], a["Status"]) for page in customer.session().client(
        "organizations").get_paginator("list_accounts").paginate() for a in page["Accounts"]]
    members = [a for a in listed if a.account_id != seed.CUSTOMER_ACCOUNT and a.state == ACTIVE]
    assert len(members) == 5
    enqueue_members(settings, management.args[0], "o-lost", listed, connection)
    stores, scans = review_queue(settings, connection), scan_queue(settings, connection)
    stores.fetch_job(store_job_id(review_id, 1, members[2].account_id)).delete()  # died between scan and store
    for account in members[3:]:  # never queued: the worker died first
        scans.fetch_job(f"scan-{review_id}-1-{account.account_id}").delete()
        stores.fetch_job(store_job_id(review_id, 1, account.account_id)).delete()
    stores.fetch_job(finish_job_id(review_id, 1)).delete()
    customer.session().client("iam").update_assume_role_policy(
        RoleName=iam_policy.ROLE_NAME, PolicyDocument=json.dumps(seed.trust_policy(
            seed.DEFAULT_SCANNER_PRINCIPAL, "fp-another-external-id")))
    store = _worker(tmp_path, "store-2", "--store", "--no-scan", database=True)
    scanner = _worker(tmp_path, "scan-1")
    try:
        review = _wait(connect(settings.db_path), review_id, 90, tmp_path)
    finally:
        stop_all([scanner, store])
    rows = {r["account_id"]: r for r in reviews.account_rows(connect(settings.db_path), review_id)}
    assert review["status"] == "failed" and review["error_message"] == rows[seed.CUSTOMER_ACCOUNT]["reason"], review
    assert review["error_message"].startswith("FinOps Pack could not assume the role.")
    for account in members:
        row = rows[account.account_id]
        assert row["status"] == "failed" and row["error_code"] == ManagementUnavailable.code, dict(row)
    for account in members[3:]:  # queued once the management account had failed: not one call to AWS
        assert rows[account.account_id]["reason"] == (
            f"{account.label()}: {ManagementUnavailable.customer_message}")
    assert not list(connection.scan_iter(f"finops:review:{review_id}:*"))


def test_members_are_queued_page_by_page_and_a_list_that_fails_later_names_each_one_queued(
        settings, local_aws, customer, tmp_path):
    """ListAccounts answers 20 accounts a page (as AWS; the local AWS's front makes moto page so).
    Each page's members get their scans at once (jobs.scan._FanOut.on_partial). Here the second
    page is refused: the management account's scan fails with the listing's sentence, and the
    members its first page listed (their scans already queued) get rows, stores and the finish
    from its store job (finops.queue._resume_early_scans): each names the management account's
    failure, none stays "scanning", and nothing is left in Redis."""
    from finops.errors import ManagementUnavailable
    from finops.web import create_app

    client = create_app(settings).test_client()
    review_id, _org, _token = _submit_organization_review(client, customer, settings)
    orgs = customer.session().client("organizations")
    for number in range(20):
        orgs.create_account(Email=f"aws+extra{number}@example.com", AccountName=f"Extra {number}")
    first_page = orgs.list_accounts(MaxResults=20)["Accounts"]
    listed_first = {a["Id"] for a in first_page if a["Id"] != seed.CUSTOMER_ACCOUNT and a["Status"] == "ACTIVE"}
    assert len(first_page) == 20 and len(listed_first) == 18
    local_aws.set_faults([{"service": "organizations", "action": "ListAccounts", "error": "AccessDenied", "skip": 1}])
    store = _worker(tmp_path, "store", "--store", "--no-scan", database=True)
    scanner = _worker(tmp_path, "scan-1")
    try:
        review = _wait(connect(settings.db_path), review_id, 120, tmp_path)
    finally:
        local_aws.set_faults()
        stop_all([scanner, store])
    assert review["status"] == "failed", review
    assert review["error_message"].startswith(
        f"The organization's accounts could not be listed from account {seed.CUSTOMER_ACCOUNT}: "), review
    rows = {r["account_id"]: r for r in reviews.account_rows(connect(settings.db_path), review_id)}
    assert set(rows) == {seed.CUSTOMER_ACCOUNT, *listed_first}, sorted(rows)  # page 2's accounts: never listed
    for account in listed_first:
        row = rows[account]
        assert row["status"] == "failed" and row["error_code"] == ManagementUnavailable.code, dict(row)
    assert not list(redis_connection(settings).scan_iter(f"finops:review:{review_id}:*"))


def _waiting_member(settings, connection):
    """A member's wait for the organization's cost data, beside a management account's scan job."""
    from rq import Retry

    from finops.queue import SCAN_JOB
    from jobs.scan import _SharedCosts

    queue = scan_queue(settings, connection)
    queue.enqueue(SCAN_JOB, {"review_id": "rw"}, job_id="scan-rw-1-333333333333")  # a member waiting its turn
    management = queue.enqueue(SCAN_JOB, {"review_id": "rw"}, job_id="scan-rw-1-222222222222",
                               retry=Retry(max=2, enqueue_at_front=True))
    queue.remove(management)
    management.set_status("started")
    order = {"review_id": "rw", "attempt": 1, "account_id": "444444444444", "kind": "member",
             "management": "222222222222"}
    return _SharedCosts(connection, settings, order), management, queue


def test_a_member_waits_for_the_cost_data_and_stops_with_a_sentence_when_the_management_scan_fails(settings):
    import threading

    from finops import pipeline
    from finops.errors import ManagementUnavailable
    from finops.models import CostData, Coverage
    from finops.scan import SharedCosts

    connection = redis_connection(settings)
    wait, management, _queue = _waiting_member(settings, connection)
    shared = SharedCosts(CostData(coh_currency="USD"), (Coverage("cost.explorer.spend", "global", "ok"),))
    writer = threading.Timer(0.3, lambda: pipeline.put(connection, pipeline.shared_key("rw", 1), wire.dump(shared)))
    started = time.monotonic()
    writer.start()
    assert wait() == shared and time.monotonic() - started >= 0.3  # waited while the management scan ran

    connection.delete(pipeline.shared_key("rw", 1))
    management.set_status("finished")  # ended, and left no data: its outcome was a failure
    with pytest.raises(ManagementUnavailable):
        wait()
    pipeline.put(connection, pipeline.failed_key("rw", 1), b"1")  # what its store job leaves
    with pytest.raises(ManagementUnavailable) as refused:
        wait.check()  # a member that has not started yet calls no AWS at all
    assert refused.value.customer_message == ManagementUnavailable.customer_message


def test_a_waiting_member_runs_a_lost_management_scan_again_and_gives_its_worker_to_it(settings, monkeypatch):
    """The management account's worker died while a member waited for its cost data, and every
    other worker may be waiting too: the member does what RQ's maintenance would (the scan goes
    back to the front of the queue), then fails so that RQ runs it again later, freeing its worker."""
    import jobs.scan
    from jobs.scan import ManagementRequeued

    monkeypatch.setattr(jobs.scan, "LEASE_CHECK_SECONDS", 0)
    monkeypatch.setattr(jobs.scan, "YIELD_AFTER_SECONDS", 0.3)
    connection = redis_connection(settings)
    wait, management, queue = _waiting_member(settings, connection)
    registry = queue.started_job_registry
    connection.zadd(registry.key, {f"{management.id}:lost-execution": time.time() - 1})  # its lease ran out
    started = time.monotonic()
    with pytest.raises(ManagementRequeued):
        wait()
    assert time.monotonic() - started >= 0.3  # it waited YIELD_AFTER_SECONDS for a free worker first
    assert management.get_status() == "queued" and queue.job_ids[0] == management.id  # ahead of the member
    management.refresh()
    assert management.retries_left == 1  # that run is one of its retries, as RQ's maintenance counts it


def test_a_scan_cut_short_by_its_timeout_leaves_no_thread_behind_its_worker_starts_afresh(
        settings, local_aws, customer, tmp_path):
    """A member's scan whose management account never leaves the cost data: RQ's timeout (3 s
    here) raises in the scan while its cost thread still waits. The job ends (the scan records the
    timeout as its outcome; or the worker's hard stop fails it, one timeout later, if the scan
    could not return), and the scan worker, whose process would keep that thread, execs itself:
    the same pid, a new registration, no thread of the old job."""
    from dataclasses import replace as with_

    from rq import Worker

    from finops.queue import enqueue_account
    from tests.helpers import descendants

    connection = redis_connection(settings)
    scans = scan_queue(settings, connection)
    management = scans.enqueue("jobs.scan.scan_account", {"review_id": "rt"}, job_id="scan-rt-1-210987654321")
    scans.remove(management)
    management.set_status("started")  # it runs (its lease is current) and never leaves the cost data
    role_arn = seed.create_scanner_role(customer, "fp-timeout-external-id")
    spec = {"review_id": "rt", "attempt": 1, "account_id": seed.CUSTOMER_ACCOUNT, "name": "Member",
            "kind": "member", "role_arn": role_arn, "management": "210987654321"}
    enqueue_account(with_(settings, scan_timeout=3, scan_retries=0), spec, external_id="fp-timeout-external-id",
                    thresholds={}, connection=connection)
    scanner = _worker(tmp_path, "scan-1")
    try:
        job = Job.fetch("scan-rt-1-" + seed.CUSTOMER_ACCOUNT, connection=connection, serializer=SERIALIZER)
        deadline = time.monotonic() + 60
        while not (first := Worker.all(queue=scans)):
            assert time.monotonic() < deadline, "the worker never registered"
            time.sleep(0.05)
        first_name = first[0].name
        while job.get_status() not in ("finished", "failed"):  # the scan job records the timeout as its outcome
            assert time.monotonic() < deadline, ("the scan was never stopped", job.get_status())
            assert scanner.poll() is None, (tmp_path / "scan-1.log").read_text()[-2000:]
            time.sleep(0.2)
        while not [w for w in Worker.all(queue=scans) if w.name != first_name]:  # warmed up again
            assert time.monotonic() < deadline, "the worker did not start again"
            time.sleep(0.2)
        (again,) = Worker.all(queue=scans)
        assert again.pid == scanner.pid and scanner.poll() is None and descendants(scanner.pid) == []
        log = (tmp_path / "scan-1.log").read_text()
        assert "JobTimeoutException" in log or "reason=still-running" in log, log[-2000:]
        assert "action=restart" in log or "reason=still-running" in log, log[-2000:]
    finally:
        stop_all([scanner])
