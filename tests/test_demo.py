"""The README's first command: `finops-pack demo` runs the product and a review to its report."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal

from finops.sandbox import seed
from tests.conftest import free_port


def test_demo_runs_a_review_to_a_report_with_the_seeded_waste(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FINOPS_"))}
    env.update({"FINOPS_PORT": str(port), "FINOPS_DB_PATH": str(tmp_path / "demo.db"), "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "finops.cli", "demo"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )
    output: list[str] = []
    try:
        deadline = time.time() + 120
        url = None
        while url is None:
            assert time.time() < deadline, "".join(output[-40:])
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "demo exited:\n" + "".join(output[-40:])
            output.append(line)
            found = re.search(r"Demo review running: (http://127\.0\.0\.1:\d+/reviews/[\w-]+)", line)
            url = found.group(1) if found else None
        started = time.time()
        token = None
        while token is None:
            assert time.time() - started < 120, "the demo review did not finish within 2 minutes"
            page = urllib.request.urlopen(url, timeout=10).read().decode()  # noqa: S310 - loopback
            found = re.search(r'href="/r/([\w-]+)"', page)
            token = found.group(1) if found else None
            time.sleep(0.5)
        report = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/r/{token}.json", timeout=10).read())  # noqa: S310
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    assert report["account_id"] == seed.CUSTOMER_ACCOUNT
    got = {(f["check_id"], f["region"]): Decimal(f["monthly_savings"]) for f in report["findings"]}
    assert got == seed.DEMO_WASTE
    assert report["spend"]["by_month"] and report["scan_cost"]["requests"] <= 8
