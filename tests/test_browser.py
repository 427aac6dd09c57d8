"""A customer in headless Chromium (Debian's): start a review, connect, watch it run, read the report."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from finops import iam_policy
from finops.sandbox import seed
from tests.helpers import start_review

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser"
WIZARD_ARTIFACTS = ARTIFACTS.parent / "wizard"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def worker(settings) -> Iterator[subprocess.Popen]:  # type: ignore[no-untyped-def]
    proc = subprocess.Popen([sys.executable, "-m", "finops.cli", "worker", "--store"], env=os.environ.copy(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield proc
    proc.terminate()  # RQ's warm shutdown: it waits for the scan in progress...
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.terminate()  # ...and a second SIGTERM is its cold shutdown (a test that stops mid-scan)
        proc.wait(timeout=15)


@pytest.fixture
def page() -> Iterator:  # type: ignore[type-arg]
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `make test` (it installs Debian's chromium)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        tab = browser.new_page(viewport={"width": 1100, "height": 900})
        errors: list[str] = []
        tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.console_errors = errors  # type: ignore[attr-defined]
        yield tab
        browser.close()
        assert errors == [], f"browser console errors (CSP violations show up here): {errors}"


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def wizard_shot(page, name: str, selector: str | None = None) -> None:  # type: ignore[no-untyped-def]
    WIZARD_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = str(WIZARD_ARTIFACTS / f"{name}.png")
    if selector:
        page.locator(selector).screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=True)


def test_customer_watches_the_review_run_to_the_report(app, live_server, worker, page, customer):
    seed.seed_demo_waste(customer)
    invitation = start_review(app.test_client())  # the operator's invitation link, which the customer follows
    page.goto(f"{live_server}/reviews/{invitation}")
    page.wait_for_selector("#external-id")
    external_id = page.inner_text("#external-id").strip()
    assert page.input_value("#external_id") == external_id  # pre-filled for the customer
    shot(page, "02-review-external-id")

    role_arn = seed.create_scanner_role(customer, external_id)
    page.fill("#role_arn", "arn:aws-cn:iam::222222222222:role/finops-pack-readonly")
    page.fill("#contact_name", "Dana Customer")
    page.fill("#contact_email", "dana@example.com")
    page.click("#start-scan")
    assert "GovCloud and China need a separate deployment" in page.inner_text("#form-error")
    assert page.input_value("#contact_email") == "dana@example.com"  # nothing typed is lost
    shot(page, "03-china-arn-refused")
    assert page.console_errors == ["Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"]
    page.console_errors.clear()  # that 400 was the refused form, on purpose

    page.fill("#role_arn", role_arn)
    page.click("#start-scan")
    page.wait_for_selector("#progress")
    shot(page, "04-progress")
    page.wait_for_selector("#report-link", timeout=90_000)  # htmx polls, then reloads when done (17 regions)
    assert page.inner_text("#review-status") == "COMPLETE" or page.inner_text("#review-status").lower() == "complete"
    assert "Report ready" in page.inner_text("#step-log")
    shot(page, "05-complete")

    page.click("#report-link")
    page.wait_for_selector("#findings")
    assert page.inner_text("#account-id") == "222222222222"
    assert page.inner_text("#total-monthly") == "$106.15"
    assert page.locator("tr.finding").count() == 5
    shot(page, "06-report")
    # The report says how to remove access, for both ways of creating the role.
    assert "aws cloudformation wait stack-delete-complete --stack-name finops-pack-readonly" in page.inner_text(
        "#remove-cfn-commands")
    assert "aws iam delete-role --role-name finops-pack-readonly" in page.inner_text("#remove-manual-commands")
    wizard_shot(page, "08-report-remove-access", "#remove-access")


def test_customer_walks_the_wizard_from_the_security_page_to_a_running_review(app, live_server, worker, page,
                                                                               customer):
    """Security model -> External ID (copied) -> create the role -> Test connection -> Start the scan."""
    from playwright.sync_api import expect

    invitation = start_review(app.test_client())
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page.goto(live_server + "/")  # a visitor without a link lands on the security model
    page.wait_for_selector("#default-policy")
    assert page.inner_text("#unsupported-regions").startswith("Unsupported regions")
    assert '"Effect": "Deny"' in page.inner_text("#default-policy")
    assert "Reviews start from an invitation" in page.inner_text("#next-step")
    wizard_shot(page, "01-security-model")

    page.goto(f"{live_server}/reviews/{invitation}")  # the invitation link the customer was sent
    page.wait_for_selector("#external-id")
    external_id = page.inner_text("#external-id").strip()
    page.click("#copy-external-id")
    expect(page.locator("#copy-external-id")).to_have_text("Copied")  # (no wait_for_function: the CSP forbids eval)
    assert page.evaluate("navigator.clipboard.readText()") == external_id
    wizard_shot(page, "02-review-external-id")

    page.click("#path-cloudformation button.copy")  # the create-stack commands, exactly as the customer pastes them
    expect(page.locator("#path-cloudformation button.copy")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == iam_policy.cloudformation_create_commands(
        external_id, seed.DEFAULT_SCANNER_PRINCIPAL)
    assert page.locator("#path-cloudformation").is_visible() and page.locator("#path-manual").is_visible()
    box_cfn = page.locator("#path-cloudformation").bounding_box()
    box_manual = page.locator("#path-manual").bounding_box()
    assert box_cfn["y"] == box_manual["y"] and box_cfn["x"] < box_manual["x"]  # side by side
    wizard_shot(page, "03-create-the-role", "#step-create-role")

    # The customer creates the role (the manual path: the same trust and permissions policies).
    role_arn = seed.create_scanner_role(customer, external_id)

    # An expired form (no CSRF token) is refused, and the page says so instead of failing silently.
    page.evaluate("document.querySelector('#csrf_token').remove()")
    page.fill("#role_arn", role_arn)
    page.click("#test-connection")
    expect(page.locator("#connection-message")).to_have_text(
        "The connection could not be tested: reload the page and try again.")
    assert [e for e in page.console_errors if "400" not in e] == []
    page.console_errors.clear()  # htmx logs the refused 400, on purpose
    page.reload()

    page.fill("#role_arn", role_arn.replace("finops-pack-readonly", "finops-pack-readonlyy"))
    page.click("#test-connection")
    page.wait_for_selector("#connection-message.result-bad")
    assert page.inner_text("#connection-message").startswith("Role not found, or it does not trust the FinOps Pack")
    wizard_shot(page, "04-test-connection-not-trusted", "#step-connect")

    page.fill("#role_arn", role_arn)
    page.click("#test-connection")
    page.wait_for_selector("#connection-message.result-ok")
    assert page.inner_text("#connection-message").startswith("Connected to account 222222222222")
    page.fill("#contact_name", "Dana Customer")
    page.fill("#contact_email", "dana@example.com")
    wizard_shot(page, "05-test-connection-connected", "#step-connect")

    wizard_shot(page, "06-remove-access", "#step-remove-access")
    assert "aws iam delete-role-policy" in page.inner_text("#remove-manual-commands")

    page.click("#start-scan")
    page.wait_for_selector("#progress")
    expect(page.locator("#review-status")).to_have_text(re.compile(r"^\s*(running|complete|partial)\s*$"),
                                                        timeout=30_000)
    assert page.locator("#step-connect").count() == 0  # the setup steps give way to the scan
    assert page.locator("#step-remove-access").is_visible()
    wizard_shot(page, "07-review-running")
