"""Load benchmark: the production shape on loopback, under reviews and report readers at once.

    python bench/load.py            # or: make load   (about two minutes on 2 cores)

- gunicorn with 4 workers serving ``app:app``, 2 ``finops-pack worker`` processes, a real
  ``redis-server``, a SQLite file: the README's production shape, all on 127.0.0.1;
- the local AWS (moto + our front) with the demo account seeded, and 40 ms per AWS call;
- a stored review with 2,000 findings (synthetic, written through the product's own
  ``reviews.store_result``) and the demo review, whose report pages the readers fetch.

Each reader is a person: opens a page (the 2,000-finding report, the demo report as HTML and
JSON, the security page, in turn), reads it for 1 to 3 s, opens the next (``--think 0 0`` makes
them hammer back to back instead: a stress figure, not the target). Two phases in the same run:
**idle** (50 readers, nothing else runs: the baseline), then **under load** (5 customers submit
their wizard forms at once and the 2 workers scan, while the same 50 keep reading). For each
phase and page kind: requests, errors, p50, p95 and max milliseconds. Targets (issue 10): p95
under 500 ms, no errors, and the 2,000-finding report served in under 200 ms (its p95, idle).
Prints a table and a ``BENCH_JSON`` line, writes ``bench/results/load.json``; exits 1 when a
target is missed or anything left 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
NETGUARD_DIR = ROOT / "tests" / "netguard"
sys.path[:0] = [str(ROOT), str(NETGUARD_DIR)]
os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"

import netguard  # noqa: E402  the tests' loopback-only guard

# One log for this process and the readers' process (which inherits the variable).
NETGUARD_LOG = Path(os.environ.setdefault("FINOPS_LOAD_NETGUARD_LOG",
                                          str(Path(tempfile.mkdtemp(prefix="finops-load-")) / "netguard.log")))
NETGUARD_LOG.touch()
netguard.install(str(NETGUARD_LOG))

from finops.config import Settings  # noqa: E402
from finops.lifecycle import stop_all  # noqa: E402
from finops.sandbox import large_review, seed  # noqa: E402
from finops.sandbox.demo_account import load_demo_cost_data, seed_demo_account  # noqa: E402
from finops.sandbox.server import LocalAWS  # noqa: E402

READERS = 50
GUNICORN_WORKERS = 4
REVIEWS = 5
LATENCY_MS = 40
THINK_SECONDS = (1.0, 3.0)  # a reader looks at a page for 1 to 3 s (uniform) before opening the next
TARGET_P95_MS = 500.0
TARGET_BIG_REPORT_MS = 200.0
BIG_REPORT_FINDINGS = 2000
SECRET = "load-benchmark-secret-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()  # noqa: S310 - loopback
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {timeout} s")


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = {}
        self.errors: dict[str, list[str]] = {}

    def add(self, kind: str, ms: float | None, error: str | None = None) -> None:
        with self.lock:
            if error is not None:
                self.errors.setdefault(kind, []).append(error)
            else:
                self.samples.setdefault(kind, []).append(ms or 0.0)

    def summary(self) -> dict[str, dict]:
        out = {}
        for kind in sorted(set(self.samples) | set(self.errors)):
            values = sorted(self.samples.get(kind, []))
            out[kind] = {
                "requests": len(values) + len(self.errors.get(kind, [])), "errors": len(self.errors.get(kind, [])),
                "p50_ms": round(statistics.median(values), 1) if values else None,
                "p95_ms": round(values[max(int(0.95 * len(values)) - 1, 0)], 1) if values else None,
                "max_ms": round(values[-1], 1) if values else None,
                "error_examples": self.errors.get(kind, [])[:3],
            }
        return out


def reader(base: str, pages: dict[str, str], stop: threading.Event, record: Recorder, think: tuple[float, float],
           seed: int) -> None:
    """One person reading reports: open a page, read it for a moment, open the next."""
    kinds = list(pages)
    rng = random.Random(seed)
    n = seed
    while not stop.wait(rng.uniform(*think) if n > seed else rng.uniform(0, think[1])):
        kind = kinds[n % len(kinds)]
        n += 1
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(base + pages[kind], timeout=30) as response:  # noqa: S310 - loopback
                response.read()
            record.add(kind, (time.perf_counter() - started) * 1000)
        except Exception as error:  # a failed read is a counted error, never a crash of the benchmark
            record.add(kind, None, f"{type(error).__name__}: {error}")


def read_in_process(base: str, pages: dict[str, str], readers: int, think: tuple[float, float], stop: Any,
                    results: Any) -> None:
    """The readers, in a process of their own: their client work never competes with the local AWS for a GIL."""
    record, done = Recorder(), threading.Event()
    threads = [threading.Thread(target=reader, args=(base, pages, done, record, think, n), daemon=True)
               for n in range(readers)]
    for thread in threads:
        thread.start()
    stop.wait()
    done.set()
    for thread in threads:
        thread.join(timeout=60)
    results.put((record.samples, record.errors))


def submit_wizard(base: str, invitation_path: str, role_arn: str, external_id: str, record: Recorder) -> None:
    """The customer's wizard form, as a browser posts it (CSRF token and session cookie)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    started = time.perf_counter()
    page = opener.open(base + invitation_path, timeout=30).read().decode()  # noqa: S310 - loopback
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the wizard page"
    form = {"csrf_token": token.group(1) or token.group(2), "role_arn": role_arn, "external_id": external_id,
            "contact_name": "Load Tester", "contact_email": "load@example.com", "contact_company": "Load Co"}
    data = urllib.parse.urlencode(form).encode()
    with opener.open(base + invitation_path + "/scan", data=data, timeout=30) as response:  # noqa: S310 - loopback
        response.read()
    record.add("wizard submit", (time.perf_counter() - started) * 1000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=READERS)
    parser.add_argument("--reviews", type=int, default=REVIEWS)
    parser.add_argument("--idle-seconds", type=float, default=20)
    parser.add_argument("--think", type=float, nargs=2, default=THINK_SECONDS, metavar=("MIN", "MAX"),
                        help="seconds each reader spends on a page before the next (0 0: back to back)")
    parser.add_argument("--output", default=str(BENCH / "results" / "load.json"))
    args = parser.parse_args()
    if not shutil.which("gunicorn", path=str(Path(sys.executable).parent)):
        raise SystemExit("gunicorn is not installed: pip install -e '.[prod]' (make load does)")
    redis_binary = shutil.which("redis-server", path="/usr/bin:/usr/local/bin") or shutil.which("redis-server")
    if not redis_binary:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="finops-load-"))
    procs: list[subprocess.Popen] = []
    local = LocalAWS().start()
    try:
        local.set_faults(latency_ms=LATENCY_MS)
        os.environ.update(local.env())
        redis_port, web_port = free_port(), free_port()
        procs.append(subprocess.Popen(
            [redis_binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        base = f"http://127.0.0.1:{web_port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FINOPS_")}
        env.update({
            "FINOPS_DB_PATH": str(workdir / "finops.db"), "FINOPS_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "FINOPS_SECRET_KEY": SECRET, "FINOPS_BASE_URL": base, "FINOPS_REGIONS": "us-east-1,eu-west-1",
            "FINOPS_SCANNER_PRINCIPAL_ARN": seed.DEFAULT_SCANNER_PRINCIPAL, "FINOPS_LOG_LEVEL": "WARNING",
            "NETGUARD_LOG": str(NETGUARD_LOG), "PYTHONPATH": os.pathsep.join([str(NETGUARD_DIR), str(ROOT)]),
        })
        os.environ.update({k: v for k, v in env.items() if k.startswith("FINOPS_")})
        settings = Settings.from_env()

        print("Seeding the demo account and a 2,000-finding review ...", flush=True)
        customer = seed.customer_admin()
        demo = seed_demo_account(customer)
        load_demo_cost_data(local, demo)
        from finops import links, reviews
        from finops.db import connect

        db = connect(settings.db_path)
        _, big_path = large_review.create(db, settings, BIG_REPORT_FINDINGS)
        invitations = []
        for n in range(args.reviews + 1):  # the first is the demo review the readers read
            review, url = reviews.create_invitation(db, settings, company=f"Customer {n}", email=f"c{n}@example.com")
            role = seed.create_scanner_role(customer, review["external_id"], name=f"finops-load-{n}")
            invitations.append((review["id"], urllib.parse.urlparse(url).path, role, review["external_id"]))

        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        procs.append(subprocess.Popen([gunicorn, "--workers", str(GUNICORN_WORKERS), "--bind",
                                       f"127.0.0.1:{web_port}", "--log-level", "warning", "--logger-class",
                                       "finops.logs.GunicornLogger", "app:app"],
                                      cwd=ROOT, env=env))
        for _ in range(2):
            procs.append(subprocess.Popen([sys.executable, "-m", "finops.cli", "worker", "--store"], cwd=ROOT, env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(base + "/healthz")

        # The demo review, scanned first so its report exists to be read.
        first_id, first_path, first_role, first_xid = invitations[0]
        warm = Recorder()
        submit_wizard(base, first_path, first_role, first_xid, warm)
        deadline = time.time() + 180
        while reviews.get_review(db, first_id)["status"] not in ("complete", "partial", "failed"):
            assert time.time() < deadline, "the first review did not finish"
            time.sleep(0.5)
        demo_path = "/r/" + links.ensure_token(db, settings, reviews.get_review(db, first_id), links.REPORT)
        pages = {"report 2,000 findings (HTML)": big_path, "demo report (HTML)": demo_path,
                 "demo report (JSON)": demo_path + ".json", "security page": "/security"}

        # Each of gunicorn's workers builds a report's model once, then shares it between readers:
        # warm them all first, so the phases measure the steady state (bench/report.py measures
        # a first view on its own).
        for _ in range(3 * GUNICORN_WORKERS):
            for path in pages.values():
                urllib.request.urlopen(base + path, timeout=60).read()  # noqa: S310 - loopback

        phases = {}
        spawn = multiprocessing.get_context("spawn")
        for phase in ("idle", "under load"):
            record, stop, results = Recorder(), spawn.Event(), spawn.Queue()
            readers = spawn.Process(target=read_in_process, daemon=True,
                                    args=(base, pages, args.readers, tuple(args.think), stop, results))
            readers.start()
            started = time.perf_counter()
            scanned_s = None
            if phase == "idle":
                time.sleep(args.idle_seconds)
            else:
                rest = invitations[1:]
                submitters = [threading.Thread(target=submit_wizard, args=(base, path, role, xid, record))
                              for _, path, role, xid in rest]
                for thread in submitters:
                    thread.start()
                for thread in submitters:
                    thread.join()
                deadline = time.time() + 600
                while any(reviews.get_review(db, rid)["status"] not in ("complete", "partial", "failed")
                          for rid, *_ in rest):
                    assert time.time() < deadline, "the reviews under load did not finish within 10 minutes"
                    time.sleep(0.5)
                scanned_s = round(time.perf_counter() - started, 1)
                statuses = [reviews.get_review(db, rid)["status"] for rid, *_ in rest]
            stop.set()
            samples, errors = results.get(timeout=120)
            readers.join(timeout=30)
            for kind, values in samples.items():
                record.samples.setdefault(kind, []).extend(values)
            for kind, values in errors.items():
                record.errors.setdefault(kind, []).extend(values)
            phases[phase] = {"seconds": round(time.perf_counter() - started, 1), "pages": record.summary()}
            if scanned_s is not None:
                phases[phase].update(reviews_s=scanned_s, review_statuses=statuses)
    finally:
        stop_all(procs[::-1])
        local.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    worst_p95 = max(p["p95_ms"] or 0 for ph in phases.values() for p in ph["pages"].values())
    errors = sum(p["errors"] for ph in phases.values() for p in ph["pages"].values())
    big = phases["idle"]["pages"]["report 2,000 findings (HTML)"]
    problems = []
    if violations := NETGUARD_LOG.read_text().strip():
        problems.append(f"network guard: {violations}")
    if any(s != "complete" for s in phases["under load"].get("review_statuses", [])):
        problems.append(f"reviews under load: {phases['under load']['review_statuses']}")
    targets = {"p95_under_500ms": worst_p95 < TARGET_P95_MS, "no_errors": errors == 0,
               "report_2000_findings_p95_under_200ms": (big["p95_ms"] or 1e9) < TARGET_BIG_REPORT_MS}
    summary = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "load_avg_before": [round(x, 2) for x in load_before],
                    "load_avg_after": [round(x, 2) for x in os.getloadavg()]},
        "shape": {"gunicorn_workers": GUNICORN_WORKERS, "rq_workers": 2, "readers": args.readers,
                  "reviews": args.reviews,
                  "aws_latency_ms": LATENCY_MS, "big_report_findings": BIG_REPORT_FINDINGS,
                  "think_seconds": list(args.think)},
        "phases": phases, "targets": targets, "problems": problems,
    }
    print()
    print(f"FinOps Pack load benchmark  {summary['when']}  ({os.cpu_count()} CPUs, load avg before "
          f"{summary['machine']['load_avg_before'][0]}, after {summary['machine']['load_avg_after'][0]})")
    print(f"gunicorn x4, 2 RQ workers, real Redis; {args.readers} readers ({args.think[0]:g}-{args.think[1]:g} s "
          f"on each page); {args.reviews} reviews at once ({phases['under load'].get('reviews_s')} s for them all, "
          f"{LATENCY_MS} ms per AWS call)")
    header = f"{'phase':<11} {'page':<30} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
    print(header)
    print("-" * len(header))
    for phase, data in phases.items():
        for kind, p in data["pages"].items():
            print(f"{phase:<11} {kind:<30} {p['requests']:>8} {p['errors']:>6} {p['p50_ms'] or '-':>8} "
                  f"{p['p95_ms'] or '-':>8} {p['max_ms'] or '-':>8}")
    for name, ok in targets.items():
        print(f"Target  {name}: {'PASS' if ok else 'FAIL'}")
    for problem in problems:
        print(f"PROBLEM {problem}")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print("BENCH_JSON " + json.dumps(summary, separators=(",", ":")))
    return 0 if all(targets.values()) and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
