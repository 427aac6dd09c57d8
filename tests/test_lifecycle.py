"""Review lifecycle against real Redis and a real worker process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from finops import reviews
from finops.db import connect
from finops.queue import review_queue
from finops.sandbox import seed
from tests.conftest import free_port, with_settings
from tests.helpers import connect_form, review_id_of, start_review


def test_double_submit_enqueues_one_job(client, settings, customer):
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    first = client.post(f"/reviews/{token}/scan", data=form)
    second = client.post(f"/reviews/{token}/scan", data=form)
    assert (first.status_code, second.status_code) == (303, 303)
    queue = review_queue(settings)
    assert queue.job_ids == [f"review-{review_id}-1"]
    assert len(queue) == 1


def test_redis_down_keeps_the_form_and_says_so(tmp_path, local_aws, customer):
    from finops.web import create_app

    dead = with_settings(
        __import__("finops.config", fromlist=["Settings"]).Settings.from_env(),
        db_path=tmp_path / "f.db", secret_key="k", redis_url=f"redis://127.0.0.1:{free_port()}/0",
    )
    app = create_app(dead)
    client = app.test_client()
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token, role_arn="arn:aws:iam::222222222222:role/finops-pack-readonly")
    response = client.post(f"/reviews/{token}/scan", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The scan queue is unavailable right now" in html
    assert 'value="arn:aws:iam::222222222222:role/finops-pack-readonly"' in html  # nothing typed is lost
    assert 'value="dana@example.com"' in html
    assert reviews.get_review(connect(dead.db_path), review_id)["status"] == "draft"


def test_external_id_mismatch_is_refused_plainly(client, settings):
    token = start_review(client)
    form = connect_form(client, token, role_arn="arn:aws:iam::222222222222:role/r", external_id="fp-someone-elses")
    html = client.post(f"/reviews/{token}/scan", data=form).get_data(as_text=True)
    assert "The External ID does not match this review&#39;s" in html
    assert len(review_queue(settings)) == 0


def test_govcloud_arn_is_refused_with_the_security_page_reason(client, settings):
    token = start_review(client)
    form = connect_form(client, token, role_arn="arn:aws-us-gov:iam::222222222222:role/finops-pack-readonly")
    html = client.post(f"/reviews/{token}/scan", data=form).get_data(as_text=True)
    assert "GovCloud and China need a separate deployment and trust model" in html
    assert len(review_queue(settings)) == 0


def test_worker_killed_mid_scan_fails_the_review_with_a_sentence(settings, local_aws, customer, monkeypatch):
    from finops.web import create_app
    from tests.helpers import scan_job_started

    monkeypatch.setenv("FINOPS_HEARTBEAT_TIMEOUT", "4")
    settings = with_settings(settings, heartbeat_timeout=4)
    client = create_app(settings).test_client()
    seed.seed_demo_waste(customer)
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    local_aws.set_faults(latency_ms=400)  # a slow AWS, so the kill lands mid-scan
    client.post(f"/reviews/{token}/scan", data=form)

    worker = subprocess.Popen(
        [sys.executable, "-m", "finops.cli", "worker", "--store"], env=os.environ.copy(), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    db = connect(settings.db_path)
    try:
        deadline = time.time() + 30
        while not scan_job_started(settings, review_id, seed.CUSTOMER_ACCOUNT):
            assert time.time() < deadline, "the worker never started the scan"
            time.sleep(0.1)
        time.sleep(1)
        # The worker and its work-horse (RQ puts the horse in its own session), as an OOM kill would.
        subprocess.run(["pkill", "-KILL", "-P", str(worker.pid)], check=False)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        killed_at = time.time()
        while True:
            html = client.get(f"/reviews/{token}/progress").get_data(as_text=True)
            if "failed" in html:
                break
            assert time.time() - killed_at < 60, (
                f"still 'running' a minute after the worker died: {reviews.get_review(db, review_id)}"
            )
            time.sleep(0.5)
    finally:
        local_aws.set_faults()
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    review = reviews.get_review(db, review_id)
    assert review["status"] == "failed" and review["error_code"] == "worker_lost"
    assert "The scan stopped unexpectedly" in html
    assert "hx-trigger" not in html


def test_role_trusting_another_external_id_fails_the_review_with_a_sentence(client, settings, customer):
    from tests.conftest import run_worker_burst

    token = start_review(client)

    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, "fp-an-older-reviews-external-id")
    assert client.post(f"/reviews/{token}/scan", data=form).status_code == 303
    run_worker_burst(settings)
    page = client.get(f"/reviews/{token}").get_data(as_text=True)
    review = reviews.get_review(connect(settings.db_path), review_id)
    assert review["status"] == "failed" and review["error_code"] == "assume_role_denied"
    assert "its sts:ExternalId condition is this review&#39;s External ID exactly" in page
    assert 'id="start-scan"' in page  # the customer can fix the role and try again
    assert 'value="dana@example.com"' in page  # with what they typed before


def test_a_scan_nobody_picks_up_says_so_and_keeps_polling(client, settings, customer):
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    client.post(f"/reviews/{token}/scan", data=form)
    fresh = client.get(f"/reviews/{token}/progress").get_data(as_text=True)
    assert "Waiting for a scanner" in fresh and "no-worker" not in fresh
    connect(settings.db_path).execute(
        "update reviews set submitted_at = '2000-01-01T00:00:00Z' where id = ?", [review_id]
    )
    stale = client.get(f"/reviews/{token}/progress").get_data(as_text=True)
    assert "No scanner has picked this scan up yet" in stale
    assert 'hx-trigger="every 1s"' in stale  # it starts by itself once a worker runs


def test_reviews_queued_in_sqlite_but_missing_from_redis_are_queued_again_once(settings):
    from finops.queue import enqueue_review, job_id, requeue_lost_reviews

    db = connect(settings.db_path)
    held, lost, dropped = (reviews.create_review(db, settings)["id"] for _ in range(3))
    for review_id in (held, lost, dropped):
        db.execute("update reviews set status = 'queued', attempt = 1 where id = ?", [review_id])
    queue = review_queue(settings)
    enqueue_review(settings, held, 1)
    enqueue_review(settings, dropped, 1)
    queue.remove(job_id(dropped, 1))  # its record survived, its place in the queue did not

    assert sorted(requeue_lost_reviews(settings, db)) == sorted([lost, dropped])
    assert sorted(queue.job_ids) == sorted(job_id(r, 1) for r in (held, lost, dropped))
    assert requeue_lost_reviews(settings, db) == []  # at every start, from every process: one job


def test_a_late_failure_of_an_earlier_attempt_leaves_the_retry_alone(settings):
    from finops.errors import WorkerLost
    from finops.queue import attempt_of, job_id

    db = connect(settings.db_path)
    review_id = reviews.create_review(db, settings)["id"]
    db.execute("update reviews set status = 'running', attempt = 2 where id = ?", [review_id])
    assert attempt_of(job_id("a-b-c", 1)) == 1  # review ids may contain "-"
    reviews.fail(db, review_id, WorkerLost("attempt 1's job failed late"), attempt=1)
    assert reviews.get_review(db, review_id)["status"] == "running"
    reviews.fail(db, review_id, WorkerLost("attempt 2's job failed"), attempt=2)
    assert reviews.get_review(db, review_id)["status"] == "failed"
