"""Small helpers shared by tests (no fixtures here: those live in conftest.py)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in page"
    return match.group(1) or match.group(2)


def app_settings(client: Any) -> Any:
    return client.application.extensions["finops.settings"]


def start_review(client: Any, company: str = "Example Corp", email: str = "dana@example.com",
                 name: str = "Dana Customer") -> str:
    """An operator's invitation for a customer; returns its token: the wizard is /reviews/<token>."""
    from finops import reviews
    from finops.db import connect

    settings = app_settings(client)
    _, url = reviews.create_invitation(connect(settings.db_path), settings, company=company, email=email, name=name)
    return url.rsplit("/", 1)[1]


def review_id_of(client: Any, token: str) -> str:
    """The review an invitation token opens (tests look it up in the database by id)."""
    from finops import reviews
    from finops.db import connect

    return reviews.get_by_invitation(connect(app_settings(client).db_path), token)["id"]


def report_token_of(settings: Any, review_id: str) -> str:
    """The review's report link token, as the email and the dashboard give it out."""
    from finops import links, reviews
    from finops.db import connect

    db = connect(settings.db_path)
    return links.ensure_token(db, settings.with_secret_key(), reviews.get_review(db, review_id), links.REPORT)


def invitation_token_of(settings: Any, review_id: str) -> str:
    from finops import links, reviews
    from finops.db import connect

    db = connect(settings.db_path)
    return links.ensure_token(db, settings.with_secret_key(), reviews.get_review(db, review_id), links.INVITATION)


def run_quick_jobs(settings: Any) -> None:
    """Run the quick queue's jobs (Test connection, emails) in this process until it is empty."""
    from rq import SimpleWorker

    from finops.queue import SERIALIZER, quick_queue, redis_connection

    queue = quick_queue(settings, redis_connection(settings))
    SimpleWorker([queue], connection=queue.connection, serializer=SERIALIZER).work(burst=True, with_scheduler=False)


def connect_form(client: Any, review_id: str, **overrides: str) -> dict[str, str]:
    page = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    external_id = re.search(r'<code id="external-id" class="big">([^<]+)</code>', page).group(1)
    data = {
        "csrf_token": csrf(page),
        "role_arn": "",
        "external_id": external_id,
        "contact_name": "Dana Customer",
        "contact_email": "dana@example.com",
        "contact_company": "Example Corp",
    }
    data.update(overrides)
    return data


def guarded(customer: Any, allowed: dict | None = None, region: str = "us-east-1") -> Any:
    """A session from the guarded factory on the customer admin's own keys (tests of the guard)."""
    from botocore.credentials import Credentials

    from finops.aws.guard import READ_OPERATIONS, guarded_session

    return guarded_session(allowed or READ_OPERATIONS, region_name=region,
                           credentials=Credentials(customer.access_key_id, customer.secret_access_key))


def assume_role_calls(local_aws: Any) -> list[dict]:
    return [r for r in local_aws.requests() if r["service"] == "sts" and r["action"] == "AssumeRole"]


COH_CHECKS = {"Rightsize": "coh_rightsize", "Stop": "coh_stop", "Delete": "coh_delete", "Upgrade": "coh_upgrade",
              "MigrateToGraviton": "coh_migrate_to_graviton", "ScaleIn": "coh_scale_in"}


def fired_checks(report: dict) -> set[str]:
    """Every check that produced something in a report: counted, alternative, commitment, or a Cost
    Optimization Hub recommendation merged into a native finding (its figure shown beside ours)."""
    fired = set()
    for finding in [*report["findings"], *report["commitments"]]:
        fired.add(finding["check_id"])
        fired |= {alternative["check_id"] for alternative in finding["alternatives"]}
        if finding["coh"] and "native" in finding["sources"]:
            fired.add(COH_CHECKS[finding["coh"]["action"]])
    return fired


def expected_waste(regions: tuple[str, ...] | None = None) -> dict[tuple[str, str], Decimal]:
    """seed.DEMO_WASTE in dollars, from the catalogue file's own entries (not from the checks' code)."""
    import json

    from finops.pricing import CATALOGUE_FILE
    from finops.sandbox import seed

    prices = json.loads(CATALOGUE_FILE.read_text())["prices"]
    out = {}
    for (check_id, region), lines in seed.DEMO_WASTE.items():
        if regions is None or region in regions:
            total = sum(Decimal(prices[key]["regions"][region]["usd"]) * quantity for key, quantity in lines)
            out[(check_id, region)] = total.quantize(Decimal("0.01"))
    return out


# --- processes (Linux /proc): what a test started, and whether it is still alive -----------------
@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    started: int  # clock ticks after boot: with the pid, the identity of one process (pids are reused)
    state: str
    cmdline: str
    environ: frozenset[bytes]

    def __str__(self) -> str:
        return f"pid={self.pid} ppid={self.ppid} {self.cmdline[:200]}"


def process_table() -> dict[int, Proc]:
    """Every process we may inspect, zombies excluded (they hold nothing and cannot be killed)."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            try:
                environ = frozenset(Path(f"/proc/{entry.name}/environ").read_bytes().split(b"\0"))
            except PermissionError:
                environ = frozenset()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # it just ended, or it is not ours to look at
        fields = stat.rsplit(")", 1)[1].split()  # the command name in (...) may contain spaces
        if fields[0] == "Z":
            continue
        pid = int(entry.name)
        table[pid] = Proc(pid, int(fields[1]), int(fields[19]), fields[0],
                          cmdline.replace(b"\0", b" ").decode(errors="replace").strip(), environ)
    return table


def descendants(pid: int, table: dict[int, Proc] | None = None) -> list[Proc]:
    table = process_table() if table is None else table
    children: dict[int, list[Proc]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


def still_alive(procs: Iterable[Proc]) -> list[Proc]:
    table = process_table()
    return [p for p in procs if p.pid in table and table[p.pid].started == p.started]


def wait_until_gone(procs: Iterable[Proc], timeout: float) -> list[Proc]:
    """The processes of ``procs`` still alive after ``timeout`` seconds (none, we hope)."""
    procs = list(procs)
    deadline = time.monotonic() + timeout
    while True:
        left = still_alive(procs)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def reaped_children_faults(pid: int) -> int:
    """The minor page faults of the process's children that ended and were reaped (``cminflt`` in
    /proc/PID/stat): a forked work-horse adds thousands (its copy-on-write), a process that never
    forked has 0."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[8])  # field 11 of proc(5); fields[0] is field 3 (state)


def scan_job_started(settings: Any, review_id: str, account_id: str, attempt: int = 1) -> bool:
    """Whether a worker runs the scan job of this account of the review (``finops.pipeline``)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    from finops.queue import SERIALIZER, redis_connection

    try:
        job = Job.fetch(f"scan-{review_id}-{attempt}-{account_id}", connection=redis_connection(settings),
                        serializer=SERIALIZER)
    except NoSuchJobError:
        return False
    return job.get_status() == "started"
