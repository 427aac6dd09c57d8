"""The consultant's workspace: sign-in, who can reach what, expiry on every route, links stored
hashed, the one deletion, notes, the report email through a real SMTP server, the CLI."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from finops import links, mail, notes, operators, reviews
from finops.db import connect
from finops.sandbox import seed
from finops.web import create_app
from tests.conftest import free_port, run_worker_burst
from tests.helpers import connect_form, csrf, report_token_of, review_id_of, start_review
from tests.test_queue import run_review_worker_burst

PASSWORD = "correct horse battery staple"
OPERATOR = "consultant@example.com"


def sign_in(client, email: str = OPERATOR, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    page = client.get("/sign-in").get_data(as_text=True)
    return client.post("/sign-in", data={"csrf_token": csrf(page), "email": email, "password": password})


@pytest.fixture
def operator(settings):  # type: ignore[no-untyped-def]
    return operators.add(connect(settings.db_path), OPERATOR, PASSWORD)


@pytest.fixture
def signed_in(client, operator):  # type: ignore[no-untyped-def]
    assert sign_in(client).status_code == 303
    return client


def finished_review(client, settings, customer) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A review scanned to its report through the wizard: (review id, invitation token)."""
    seed.seed_demo_waste(customer)
    token = start_review(client, company="Acme <b>Widgets</b> & Co", name="Dana O'Brien <script>")
    form = connect_form(client, token, contact_company="Acme <b>Widgets</b> & Co", contact_name="Dana O'Brien <script>")
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    assert client.post(f"/reviews/{token}/scan", data=form).status_code == 303
    run_worker_burst(settings)
    review_id = review_id_of(client, token)
    assert reviews.get_review(connect(settings.db_path), review_id)["status"] == "complete"
    return review_id, token


# -- sign-in ---------------------------------------------------------------------------------------
def test_sign_in_needs_csrf_rotates_the_session_and_sets_safe_cookies(client, operator):
    assert client.post("/sign-in", data={"email": OPERATOR, "password": PASSWORD}).status_code == 400  # no token
    before = csrf(client.get("/sign-in").get_data(as_text=True))
    wrong = sign_in(client, password="not the password")
    assert wrong.status_code == 401 and "do not match an operator account" in wrong.get_data(as_text=True)
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # http base URL
    after = csrf(client.get("/dashboard/").get_data(as_text=True))
    assert after != before  # a fresh session (and CSRF token) at sign-in
    assert client.get("/dashboard/").status_code == 200
    out = client.post("/sign-out", data={"csrf_token": after})
    assert out.status_code == 303 and client.get("/dashboard/").status_code == 302


def test_cookies_are_secure_behind_https(settings, operator):
    client = create_app(replace(settings, base_url="https://review.example.com")).test_client()
    response = sign_in(client)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-finops-session=") and "Secure" in cookie and "HttpOnly" in cookie


def test_a_new_password_signs_out_every_session(client, settings, signed_in, operator):
    operators.set_password(connect(settings.db_path), operator.id, "another long passphrase")
    assert client.get("/dashboard/").status_code == 302


def test_failed_sign_ins_are_limited_with_a_sentence_but_not_a_good_one(client, operator):
    for _ in range(5):
        assert sign_in(client, password="guess").status_code == 401
    locked = sign_in(client, password="guess")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)
    assert sign_in(client).status_code == 429  # the account stays paused, even with the right password
    other = sign_in(client, email="someone-else@example.com", password="guess")
    assert other.status_code == 401  # per account (and per address, 10 in 15 minutes)


def test_sign_in_still_answers_when_redis_is_down(settings, operator):
    dead = replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    client = create_app(dead).test_client()
    assert sign_in(client, password="guess").status_code == 401  # limits fall back to memory: no 500
    assert sign_in(client).status_code == 303


def test_set_password_link_works_once(client, settings):
    db = connect(settings.db_path)
    operator = operators.add(db, "new@example.com")
    token = operators.set_password_token(db, operator.id)
    page = client.get(f"/set-password/{token}")
    assert page.status_code == 200 and "new@example.com" in page.get_data(as_text=True)
    short = client.post(f"/set-password/{token}", data={"csrf_token": csrf(page.get_data(as_text=True)),
                                                         "password": "short", "confirm": "short"})
    assert short.status_code == 400 and "At least 12 characters" in short.get_data(as_text=True)
    done = client.post(f"/set-password/{token}", data={"csrf_token": csrf(page.get_data(as_text=True)),
                                                        "password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 303 and client.get("/dashboard/").status_code == 200
    assert client.get(f"/set-password/{token}").status_code == 410  # used up
    assert token.encode() not in settings.db_path.read_bytes()  # only ever its hash, and now not even that


# -- who can reach what ----------------------------------------------------------------------------
PUBLIC = {"web.security", "web.download_template", "web.download_policy", "web.download_strict_policy", "web.healthz",
          "static", "auth.sign_in", "web.index"}
CAPABILITIES = {"web.show_review", "web.download_trust_policy", "web.connection_check",
                "web.connection_check_result", "web.submit_review", "web.review_progress", "web.open_report",
                "web.report", "web.report_findings", "web.report_json", "web.report_markdown", "web.report_csv",
                "web.delete_report", "web.choose_scope",
                "auth.set_password"}


def _url(rule, value: str = "x" * 43) -> str:  # type: ignore[no-untyped-def]
    return rule.build({name: value for name in rule.arguments})[1]


def test_anonymous_visitors_reach_only_the_security_page_and_links_they_hold(app, client):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    operator_routes = {e for e in endpoints if e.startswith("ops.")} | {"auth.sign_out", "web.create_review"}
    assert endpoints == PUBLIC | CAPABILITIES | operator_routes, "a new route: classify it here"
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = _url(rule, "static.css" if rule.endpoint == "static" else "x" * 43)
            response = client.open(url, method=method)
            where = f"{method} {url} ({rule.endpoint})"
            if rule.endpoint in CAPABILITIES:
                assert response.status_code in (400, 404, 410), where  # a link nobody issued opens nothing
            elif rule.endpoint.startswith("ops."):
                assert response.status_code in (302, 400), where
                if method == "GET":
                    assert "/sign-in?next=" in response.headers["Location"], where
            elif rule.endpoint == "web.create_review":
                assert response.status_code in (400, 403), where  # sign-up is by invitation
            elif rule.endpoint == "web.index":
                assert response.headers["Location"].endswith("/security"), where
            else:
                assert response.status_code in (200, 302, 400, 404), where


def test_every_operator_route_redirects_to_sign_in(app, client, settings):
    review_id = reviews.create_review(connect(settings.db_path), settings)["id"]
    token = csrf(client.get("/sign-in").get_data(as_text=True))
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("ops."):
            continue
        url = rule.build({name: review_id if name == "review_id" else "report" if name == "kind" else "x"
                          for name in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 302, f"{method} {url}"
            assert response.headers["Location"].startswith("/sign-in"), f"{method} {url}"
    assert reviews.get_review(connect(settings.db_path), review_id)  # nothing was done


def test_sign_in_refuses_to_send_an_operator_to_another_site(client, operator):
    page = client.get("/sign-in?next=//evil.example/").get_data(as_text=True)
    response = client.post("/sign-in?next=//evil.example/",
                           data={"csrf_token": csrf(page), "email": OPERATOR, "password": PASSWORD})
    assert response.headers["Location"] == "/dashboard/"


# -- expiry ------------------------------------------------------------------------------------------
def test_an_expired_review_is_refused_on_every_route_before_any_purge(app, client, settings, signed_in, customer):
    review_id, token = finished_review(client, settings, customer)
    report_token = report_token_of(settings, review_id)
    db = connect(settings.db_path)
    check_id = db["connection_checks"].insert({"id": "chk", "review_id": review_id, "status": "done",
                                               "created_at": "2026-01-01T00:00:00Z"}).last_pk
    form = csrf(client.get("/dashboard/").get_data(as_text=True))
    db.execute("update reviews set expires_at = '2000-01-01T00:00:00Z' where id = ?", [review_id])
    values = {"token": token, "check_id": check_id, "review_id": review_id, "kind": "report", "uid": "x"}
    checked = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC or rule.endpoint in ("auth.sign_out", "auth.set_password", "web.create_review",
                                                        "ops.dashboard", "ops.create_invitation"):
            continue
        args = {**values, "token": report_token} if rule.endpoint.startswith("web.report") or \
            rule.endpoint == "web.delete_report" else values
        url = rule.build({name: args[name] for name in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": form, "role_arn": "x", "external_id": "x"})
            assert response.status_code == 410, f"{method} {url} answered {response.status_code}"
            checked.add(rule.endpoint)
    assert {"web.show_review", "web.report", "web.report_json", "web.delete_report", "web.connection_check",
            "ops.review", "ops.rescan", "ops.delete"} <= checked
    assert "expired" in client.get(f"/r/{report_token}").get_data(as_text=True)
    assert review_id not in client.get("/dashboard/").get_data(as_text=True)
    assert reviews.get_review(db, review_id)  # still on disk: refused, not yet purged
    assert reviews.purge_expired(db) == 1
    assert client.get(f"/r/{report_token}").status_code == 410


# -- links are stored hashed -----------------------------------------------------------------------
def test_a_copy_of_the_database_opens_nothing(client, settings, customer):
    review_id, token = finished_review(client, settings, customer)
    report_token = report_token_of(settings, review_id)
    assert client.get(f"/r/{report_token}").status_code == 200 and client.get(f"/reviews/{token}").status_code == 200
    reviews.checkpoint(connect(settings.db_path))
    database = settings.db_path.read_bytes()
    assert token.encode() not in database and report_token.encode() not in database
    row = reviews.get_review(connect(settings.db_path), review_id)
    assert row["report_token_hash"] == links.token_hash(report_token)
    for value in row.values():  # nothing stored in the review's row opens it
        if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]{20,64}", value):
            assert client.get(f"/r/{value}").status_code == 404
            assert client.get(f"/reviews/{value}").status_code == 404
    data = client.get(f"/r/{report_token}.json").get_data(as_text=True)
    assert review_id not in data and "review_id" not in data
    for export in (".md", ".csv"):
        assert review_id not in client.get(f"/r/{report_token}{export}").get_data(as_text=True)


def test_replacing_a_link_stops_the_old_one(client, settings, signed_in, customer):
    review_id, token = finished_review(client, settings, customer)
    old = report_token_of(settings, review_id)
    page = client.get(f"/dashboard/reviews/{review_id}").get_data(as_text=True)
    assert f"/r/{old}" in page and f"/reviews/{token}" in page  # both links, to copy
    client.post(f"/dashboard/reviews/{review_id}/links/report", data={"csrf_token": csrf(page)})
    new = report_token_of(settings, review_id)
    assert new != old and client.get(f"/r/{old}").status_code == 404 and client.get(f"/r/{new}").status_code == 200


# -- the one deletion ------------------------------------------------------------------------------
def test_the_customer_deletes_the_report_every_row_goes_and_the_link_answers_410(client, settings, customer):
    review_id, token = finished_review(client, settings, customer)
    db = connect(settings.db_path)
    notes.set_summary(db, review_id, "MARKER-SUMMARY-7f3a")
    report_token = report_token_of(settings, review_id)
    page = client.get(f"/r/{report_token}").get_data(as_text=True)
    response = client.post(f"/r/{report_token}/delete", data={"csrf_token": csrf(page)})
    assert response.status_code == 200 and "Report deleted" in response.get_data(as_text=True)
    assert client.get(f"/r/{report_token}").status_code == 410
    assert "was deleted" in client.get(f"/r/{report_token}.json").get_data(as_text=True)
    assert client.get(f"/reviews/{token}").status_code == 410
    for table in db.table_names():
        if "review_id" in db[table].columns_dict:
            assert db.execute(f"select count(*) from {table} where review_id = ?", [review_id]).fetchone()[0] == 0
    (audit,) = reviews.deletions(db)
    assert audit["deleted_by"] == "customer via report link" and audit["review_ref"] == review_id[:6]
    assert audit["rows_deleted"] > 10
    files = settings.db_path.read_bytes() + (settings.db_path.with_name("finops.db-wal").read_bytes()
                                             if settings.db_path.with_name("finops.db-wal").exists() else b"")
    for marker in (b"MARKER-SUMMARY-7f3a", b"Acme <b>Widgets</b>", b"dana@example.com", review_id.encode()):
        assert marker not in files, marker  # secure_delete: not left in free pages or the WAL


def test_the_operator_deletes_on_request_and_the_audit_names_them(client, settings, signed_in, customer):
    review_id, _ = finished_review(client, settings, customer)
    page = client.get(f"/dashboard/reviews/{review_id}").get_data(as_text=True)
    response = client.post(f"/dashboard/reviews/{review_id}/delete", data={"csrf_token": csrf(page)})
    assert response.status_code == 303
    dashboard = client.get("/dashboard/").get_data(as_text=True)
    assert f"operator {OPERATOR}" in dashboard and review_id[:6] in dashboard
    assert client.get(f"/dashboard/reviews/{review_id}").status_code == 404


# -- dashboard ---------------------------------------------------------------------------------------

def scan_state(settings, review_id: str) -> str:  # type: ignore[no-untyped-def]
    """What a failed wait on a scan should say: the review's row and steps, and its jobs in RQ."""
    from finops.queue import review_queue

    db = connect(settings.db_path)
    review = reviews.get_review(db, review_id)
    steps = [s["message"] for s in db.query("select message from review_steps where review_id = ?", [review_id])]
    queue = review_queue(settings)
    jobs = {}
    for attempt in range(1, review["attempt"] + 1):
        job = queue.fetch_job(f"review-{review_id}-{attempt}")
        result = job and job.latest_result()
        jobs[attempt] = job and (job.get_status(refresh=False), result and result.type.name,
                                 result and result.return_value, result and (result.exc_string or "")[-800:])
    return (f"review status={review['status']} attempt={review['attempt']} error={review['error_message']!r} "
            f"steps={steps} jobs={jobs} queued={queue.job_ids}")


def test_dashboard_invites_lists_filters_sorts_rescans(client, settings, signed_in, customer):
    page = client.get("/dashboard/").get_data(as_text=True)
    assert 'id="mail-off"' in page and "No reviews yet" in page
    created = client.post("/dashboard/invitations", data={
        "csrf_token": csrf(page), "company": "Globex", "contact_name": "Hank", "contact_email": "hank@globex.example",
        "note": "met at re:Invent"})
    assert created.status_code == 303
    detail = client.get(created.headers["Location"]).get_data(as_text=True)
    invitation = re.search(r'<code id="invitation-url">([^<]+)</code>', detail).group(1)
    assert invitation.startswith(settings.base_url + "/reviews/")
    wizard = client.get(invitation.replace(settings.base_url, "")).get_data(as_text=True)
    assert "Globex" in wizard and 'value="hank@globex.example"' in wizard  # pre-filled for the customer
    assert "met at re:Invent" not in wizard  # the private note stays private

    review_id, _ = finished_review(client, settings, customer)
    listing = client.get("/dashboard/").get_data(as_text=True)
    assert listing.index("Acme") < listing.index("Globex")  # newest first
    assert "$106.15" in listing and "met at re:Invent" in listing
    assert "Globex" not in client.get("/dashboard/?q=acme").get_data(as_text=True)
    assert "Acme" not in client.get("/dashboard/?status=waiting").get_data(as_text=True)
    by_company = client.get("/dashboard/?sort=company&dir=asc").get_data(as_text=True)
    assert by_company.index("Acme") < by_company.index("Globex")

    detail = client.get(f"/dashboard/reviews/{review_id}").get_data(as_text=True)
    assert "Mail is off" in detail and f"/r/{report_token_of(settings, review_id)}" in detail
    rescan = client.post(f"/dashboard/reviews/{review_id}/rescan", data={"csrf_token": csrf(detail)})
    assert rescan.status_code == 303
    row = client.get(f"/dashboard/reviews/{review_id}/row").get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in row and "queued" in row  # live while it scans
    page = client.get(f"/dashboard/reviews/{review_id}").get_data(as_text=True)  # the review page too
    assert f'hx-get="/dashboard/reviews/{review_id}/scan" hx-trigger="every 2s"' in page
    review = reviews.get_review(connect(settings.db_path), review_id)
    assert review["attempt"] == 2 and review["status"] == "queued"
    # The product's worker (ReviewWorker) as a real process, as in production. (With a work-horse
    # forked from pytest's own process this rescan once lost, at random, every write the horse
    # committed after pytest's garbage collector closed a connection it held at fork time: see
    # finops.worker.before_fork and tests/test_storage.py. scan_state says what a stuck scan shows.)
    run_review_worker_burst()
    row = client.get(f"/dashboard/reviews/{review_id}/row").get_data(as_text=True)
    assert "hx-trigger" not in row and "complete" in row, scan_state(settings, review_id)
    card = client.get(f"/dashboard/reviews/{review_id}/scan").get_data(as_text=True)
    assert "hx-trigger" not in card and "Rescan" in card  # polling stops; badge and links follow, out of band
    assert 'id="review-status" hx-swap-oob="true">complete<' in card
    assert f"/r/{report_token_of(settings, review_id)}" in card and 'id="links" hx-swap-oob="true"' in card


# -- notes ---------------------------------------------------------------------------------------------
HOSTILE = ('**Start here.** <script>alert(1)</script> <img src=x onerror=alert(2)> '
           '[click](javascript:alert(3)) [ok](https://example.com/plan)')


def test_notes_are_rendered_safely_in_the_report_and_kept_in_every_export(client, settings, signed_in, customer):
    review_id, _ = finished_review(client, settings, customer)
    detail = client.get(f"/dashboard/reviews/{review_id}").get_data(as_text=True)
    client.post(f"/dashboard/reviews/{review_id}/notes", data={"csrf_token": csrf(detail), "summary": HOSTILE})
    uid = connect(settings.db_path).execute("select uid from findings where review_id = ? limit 1",
                                            [review_id]).fetchone()[0]
    client.post(f"/dashboard/reviews/{review_id}/findings/{uid}/note",
                data={"csrf_token": csrf(detail), "body": "Finding note <iframe src=//evil>"})
    token = report_token_of(settings, review_id)
    page = client.get(f"/r/{token}").get_data(as_text=True)
    summary = page[page.index('id="consultant-summary"'):page.index('id="top-actions"')]
    assert "<strong>Start here.</strong>" in summary
    assert "<script>" not in summary and "&lt;script&gt;" in summary and "<img" not in summary
    assert "javascript:" not in summary.split("&lt;img")[0] + summary.split("onerror")[-1]
    assert '<a href="https://example.com/plan" rel="noopener noreferrer nofollow">ok</a>' in summary
    assert "<iframe" not in page and "Finding note &lt;iframe" in page
    markdown = client.get(f"/r/{token}.md").get_data(as_text=True)
    assert "## Summary from your consultant" in markdown and "&lt;script>" in markdown and "<script>" not in markdown
    assert "Your consultant's note:" in markdown
    data = json.loads(client.get(f"/r/{token}.json").get_data(as_text=True))
    assert data["notes"]["summary"] == HOSTILE and data["notes"]["findings"][uid].startswith("Finding note")
    assert "Finding note" in client.get(f"/r/{token}.csv").get_data(as_text=True)


# -- the report email ----------------------------------------------------------------------------------
class SmtpSink:
    """aiosmtpd on 127.0.0.1: a real SMTP server (with AUTH) that keeps what it receives."""

    def __init__(self, port: int, user: str = "mailer", password: str = "s3cret-Pa55"):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages: list[tuple[list[str], bytes]] = []
        self.logins: list[tuple[str, str]] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
                sink.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
            login = (auth_data.login.decode(), auth_data.password.decode())
            sink.logins.append(login)
            return AuthResult(success=login == (user, password))

        self.url = f"smtp://{user}:{password}@127.0.0.1:{port}"
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=authenticator,
                                     auth_require_tls=False)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def wait(self, count: int = 1, timeout: float = 20) -> list[tuple[list[str], bytes]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, "no email arrived"
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp(settings, monkeypatch):  # type: ignore[no-untyped-def]
    sink = SmtpSink(free_port())
    monkeypatch.setenv("FINOPS_SMTP_URL", sink.url)
    monkeypatch.setenv("FINOPS_MAIL_FROM", "FinOps Pack <reviews@consultancy.example>")
    monkeypatch.setenv("FINOPS_BOOKING_URL", "https://cal.example.com/triage")
    with sink:
        yield sink


def test_the_report_email_arrives_with_link_expiry_savings_booking_and_reply_to(
        settings, smtp, local_aws, customer, caplog):
    settings = replace(settings, smtp_url=smtp.url, mail_from="FinOps Pack <reviews@consultancy.example>",
                       booking_url="https://cal.example.com/triage")
    client = create_app(settings).test_client()
    operators.add(connect(settings.db_path), OPERATOR, PASSWORD)
    seed.seed_demo_waste(customer)
    token = start_review(client, company="Acme <b>Widgets</b> & Co", name="Dana O'Brien <script>")
    review_id = review_id_of(client, token)
    notes.set_summary(connect(settings.db_path), review_id, "Start with **the idle NAT gateway** <b>now</b>.")
    form = connect_form(client, token, contact_company="Acme <b>Widgets</b> & Co",
                        contact_name="Dana O'Brien <script>")
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    client.post(f"/reviews/{token}/scan", data=form)
    run_worker_burst(settings)  # the scan, then the email it queued (the quick queue)
    ((recipients, raw),) = smtp.wait()
    assert mail.latest(connect(settings.db_path), review_id)["reply_to"] == OPERATOR
    assert smtp.logins == [("mailer", "s3cret-Pa55")]  # the URL's credentials, used for AUTH
    message = message_from_bytes(raw, policy=policy.default)
    assert sorted(recipients) == sorted(["dana@example.com", OPERATOR])
    assert message["Reply-To"].addresses[0].addr_spec == OPERATOR and message["Cc"] == OPERATOR
    subject = "Your AWS savings review for Acme <b>Widgets</b> & Co: $106.15 a month in usage savings"
    assert message["Subject"].strip() == subject
    text = message.get_body(("plain",)).get_content()
    html_part = message.get_body(("html",)).get_content()
    link = re.search(r"(http://\S+/r/[A-Za-z0-9_-]{43})", text).group(1)
    assert link == f"{settings.base_url}/r/{report_token_of(settings, review_id)}"
    expires = reviews.get_review(connect(settings.db_path), review_id)["expires_at"][:10]
    assert f"The link works until {expires}" in text and "$106.15 per month" in text and "per year" in text
    assert "Commitments, counted apart" in text and "https://cal.example.com/triage" in text
    assert "reply to this email" in text and "deletes it" in text
    assert "Acme &lt;b&gt;Widgets&lt;/b&gt; &amp; Co" in html_part and "<b>Widgets</b>" not in html_part
    assert "Dana O&#39;Brien &lt;script&gt;" in html_part and "<script>" not in html_part
    assert "<strong>the idle NAT gateway</strong>" in html_part and "&lt;b&gt;now&lt;/b&gt;" in html_part
    assert link in html_part and "Book a savings triage call" in html_part
    assert mail.latest(connect(settings.db_path), review_id)["status"] == "sent"
    assert "s3cret-Pa55" not in caplog.text


def test_a_failed_send_is_retried_and_shown_on_the_dashboard_without_the_password(
        settings, local_aws, customer, caplog, monkeypatch):
    dead = f"smtp://mailer:s3cret-Pa55@127.0.0.1:{free_port()}"
    monkeypatch.setenv("FINOPS_SMTP_URL", dead)
    monkeypatch.setenv("FINOPS_MAIL_FROM", "reviews@consultancy.example")
    settings = replace(settings, smtp_url=dead, mail_from="reviews@consultancy.example")
    client = create_app(settings).test_client()
    operators.add(connect(settings.db_path), OPERATOR, PASSWORD)
    review_id, _ = finished_review(client, settings, customer)
    db = connect(settings.db_path)
    message_id = mail.latest(db, review_id)["id"]  # the worker tried once already, after the scan
    row = mail.latest(db, review_id)
    assert row["status"] == "retrying"
    assert row["tries"] == 1 and "smtp://127.0.0.1" in row["last_error"] and "s3cret" not in row["last_error"]
    assert mail.due(db) == []  # the next try waits 30 s
    db.execute("update outbox set next_try_at = '2000-01-01T00:00:00Z' where id = ?", [message_id])
    assert [r["id"] for r in mail.due(db)] == [message_id]  # the worker loop queues it again
    sign_in(client)
    page = client.get(f"/dashboard/reviews/{review_id}").get_data(as_text=True)
    assert "Sending failed (try 1)" in page and "s3cret" not in page
    for _ in range(4):  # tries 2 to 5
        db.execute("update outbox set status = 'retrying' where id = ?", [message_id])
        mail.deliver(db, settings, message_id)
    assert mail.latest(db, review_id)["status"] == "failed"
    assert "Not sent after 5 tries" in client.get(f"/dashboard/reviews/{review_id}").get_data(as_text=True)
    assert "s3cret" not in caplog.text


def test_an_email_whose_worker_died_mid_send_is_tried_again_not_left_sending(settings, smtp, local_aws, customer):
    """A try claims its message ("sending") until CLAIM_EXPIRES: a worker killed mid-send leaves
    that claim behind. Once it has expired the message is due again and the next try sends it; a
    message whose every try lost its worker ends "not sent" with that reason, not "sending" forever."""
    from finops.db import iso, utcnow

    sink = smtp
    settings = replace(settings, smtp_url=sink.url, mail_from="FinOps Pack <reviews@consultancy.example>")
    client = create_app(settings).test_client()
    review_id, _ = finished_review(client, settings, customer)
    db = connect(settings.db_path)
    message_id = mail.latest(db, review_id)["id"]
    assert mail.latest(db, review_id)["status"] == "sent" and len(sink.wait()) == 1
    # What a worker killed between its claim and the SMTP answer leaves: "sending", claimed just now.
    claimed = utcnow()
    db.execute("update outbox set status = 'sending', next_try_at = ? where id = ?",
               [iso(claimed + mail.CLAIM_EXPIRES), message_id])
    assert mail.due(db) == [] and mail.deliver(db, settings, message_id) == "skipped"  # the claim holds
    assert [r["id"] for r in mail.due(db, now=claimed + mail.CLAIM_EXPIRES)] == [message_id]
    db.execute("update outbox set next_try_at = ? where id = ?", [iso(claimed), message_id])  # expired
    assert mail.deliver(db, settings, message_id) == "sent" and len(sink.messages) == 2
    for _ in range(len(mail.RETRY_DELAYS) + 1):  # every later try lost its worker too
        db.execute("update outbox set status = 'sending', next_try_at = ? where id = ?", [iso(claimed), message_id])
        outcome = mail.deliver(db, settings, message_id)
    assert outcome == "failed" and len(sink.messages) == 2 + len(mail.RETRY_DELAYS) - 1
    row = mail.latest(db, review_id)
    assert (row["status"], row["last_error"]) == ("failed", mail.WORKER_LOST)


@pytest.mark.parametrize("url, expected", [
    ("smtp://mail.example.com", ("mail.example.com", 25, False, "auto", None)),
    ("smtp://u%40x.com:p%3Ass@mail.example.com:587?starttls=1", ("mail.example.com", 587, False, "require", "u@x.com")),
    ("smtps://u:Zq9-secret@mail.example.com", ("mail.example.com", 465, True, "off", "u")),
    ("smtp://mail.example.com?starttls=off", ("mail.example.com", 25, False, "off", None)),
])
def test_smtp_urls(url, expected):
    target = mail.parse_smtp_url(url)
    assert (target.host, target.port, target.tls, target.starttls, target.username) == expected
    if target.password:
        assert target.password not in repr(target) and target.password not in str(target)


def test_bad_mail_settings_stop_start_up_with_a_sentence_that_hides_the_password():
    from finops.config import Settings
    from finops.errors import ConfigError

    with pytest.raises(ConfigError, match="must start with smtp") as error:
        Settings.from_env({"FINOPS_SMTP_URL": "http://u:topsecret@host", "FINOPS_MAIL_FROM": "a@b.c"})
    assert "topsecret" not in str(error.value)
    with pytest.raises(ConfigError, match="FINOPS_MAIL_FROM"):
        Settings.from_env({"FINOPS_SMTP_URL": "smtp://host"})
    with pytest.raises(ConfigError, match="FINOPS_BOOKING_URL"):
        Settings.from_env({"FINOPS_BOOKING_URL": "javascript:alert(1)"})


def test_booking_link_on_the_report_and_the_wizards_last_step(settings, local_aws, customer):
    settings = replace(settings, booking_url="https://cal.example.com/triage")
    client = create_app(settings).test_client()
    review_id, token = finished_review(client, settings, customer)
    for page in (client.get(f"/r/{report_token_of(settings, review_id)}"), client.get(f"/reviews/{token}"),
                 client.get("/security")):
        assert 'href="https://cal.example.com/triage"' in page.get_data(as_text=True)
        assert "Book a savings triage call" in page.get_data(as_text=True)


# -- the executive summary ---------------------------------------------------------------------------
def test_the_report_opens_with_an_executive_summary(client, settings, local_aws, customer):
    from finops.sandbox.cost_fixtures import load_demo_costs

    load_demo_costs(local_aws, seed.CUSTOMER_ACCOUNT)
    review_id, _ = finished_review(client, settings, customer)
    page = client.get(f"/r/{report_token_of(settings, review_id)}").get_data(as_text=True)
    order = [page.index(marker) for marker in ('id="executive-summary"', 'id="headline-usage"',
                                                'id="headline-commitments"', 'id="headline-coverage"',
                                                'id="top-actions"', 'id="savings-by-category"', 'id="coverage"',
                                                'id="findings"')]
    assert order == sorted(order)
    summary = page[page.index('id="executive-summary"'):page.index('id="coverage"')]
    assert '<strong id="total-monthly">$106.15</strong>' in summary and "$1,273.80 per year" in summary
    assert summary.count('<li><span class="action-title">') == 5
    assert "<svg" in summary and summary.count("<rect") >= 12 and "<script" not in page.split("</head>")[1]
    assert "Monthly spend" in summary


# -- the command line --------------------------------------------------------------------------------
def cli(settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    return subprocess.run([sys.executable, "-m", "finops.cli", *args], input=stdin, capture_output=True, text=True,
                          timeout=60, env={**__import__("os").environ, "FINOPS_BASE_URL": "https://review.example.com"})


def test_cli_operator_invite_list_delete(client, settings):
    added = cli(settings, "operator", "add", "cli@example.com", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert sign_in(client, "cli@example.com").status_code == 303
    linked = cli(settings, "operator", "add", "later@example.com", stdin="")
    assert re.search(r"^https://review\.example\.com/set-password/[\w-]{43}$", linked.stdout.strip().splitlines()[-1])
    invited = cli(settings, "invite", "--company", "Initech", "--email", "peter@initech.example", "--name", "Peter",
                  "--note", "TPS reports")
    assert invited.returncode == 0, invited.stderr
    url = invited.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"https://review\.example\.com/reviews/[\w-]{43}", url)
    assert "Initech" in client.get(url.replace("https://review.example.com", "")).get_data(as_text=True)
    listed = json.loads(cli(settings, "reviews", "list", "--format", "json").stdout)
    assert [(r["company"], r["status"], r["account_id"], r["monthly_savings"]) for r in listed] == [
        ("Initech", "draft", None, None)]
    assert set(listed[0]) >= {"id", "company", "status", "account_id", "monthly_savings", "expires_at"}
    table = cli(settings, "reviews", "list").stdout
    assert "Initech" in table and listed[0]["id"] in table
    deleted = cli(settings, "reviews", "delete", listed[0]["id"])
    assert deleted.returncode == 0 and json.loads(cli(settings, "reviews", "list", "--format", "json").stdout) == []
    assert reviews.deletions(connect(settings.db_path))[0]["deleted_by"] == "operator via command line"
    unknown = cli(settings, "reviews", "delete", "nope")
    assert unknown.returncode == 2 and "does not exist" in unknown.stderr
    bad = cli(settings, "invite", "--company", "X", "--email", "not-an-email")
    assert bad.returncode == 2 and "does not look like an email address" in bad.stderr


# -- the access log ------------------------------------------------------------------------------------
def test_access_logs_hold_no_token_credential_or_contact_detail(settings, local_aws, customer, tmp_path):
    """`finops-pack serve` as a user runs it; every request of a customer's and an operator's day."""
    import os
    import urllib.request

    db = connect(settings.db_path)
    operators.add(db, OPERATOR, PASSWORD)
    review, invitation = reviews.create_invitation(db, settings, company="Hooli", email="gavin@hooli.example",
                                                   name="Gavin Belson")
    port = free_port()
    env = {**os.environ, "FINOPS_PORT": str(port), "FINOPS_SMTP_URL": "smtp://mailer:s3cret-Pa55@127.0.0.1:1",
           "FINOPS_MAIL_FROM": "reviews@consultancy.example", "FINOPS_BASE_URL": f"http://127.0.0.1:{port}"}
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "finops.cli", "serve"], env=env, stdout=out, stderr=out)
    try:
        wait_for_port(port, proc, log)
        token = invitation.rsplit("/", 1)[1]
        report_token = report_token_of(settings, review["id"])
        base = f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        page = opener.open(f"{base}/sign-in").read().decode()
        form = f"csrf_token={csrf(page)}&email={OPERATOR}&password={PASSWORD.replace(' ', '+')}".encode()
        opener.open(f"{base}/sign-in", data=form)
        for path in (f"/reviews/{token}", f"/reviews/{token}/progress", f"/r/{report_token}.json",
                     "/dashboard/?q=Hooli+gavin%40hooli.example", f"/dashboard/reviews/{review['id']}"):
            try:
                opener.open(base + path).read()
            except urllib.error.HTTPError:
                pass  # the report is not ready: its answer is a 400, and logged too
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    text = log.read_text()
    assert f"GET /reviews/{token[:6]}… HTTP/1.1" in text  # the request log is there, masked
    for secret in (token, report_token, PASSWORD, "s3cret-Pa55", "gavin@hooli.example", "Gavin", "Hooli", "%40"):
        assert secret not in text, secret


def wait_for_port(port: int, proc: subprocess.Popen, log) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            time.sleep(0.1)


def test_gunicorn_access_and_error_logs_are_masked_with_the_readmes_logger_class(settings, local_aws, tmp_path):
    """The production command (README) with gunicorn's access log on: a format naming every atom that can
    carry a link (request line, path, query, raw URI, Referer as atom, header and variable)."""
    import os
    import urllib.request

    review, invitation = reviews.create_invitation(connect(settings.db_path), settings, company="Hooli",
                                                   email="gavin@hooli.example", name="Gavin Belson")
    token, report_token = invitation.rsplit("/", 1)[1], report_token_of(settings, review["id"])
    port, access, errors = free_port(), tmp_path / "access.log", tmp_path / "error.log"
    fmt = "%(r)s|%(U)s|%(q)s|%({raw_uri}e)s|%(f)s|%({referer}i)s|%({http_referer}e)s|%({query_string}e)s"
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "--logger-class", "finops.logs.GunicornLogger", "--access-logfile", str(access), "--error-logfile",
         str(errors), "--access-logformat", fmt, "app:app"],
        env=os.environ.copy(), cwd=Path(__file__).resolve().parent.parent)
    try:
        wait_for_port(port, proc, errors)
        base = f"http://127.0.0.1:{port}"
        for path, referer in ((f"/reviews/{token}?email=gavin%40hooli.example", f"{base}/reviews/{token}?a=Hooli"),
                              (f"/r/{report_token}.json?Hooli=1", f"{base}/r/{report_token}")):
            request = urllib.request.Request(base + path, headers={"Referer": referer})
            try:
                urllib.request.urlopen(request).read()
            except urllib.error.HTTPError:
                pass  # the report is not ready: a 400, logged too
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    lines = access.read_text().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].split("|")[:6] == [
        f"GET /reviews/{token[:6]}…?… HTTP/1.1", f"/reviews/{token[:6]}…", "…", f"/reviews/{token[:6]}…?…",
        f"{base}/reviews/{token[:6]}…?…", f"{base}/reviews/{token[:6]}…?…"]
    # gunicorn's error log goes through the same filter (its "Error handling request <uri>" names the link)
    from gunicorn.config import Config

    from finops.logs import GunicornLogger

    config = Config()
    config.set("errorlog", str(tmp_path / "direct-error.log"))
    GunicornLogger(config).error_log.error("Error handling request %s", f"/reviews/{token}?q=Hooli")
    assert f"Error handling request /reviews/{token[:6]}…?…" in (tmp_path / "direct-error.log").read_text()
    for text in (access.read_text(), errors.read_text(), (tmp_path / "direct-error.log").read_text()):
        for secret in (token, report_token, "gavin", "Hooli", "%40"):
            assert secret not in text, (secret, text)


def test_markdown_notes_module_never_lets_script_through():
    from finops.markup import render

    for hostile in (HOSTILE, "[x](java&#115;cript:alert(1))", "[x](  JaVaScRiPt:alert(1))", "<svg onload=alert(1)>",
                    "[x](data:text/html;base64,PHNjcmlwdD4=)", "![a](https://tracker.example/p.gif)"):
        html = str(render(hostile))
        assert "<script" not in html and "<img" not in html and "<svg" not in html
        assert not re.search(r'href="(?!https?:|mailto:)', html), html


def test_test_connection_is_rate_limited_per_review_with_a_sentence(client, local_aws):
    token = start_review(client)
    page = client.get(f"/reviews/{token}").get_data(as_text=True)
    data = {"csrf_token": csrf(page), "role_arn": "not-an-arn", "external_id": "x"}
    for _ in range(10):
        answer = client.post(f"/reviews/{token}/test-connection", data=data, headers={"HX-Request": "true"})
        assert answer.status_code == 200
    limited = client.post(f"/reviews/{token}/test-connection", data=data, headers={"HX-Request": "true"})
    assert limited.status_code == 429  # swapped by htmx (base.html's responseHandling), so the customer reads it
    assert 'data-code="rate_limited">Too many connection tests for this review.' in limited.get_data(as_text=True)
    other = start_review(client)  # another review from the same address still gets its tests
    page = client.get(f"/reviews/{other}").get_data(as_text=True)
    assert client.post(f"/reviews/{other}/test-connection", data={**data, "csrf_token": csrf(page)},
                       headers={"HX-Request": "true"}).status_code == 200
    assert local_aws.requests() == []


def test_public_signup_is_limited_per_client_address(settings):
    client = create_app(replace(settings, public_signup=True)).test_client()
    form = csrf(client.get("/security").get_data(as_text=True))
    for _ in range(5):
        assert client.post("/reviews", data={"csrf_token": form}).status_code == 303
    limited = client.post("/reviews", data={"csrf_token": form})
    assert limited.status_code == 429 and "Too many reviews were started from your address" in limited.get_data(
        as_text=True)


def test_the_worker_purges_expired_reviews_by_itself(settings, monkeypatch):
    """Retention runs inside the product (every worker's loop), not only from cron."""
    import os

    from finops import maintenance
    from finops.queue import redis_connection

    db = connect(settings.db_path)
    expired = reviews.create_review(db, settings)["id"]
    kept = reviews.create_review(db, settings)["id"]
    db.execute("update reviews set expires_at = '2000-01-01T00:00:00Z' where id = ?", [expired])
    assert maintenance.tick(settings, redis_connection(settings)) == {"mail": 0, "purged": 1}
    assert maintenance.tick(settings, redis_connection(settings))["purged"] == 0  # one purge per interval
    assert reviews.deletions(db)[0]["deleted_by"] == "retention"

    redis_connection(settings).flushall()  # a new interval: a real worker process does it on its own
    again = reviews.create_review(db, settings)["id"]
    db.execute("update reviews set expires_at = '2000-01-01T00:00:00Z' where id = ?", [again])
    worker = subprocess.Popen([sys.executable, "-m", "finops.cli", "worker", "--store"], env=os.environ.copy(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while list(db.query("select id from reviews where id = ?", [again])):
            assert time.monotonic() < deadline, "the worker did not purge the expired review"
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=15)
    assert reviews.get_review(db, kept)
