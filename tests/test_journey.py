"""The whole journey in Chromium, with screenshots: the operator signs in and invites a customer,
the customer follows the invitation through the wizard and the CloudFormation commands against the
local AWS, the scan runs, the report email arrives at a real SMTP server (aiosmtpd), the report
opens from it, the customer deletes it, and its link then answers 410. Also: hostile notes run
nothing in the browser, and the report prints to a clean PDF."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from finops import notes, operators
from finops.db import connect
from finops.sandbox import seed
from finops.web import create_app
from tests.conftest import free_port
from tests.helpers import report_token_of
from tests.test_browser import page  # noqa: F401 - the Chromium fixture
from tests.test_iam_deploy import code_block, run_as_customer
from tests.test_workspace import HOSTILE, OPERATOR, PASSWORD, SmtpSink

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "journey"
BOOKING = "https://cal.example.com/triage"

pytestmark = pytest.mark.browser


def shot(tab, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def smtp(settings, monkeypatch, port) -> Iterator[SmtpSink]:  # type: ignore[no-untyped-def]
    sink = SmtpSink(free_port())
    monkeypatch.setenv("FINOPS_BASE_URL", f"http://127.0.0.1:{port}")  # the worker writes links with it
    monkeypatch.setenv("FINOPS_SMTP_URL", sink.url)
    monkeypatch.setenv("FINOPS_MAIL_FROM", "FinOps Pack <reviews@consultancy.example>")
    monkeypatch.setenv("FINOPS_BOOKING_URL", BOOKING)
    with sink:
        yield sink


@pytest.fixture
def mail_settings(settings, smtp, port):  # type: ignore[no-untyped-def]
    return replace(settings, smtp_url=smtp.url, mail_from="FinOps Pack <reviews@consultancy.example>",
                   booking_url=BOOKING, base_url=f"http://127.0.0.1:{port}")


@pytest.fixture
def server(mail_settings, port) -> Iterator[str]:  # type: ignore[no-untyped-def]
    app = create_app(mail_settings)
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture
def mail_worker(mail_settings) -> Iterator[subprocess.Popen]:  # type: ignore[no-untyped-def]
    proc = subprocess.Popen([sys.executable, "-m", "finops.cli", "worker", "--store"], env=os.environ.copy(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait(timeout=15)


def test_operator_invites_customer_scans_gets_the_email_opens_the_report_and_deletes_it(
        mail_settings, smtp, server, mail_worker, page, local_aws, customer, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    seed.seed_demo_waste(customer)
    operators.add(connect(mail_settings.db_path), OPERATOR, PASSWORD)

    # The operator signs in (the dashboard sends a visitor to the sign-in page) ...
    page.goto(server + "/dashboard/")
    page.wait_for_selector("#sign-in")
    shot(page, "01-sign-in")
    page.fill("#email", OPERATOR)
    page.fill("#password", PASSWORD)
    page.click("#sign-in-button")
    page.wait_for_selector("#no-reviews")
    shot(page, "02-dashboard-empty")

    # ... and creates an invitation for the customer.
    page.click("#new-invitation-button")
    page.fill("#company", "Example Corp")
    page.fill("#contact_name", "Dana Customer")
    page.fill("#contact_email", "dana@example.com")
    page.fill("#note", "Referred by Sam; wants it before the budget meeting")
    shot(page, "03-new-invitation")
    page.click("#create-invitation")
    invitation = page.inner_text("#invitation-url").strip()
    assert invitation.startswith(server + "/reviews/")
    shot(page, "04-invitation-created")

    # The customer, in their own browser, follows the invitation into the wizard.
    customer_tab = page.context.browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    errors: list[str] = []
    customer_tab.on("pageerror", lambda exc: errors.append(str(exc)))
    customer_tab.goto(invitation)
    customer_tab.wait_for_selector("#external-id")
    assert "Example Corp" in customer_tab.inner_text("h1")
    assert customer_tab.input_value("#contact_email") == "dana@example.com"
    shot(customer_tab, "05-customer-wizard")

    # The CloudFormation path, with the wizard's exact commands, against the local AWS.
    (tmp_path / "finops-pack-readonly.yaml").write_bytes(
        customer_tab.request.get(server + "/iam/finops-pack-readonly.yaml").body())
    commands = code_block(customer_tab.content(), "cfn-create-commands")
    role_arn = run_as_customer(commands, tmp_path, customer, local_aws).strip().splitlines()[-1]
    assert role_arn == "arn:aws:iam::222222222222:role/finops-pack-readonly"

    customer_tab.fill("#role_arn", role_arn)
    customer_tab.click("#test-connection")
    customer_tab.wait_for_selector("#connection-message.result-ok", timeout=30_000)  # a worker assumed the role
    assert customer_tab.inner_text("#connection-message").startswith("Connected to account 222222222222")
    shot(customer_tab, "06-test-connection")
    local_aws.set_faults(latency_ms=150)  # a scan of a few seconds, for the operator to watch
    customer_tab.click("#start-scan")
    # Meanwhile the operator opens the review from the dashboard: while the scan runs, the page follows
    # it without a reload (status badge, progress, then the report link).
    page.goto(server + "/dashboard/")
    page.click("tr.review-row a.customer")
    assert page.text_content("#review-status") in ("queued", "running")
    page.evaluate("window.finopsNotReloaded = true")  # a reload would drop it
    customer_tab.wait_for_selector("#report-link", timeout=90_000)
    local_aws.set_faults()
    assert "We also email its link to dana@example.com" in customer_tab.inner_text("#progress")
    assert customer_tab.get_attribute("#book-call", "href") == BOOKING  # the wizard's last step
    shot(customer_tab, "07-scan-complete")

    # The report email arrives at the SMTP server, with the report link.
    ((recipients, raw),) = smtp.wait(timeout=60)
    message = message_from_bytes(raw, policy=policy.default)
    assert "dana@example.com" in recipients and message["Reply-To"].addresses[0].addr_spec == OPERATOR
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"(http://127\.0\.0\.1:\d+/r/[A-Za-z0-9_-]{43})", text).group(1)
    assert BOOKING in text

    expect(page.locator("#review-status")).to_have_text("complete", timeout=15_000)
    expect(page.locator("#report-url")).to_have_count(1)
    expect(page.locator("#facts")).to_contain_text("222222222222")  # the account, known once scanned
    expect(page.locator("#mail-status")).to_have_count(1)  # and the report email's card
    assert page.evaluate("window.finopsNotReloaded") is True
    shot(page, "07b-operator-page-followed-the-scan")

    # The operator sees it finished, the email sent, on the dashboard.
    page.goto(server + "/dashboard/")
    expect(page.locator("tr.review-row [data-status]")).to_have_text("complete")
    assert "$106.15" in page.inner_text("#reviews") and "email sent" in page.inner_text("#reviews")
    shot(page, "08-dashboard-complete")

    # The customer opens the report from the email.
    response = customer_tab.goto(link)
    assert response.status == 200
    customer_tab.wait_for_selector("#executive-summary")
    assert customer_tab.inner_text("#account-id") == "222222222222"
    assert customer_tab.inner_text("#total-monthly") == "$106.15"
    assert customer_tab.get_attribute("#book-call", "href") == BOOKING
    shot(customer_tab, "09-report-from-email")

    # ... and deletes it: the link then answers 410.
    customer_tab.click("#delete-report")
    customer_tab.wait_for_selector("#deleted")
    shot(customer_tab, "10-deleted")
    gone = customer_tab.goto(link)
    assert gone.status == 410
    assert "This review was deleted" in customer_tab.inner_text("h1")
    shot(customer_tab, "11-link-answers-410")
    assert errors == []

    page.goto(server + "/dashboard/")
    page.click("#deletions summary")
    assert "customer via report link" in page.inner_text("#deletions")
    assert page.locator("tr.review-row").count() == 0
    shot(page, "12-dashboard-deletion-audit")


def test_hostile_notes_run_nothing_in_chromium(settings, page, local_aws, customer):  # noqa: F811
    from tests.test_workspace import finished_review

    app = create_app(settings)
    client = app.test_client()
    review_id, _ = finished_review(client, settings, customer)
    db = connect(settings.db_path)
    notes.set_summary(db, review_id, HOSTILE + "\n\n<svg onload=alert(4)></svg>\n\n[y](jav\tascript:alert(5))")
    uid = db.execute("select uid from findings where review_id = ? limit 1", [review_id]).fetchone()[0]
    notes.set_finding_note(db, review_id, uid, "<iframe srcdoc='<script>alert(6)</script>'></iframe>", "test")
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(f"http://127.0.0.1:{httpd.server_port}/r/{report_token_of(settings, review_id)}")
        page.wait_for_selector("#consultant-summary")
        hrefs = page.eval_on_selector_all("#consultant-summary a, .finding-note a", "els => els.map(e => e.href)")
        assert hrefs == ["https://example.com/plan"]
        assert page.locator("#consultant-summary script, #consultant-summary img, #consultant-summary svg, "
                            "iframe").count() == 0
        assert "<script>alert(1)</script>" in page.inner_text("#consultant-summary")  # shown as text
        page.locator("#consultant-summary").screenshot(path=str(_artifact("hostile-notes")))
    finally:
        httpd.shutdown()
    assert dialogs == []


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"


def test_the_report_prints_to_a_clean_pdf(settings, page, local_aws, customer):  # noqa: F811
    from pypdf import PdfReader

    from finops.sandbox.cost_fixtures import load_demo_costs
    from tests.test_workspace import finished_review

    load_demo_costs(local_aws, seed.CUSTOMER_ACCOUNT)
    app = create_app(settings)
    review_id, _ = finished_review(app.test_client(), settings, customer)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{httpd.server_port}/r/{report_token_of(settings, review_id)}")
        page.wait_for_selector("#executive-summary")
        page.emulate_media(media="print")
        assert not page.locator("header.top").is_visible() and not page.locator("#delete-report").is_visible()
        assert page.locator("#spend-chart svg[role=img]").is_visible()
        printed = page.inner_text("main")
        pdf = page.pdf(format="A4", print_background=True)
    finally:
        httpd.shutdown()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # this test may be the first of its file on its xdist worker
    (ARTIFACTS / "report.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 4  # the summary, then each section from a new page
    first = reader.pages[0].extract_text()
    assert "222222222222" in first and "$106.15" in first and "Executive summary" in first
    assert "Security model" not in first and "Delete it now" not in "".join(p.extract_text() for p in reader.pages)
    assert "222222222222" in printed and "$106.15" in printed
    starts = [p.extract_text().strip().splitlines()[0] for p in reader.pages[1:] if p.extract_text().strip()]
    assert any(line.startswith("What was read") for line in starts)  # a section opens its page
