"""The review pipeline of issue 11: stateless scan workers, one job per account, a store worker.

Scan workers here are real ``finops-pack worker`` processes started in their own empty working
directories with a FINOPS_DB_PATH that points into a directory that does not exist: a scan worker
that opened SQLite would create it (or fail). Only ``finops-pack worker --store --no-scan`` has
the database. The AWS is the local one, with the organization of ``finops.sandbox.organization``:
its member roles are created account by account from the same template (``seed_organization``);
``tests/test_organization.py`` deploys them through the StackSet commands instead.
"""

from __future__ import annotations

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
from tests.helpers import connect_form, review_id_of, start_review

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
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    assert client.post(f"/reviews/{token}/scan", data=form).status_code == 303
    scanner = _worker(tmp_path, "scan-1")
    store = _worker(tmp_path, "store", "--store", "--no-scan", database=True)
    try:
        review = _wait(connect(settings.db_path), review_id, 120, tmp_path)
    finally:
        stop_all([scanner, store])
    assert review["status"] == "complete" and review["scope"] == scope
    jobs = _scan_jobs(settings, review_id)
    assert list(jobs) == [seed.CUSTOMER_ACCOUNT] and jobs[seed.CUSTOMER_ACCOUNT].args[0]["kind"] == "single"
    rows = reviews.account_rows(connect(settings.db_path), review_id)
    assert [(r["account_id"], r["management"], r["status"]) for r in rows] == [(seed.CUSTOMER_ACCOUNT, 1, "complete")]
    assert not (tmp_path / "scan-1-has-no-database").exists()


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
    assert scanner.wait(timeout=120) == 0  # the management account: its store job has nobody to run it
    db = connect(settings.db_path)
    assert reviews.get_review(db, review_id)["status"] == "running"
    account = seed.CUSTOMER_ACCOUNT
    waiting = pipeline.get(connection, pipeline.result_key(review_id, 1, account))
    assert waiting is not None and wire.load(dict, waiting)["outcome"]["read"] is True
    assert reviews.account_rows(db, review_id) == []  # nothing in SQLite yet
    store = _worker(tmp_path, "store-2", "--store", "--no-scan", "--burst", database=True)
    assert store.wait(timeout=60) == 0  # stores the management account, queues the members
    scanner = _worker(tmp_path, "scan-2", "--burst")
    assert scanner.wait(timeout=180) == 0
    assert reviews.get_review(db, review_id)["status"] == "running"  # the members' results wait too
    waiting = [key for key in connection.scan_iter(f"finops:review:{review_id}:1:result:*")]
    assert len(waiting) == 5  # three readable members and the two refusals, each an outcome
    store = _worker(tmp_path, "store-3", "--store", "--no-scan", "--burst", database=True)
    assert store.wait(timeout=60) == 0
    review = reviews.get_review(db, review_id)
    assert review["status"] == "partial", (review["status"], review["error_message"])
    assert len(reviews.account_rows(db, review_id)) == 7
    assert not list(connection.scan_iter(f"finops:review:{review_id}:*"))
