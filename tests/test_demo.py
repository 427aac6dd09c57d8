"""The README's first command: `finops-pack demo` runs the product and a review to its report,
and stops (SIGTERM, or SIGKILL) without leaving its worker or Redis running."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from decimal import Decimal

from finops import reviews
from finops.checks import discover
from finops.db import connect
from finops.sandbox import seed
from tests.conftest import free_port
from tests.helpers import descendants, fired_checks, wait_until_gone


def start_demo(tmp_path, port: int, output: list[str] | None = None) -> tuple[subprocess.Popen, str]:
    """The demo command as a user runs it; returns it and its review's URL once it printed it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FINOPS_"))}
    env.update({"FINOPS_PORT": str(port), "FINOPS_DB_PATH": str(tmp_path / "demo.db"), "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "finops.cli", "demo"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )
    output = [] if output is None else output
    deadline = time.time() + 120
    try:
        while True:
            assert time.time() < deadline, "".join(output[-40:])
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "demo exited:\n" + "".join(output[-40:])
            output.append(line)
            found = re.search(r"Demo review running: (http://127\.0\.0\.1:\d+/reviews/[\w-]+)", line)
            if found:
                # Keep reading, so the demo never blocks on a full pipe.
                threading.Thread(target=proc.stdout.read, daemon=True).start()
                return proc, found.group(1)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise


def test_demo_runs_a_review_to_a_report_on_which_every_check_fires(tmp_path):
    port = free_port()
    output: list[str] = []
    proc, url = start_demo(tmp_path, port, output)
    try:
        started = time.time()
        opened = None
        while opened is None:
            assert time.time() - started < 120, "the demo review did not finish within 2 minutes"
            page = urllib.request.urlopen(url, timeout=10).read().decode()  # noqa: S310 - loopback
            found = re.search(r'href="(/reviews/[\w-]+/report)"', page)
            opened = found.group(1) if found else None
            time.sleep(0.5)
        report_url = urllib.request.urlopen(f"http://127.0.0.1:{port}{opened}", timeout=10).geturl()  # noqa: S310
        report = json.loads(urllib.request.urlopen(report_url + ".json", timeout=10).read())  # noqa: S310
        dashboard = signed_in_dashboard(port, "".join(output))
        organization_url = re.search(r"Demo organization review \(ready to start\): (http://\S+)",
                                     "".join(output)).group(1)
        organization_wizard = urllib.request.urlopen(organization_url, timeout=10).read().decode()  # noqa: S310
    finally:
        children = descendants(proc.pid)  # its Redis and its worker
        os.killpg(proc.pid, signal.SIGTERM)  # a terminal's Ctrl+C, a supervisor's stop
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            code = None
    assert report["account_id"] == seed.CUSTOMER_ACCOUNT
    assert report["status"] == "complete" and report["gaps"] == []
    assert set(discover()) - fired_checks(report) == set()  # the figures are checked in test_demo_account.py
    usage = sum(Decimal(f["monthly_savings"]) for f in report["findings"] if f["monthly_savings"] is not None)
    assert Decimal(report["totals"]["monthly_savings"]) == usage > 0
    assert Decimal(report["totals"]["commitment_monthly_savings"]) > 0
    assert report["spend"]["by_month"] and report["scan_cost"]["requests"] <= 8
    # The demo operator's dashboard shows the finished review (mail is off: its report link to copy).
    assert "Example Corp" in dashboard and "complete" in dashboard and "Mail is off" in dashboard
    # Beside it, the demo offers an organization review: the wizard opens on "My whole organization".
    assert 'value="organization" id="scope-organization" checked' in organization_wizard
    assert 'id="stackset-create-commands"' in organization_wizard
    assert "finops-pack-demo-org-readonly" in "".join(output) and "Example Group" in dashboard
    assert code == 0, "the demo did not stop cleanly on SIGTERM"
    commands = " ".join(c.cmdline for c in children)
    assert "redis-server" in commands and "finops.cli worker" in commands
    assert wait_until_gone(children, timeout=3) == [], "left running after the demo stopped"


def test_demo_killed_with_sigkill_takes_its_worker_scan_and_redis_with_it(tmp_path):
    proc, url = start_demo(tmp_path, free_port())
    db = connect(tmp_path / "demo.db")
    try:
        deadline = time.time() + 20
        # A work-horse of the scanning worker, while the review's scan reads (that worker also takes
        # the short store-queue jobs when it is free: a horse alone may be one of those).
        while not (_scan_process(children := descendants(proc.pid)) and _scan_reading(db, url)):
            assert time.time() < deadline, f"no scan running under the demo: {children}"
            time.sleep(0.1)
        assert any("redis-server" in c.cmdline for c in children), children
        proc.kill()  # as an out-of-memory kill would
        proc.wait(timeout=10)
        assert wait_until_gone(children, timeout=5) == [], "children outlived a SIGKILLed demo"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # The worker saw its parent go and said so on the review before it exited.
    review = reviews.get_by_invitation(db, url.rsplit("/", 1)[1])
    assert (review["status"], review["error_code"]) == ("failed", "scan_interrupted")


def signed_in_dashboard(port: int, printed: str) -> str:
    """Sign in with the credentials the demo printed; the dashboard's HTML."""
    import http.cookiejar
    import urllib.parse

    from tests.helpers import csrf

    email, password = re.search(r"sign in as (\S+) with password (\S+)\)", printed).groups()
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = csrf(opener.open(f"{base}/sign-in", timeout=10).read().decode())
    body = urllib.parse.urlencode({"csrf_token": form, "email": email, "password": password}).encode()
    page = opener.open(f"{base}/sign-in", data=body, timeout=10)
    assert page.geturl() == f"{base}/dashboard/"
    return page.read().decode()


def _scan_reading(db, url: str) -> bool:  # type: ignore[no-untyped-def]
    """The demo review's scan has connected to the account and is not done."""
    review = reviews.get_by_invitation(db, url.rsplit("/", 1)[1])
    said = [s["message"] for s in reviews.steps(db, review["id"])]
    return any("Connected to account" in m for m in said) and not any("Report ready" in m for m in said)


def _scan_process(children: list) -> bool:
    """RQ's work-horse of the scanning worker (not of the one that takes no scan): its parent."""
    workers = {c.pid for c in children if "finops.cli worker" in c.cmdline and "--no-scan" not in c.cmdline}
    return any(c.ppid in workers for c in children)
