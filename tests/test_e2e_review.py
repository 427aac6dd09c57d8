"""End to end through the web client: create, submit, real worker, hosted report, exact dollars."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

from redis import Redis

from finops import reviews
from finops.db import connect
from finops.sandbox import seed
from tests.conftest import run_worker_burst
from tests.helpers import (
    assume_role_calls,
    connect_form,
    expected_waste,
    report_token_of,
    review_id_of,
    start_review,
)


def test_review_end_to_end_through_the_web(client, settings, local_aws, customer):
    seed.seed_demo_waste(customer)
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    role_arn = seed.create_scanner_role(customer, form["external_id"])
    form["role_arn"] = role_arn

    response = client.post(f"/reviews/{token}/scan", data=form)
    assert response.status_code == 303
    progress = client.get(f"/reviews/{token}/progress", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in progress.get_data(as_text=True)  # still polling while queued

    run_worker_burst(settings)

    done = client.get(f"/reviews/{token}/progress", headers={"HX-Request": "true"})
    body = done.get_data(as_text=True)
    assert "hx-trigger" not in body  # polling stops once the review has ended
    assert done.headers.get("HX-Refresh") == "true"
    opened = client.get(re.search(r'href="(/reviews/[A-Za-z0-9_-]+/report)"', body).group(1))
    assert opened.status_code == 303
    token = opened.headers["Location"].rsplit("/r/", 1)[1]
    assert len(token) >= 43  # 256 bits, url-safe

    report = client.get(f"/r/{token}")
    html = report.get_data(as_text=True)
    assert report.status_code == 200
    assert '<dd id="account-id">222222222222</dd>' in html
    assert "$10.00" in html and "$3.65" in html and "$17.60" in html and "$71.25" in html
    assert '<strong id="total-monthly">$106.15</strong>' in html
    review = reviews.get_review(connect(settings.db_path), review_id)
    assert review["expires_at"][:10] in html

    data = json.loads(client.get(f"/r/{token}.json").get_data(as_text=True))
    assert data["account_id"] == "222222222222"
    assert data["status"] == "complete"
    got = {(f["check_id"], f["region"]): Decimal(f["monthly_savings"]) for f in data["findings"]}
    assert got == expected_waste()
    assert data["totals"]["monthly_savings"] == "106.15"
    assert {"us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2"} <= set(data["regions"])
    assert all(c["status"] == "ok" for c in data["coverage"])
    # Resources in use were read but not flagged.
    assert data["inventory"]["ec2:volume"]["us-east-1"] == 2  # the idle volume and the root volume

    # The scan sent the review's External ID; the two safety probes sent none and a wrong one.
    calls = assume_role_calls(local_aws)
    scan_calls = [c for c in calls if c["params"]["RoleSessionName"] == "finops-pack-scan"]
    assert [c["params"].get("ExternalId") for c in scan_calls] == [form["external_id"]]
    probes = [c for c in calls if c["params"]["RoleSessionName"] == "finops-pack-safety-probe"]
    assert [("ExternalId" in c["params"], c["status"]) for c in probes] == [(False, 403), (True, 403)]
    assert probes[1]["params"]["ExternalId"] != form["external_id"]


def test_session_credentials_never_rest_in_sqlite_or_redis(client, settings, local_aws, customer, caplog):
    seed.seed_demo_waste(customer)
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    client.post(f"/reviews/{token}/scan", data=form)
    run_worker_burst(settings)
    assert reviews.get_review(connect(settings.db_path), review_id)["status"] == "complete"

    issued = [c["issued"] for c in assume_role_calls(local_aws) if c.get("issued")]
    assert len(issued) == 1 and set(issued[0]) == {"AccessKeyId", "SecretAccessKey", "SessionToken"}
    secrets = [v.encode() for v in issued[0].values()]

    db_bytes = b"".join(
        p.read_bytes() for p in Path(settings.db_path).parent.glob(Path(settings.db_path).name + "*")
    )
    assert db_bytes, "the database file is where the test expects it"
    redis = Redis.from_url(settings.redis_url)
    redis_bytes = b""
    for key in redis.scan_iter(count=1000):
        redis_bytes += key + (redis.dump(key) or b"")
    assert b"review-" + review_id.encode() in redis_bytes  # the job is there: we looked in the right Redis
    logs = caplog.text.encode()
    for secret in secrets:
        assert secret not in db_bytes
        assert secret not in redis_bytes
        assert secret not in logs


def test_expired_report_is_gone(client, settings):
    token = start_review(client)
    review_id = review_id_of(client, token)
    db = connect(settings.db_path)
    review = reviews.get_review(db, review_id)
    db.execute("update reviews set status = 'complete', expires_at = '2000-01-01T00:00:00Z' where id = ?", [review_id])
    report_token = report_token_of(settings, review["id"])
    assert client.get(f"/r/{report_token}").status_code == 410  # refused at once, before any purge
    assert client.get(f"/reviews/{token}").status_code == 410
    assert reviews.purge_expired(db) == 1
    assert client.get(f"/r/{report_token}").status_code == 410  # purged: still "expired", not "not found"
    assert client.get(f"/reviews/{token}").status_code == 410
    assert client.get(f"/r/{'x' * 43}").status_code == 404
