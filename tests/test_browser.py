"""A customer in headless Chromium (Debian's): start a review, connect, watch it run, read the report."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from finops.sandbox import seed

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser"
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
    proc = subprocess.Popen([sys.executable, "-m", "finops.cli", "worker"], env=os.environ.copy(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield proc
    proc.terminate()
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


def test_customer_watches_the_review_run_to_the_report(live_server, worker, page, customer):
    seed.seed_demo_waste(customer)
    page.goto(live_server + "/")
    shot(page, "01-home")
    page.click("#start-review")
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
    page.wait_for_selector("#report-link", timeout=60_000)  # htmx polls, then reloads when done
    assert page.inner_text("#review-status") == "COMPLETE" or page.inner_text("#review-status").lower() == "complete"
    assert "Report ready" in page.inner_text(".step-log")
    shot(page, "05-complete")

    page.click("#report-link")
    page.wait_for_selector("#findings")
    assert page.inner_text("#account-id") == "222222222222"
    assert page.inner_text("#total-monthly") == "$106.15"
    assert page.locator("tr.finding").count() == 5
    shot(page, "06-report")
