"""Organization benchmark (issue 11): 50 member accounts, replayed at 100 ms per AWS call, scanned by
the real pipeline (Redis, RQ, ``finops-pack worker`` processes, SQLite) with 1 and with 4 scan
workers in the same run. One command: ``python bench/org.py``.

1. Record: in the local AWS (moto + front), the management account's scanner role and cost data, and
   an organization of ``--accounts`` members created with organizations:CreateAccount. Only one
   member, the *template*, has the finops-pack-readonly role and some waste. One scan of the
   management account and one of the template (with the management account's shared costs), as the
   scan job runs them, are recorded through the replay server; then moto is stopped.
2. Replay every member from the template (``OrgReplayServer``): an AssumeRole of a member's role is
   answered with the template's answer, the account id swapped and an access key id that names the
   member; requests signed with that key are looked up as the template's, and answered with the
   template's account id swapped for the member's.
3. Run a real organization review with 1 scan worker and with 4, ``--repeat`` times each (3),
   interleaved (1, 4, 1, 4, 1, 4), each against a fresh Redis and SQLite, with one
   ``finops-pack worker --store --no-scan``. Wall time from submit to finished, per-account scan
   time (``review_accounts.scan_seconds``), peak RSS per scan worker process tree. The speed-up is
   the ratio of the median walls; each repeat's own ratio is printed beside it.

Prints a table and a ``BENCH_JSON`` line, writes bench/results/org.json. Exits 1 on a replay miss, a
member whose result differs from the template's, an incomplete review, anything leaving 127.0.0.1,
or 4 workers less than 3.5x faster than 1 (medians). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
NETGUARD_DIR = ROOT / "tests" / "netguard"
# Not bench/ itself (Python puts a script's directory first): pickle probes ``import org`` (Jython's
# org.python.core), which would find this file.
sys.path[:] = [str(ROOT), str(NETGUARD_DIR)] + [p for p in sys.path if Path(p or ".").resolve() != BENCH]
os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"  # before moto builds any EC2 backend

import netguard  # noqa: E402  the tests' loopback-only guard: this benchmark never leaves 127.0.0.1

NETGUARD_LOG = Path(tempfile.mkdtemp(prefix="finops-bench-org-")) / "netguard.log"
NETGUARD_LOG.write_text("")
netguard.install(str(NETGUARD_LOG))

from finops.config import Settings  # noqa: E402
from finops.lifecycle import stop_all  # noqa: E402
from finops.organization import member_role_arn  # noqa: E402
from finops.sandbox import seed  # noqa: E402
from finops.sandbox.organization import MemberSpec, seed_organization  # noqa: E402
from finops.sandbox.replay import (  # noqa: E402
    _SIGNING_TO_SERVICE,
    REPLAY,
    Answer,
    ReplayServer,
    _fresh_session,
    _miss,
    request_key,
)
from finops.sandbox.server import LocalAWS  # noqa: E402

EXTERNAL_ID = "fp-bench-org-external-id-01"
REGIONS = ("us-east-1", "eu-west-1")
LATENCY_MS = 100
WORKER_COUNTS = (1, 4)
TARGET_SPEEDUP = 3.5
SECRET = "org-benchmark-secret-key-0123456789abcdef"
FINISHED = ("complete", "partial", "failed")
SAMPLE_SECONDS = 0.2
# PSS every 5th sample (1 s): the kernel walks a process's page tables to answer smaps_rollup,
# holding its memory map's lock; read for 8 processes 5 times a second, it cost the 4-worker run
# about a sixth of a core and stalled the work-horses' page faults (the sampler disturbing the run).
PSS_EVERY = 5
# An access key id that names the account it was issued for: 20 characters, as AWS's are.
KEY_SUFFIX = "FPBM"
_KEY_RE = re.compile(r"Credential=ASIA(\d{12})" + KEY_SUFFIX + "/")
_ROLE_ACCOUNT_RE = re.compile(rb"iam(?:::|%3A%3A)(\d{12})(?::|%3A)role")
_ACCESS_KEY_RE = re.compile(rb"<AccessKeyId>[^<]+</AccessKeyId>")


def account_key(account_id: str) -> str:
    return f"ASIA{account_id}{KEY_SUFFIX}"


class OrgReplayServer(ReplayServer):
    """Replays the management account from its own recording, and every member from the template's.

    Two books of answers, because the management account's and the template's scans send the same
    requests (``request_key`` is access-key independent): which book answers is decided by the
    account the request is for, read from the access key id (every AssumeRole answer here issues
    one that names its account) or, for AssumeRole itself, from the role ARN.
    """

    def __init__(self, management: str, template: str, management_book: dict[str, Answer],
                 template_book: dict[str, Answer], latency_ms: float):
        super().__init__(latency_ms=latency_ms)
        self.mode = REPLAY
        self.management, self.template = management, template
        self.books = {management: management_book, template: template_book}
        self.answers = {**template_book, **management_book}  # response_bytes() and friends only
        self.requests_by_account: dict[str, int] = {}

    def reset_stats(self) -> None:
        super().reset_stats()
        with self._lock:
            self.requests_by_account = {}

    def _account_of(self, headers: dict[str, str], body: bytes) -> str:
        match = _KEY_RE.search(headers.get("authorization", ""))
        if match:
            return match.group(1)
        if b"Action=AssumeRole" in body and (role := _ROLE_ACCOUNT_RE.search(body)):
            return role.group(1).decode()
        return self.management  # the scanner's own identity (base credentials)

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        account = self._account_of(headers, body)
        member = account != self.management
        if member and account != self.template:
            path = path.replace(account, self.template)
            body = body.replace(account.encode(), self.template.encode())
        key, label = request_key(method, path, headers, body)
        with self._lock:
            self.stats.requests += 1
            self.stats.by_action[label] = self.stats.by_action.get(label, 0) + 1
            self.requests_by_account[account] = self.requests_by_account.get(account, 0) + 1
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)  # on this request's own thread: calls overlap
        answer = self.recalled(self.books[self.template if member else self.management], key)
        if answer is None:
            return _miss(key, headers)
        payload = answer.body
        if label == "sts:AssumeRole":
            payload = _fresh_session(answer).body
            if answer.status == 200:
                payload = _ACCESS_KEY_RE.sub(f"<AccessKeyId>{account_key(account)}</AccessKeyId>".encode(), payload)
        if member and account != self.template:
            payload = payload.replace(self.template.encode(), account.encode())
        return answer if payload is answer.body else Answer(answer.status, answer.headers, payload)


# -- recording ---------------------------------------------------------------------------------------
def record(accounts: int, template_volumes: int, template_ips: int) -> dict[str, Any]:
    """The organization in moto, and the management account's and the template's scans recorded."""
    from finops.organization import organization_accounts
    from finops.scan import SharedCosts, run_scan

    local = LocalAWS().start()
    os.environ.update(local.env())
    t0 = time.perf_counter()
    customer = seed.customer_admin()
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    _load_costs(local, customer.account_id)
    org = seed_organization(customer, EXTERNAL_ID, members=(MemberSpec("template", waste_gib=40),))
    template = org.members[0]
    ec2_waste(template.admin, template_volumes, template_ips)
    orgs = customer.session().client("organizations")
    for number in range(1, accounts):
        orgs.create_account(Email=f"aws+member{number}@example.com", AccountName=f"member-{number:02d}")
    seed_s = time.perf_counter() - t0
    print(f"  organization {org.organization_id}: {accounts} members (template {template.account_id}) "
          f"seeded in {seed_s:.1f} s", flush=True)

    replay = ReplayServer(upstream=local.url).start()
    os.environ["AWS_ENDPOINT_URL"] = replay.url
    settings = Settings(regions=REGIONS)
    t0 = time.perf_counter()
    management = run_scan(role_arn, EXTERNAL_ID, settings)
    management_s = time.perf_counter() - t0
    organization_id, listed = organization_accounts(management)
    management_book = dict(replay.answers)
    management_requests = replay.stats.requests
    services = {label.split(":", 1)[0] for label in replay.stats.by_action}
    replay.answers.clear()
    replay.reset_stats()
    t0 = time.perf_counter()
    member = run_scan(member_role_arn(role_arn, template.account_id), EXTERNAL_ID, settings,
                      shared_costs=SharedCosts.of(management))
    template_s = time.perf_counter() - t0
    template_book = dict(replay.answers)
    template_requests = replay.stats.requests
    services |= {label.split(":", 1)[0] for label in replay.stats.by_action}
    replay.stop()
    local.stop()  # from here on nothing can reach moto: every answer comes from the recordings
    os.environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # and nothing in this process may try

    members = [a.account_id for a in listed if a.account_id != management.account_id and a.state == "ACTIVE"]
    gaps = [(c.source, c.region, c.status) for r in (management, member) for c in r.coverage
            if c.status != "ok" and not c.source.startswith("check:")]
    print(f"  recorded the management account ({management_requests} requests, {management_s:.1f} s) and the "
          f"template ({template_requests} requests, {template_s:.1f} s); {len(members)} members listed", flush=True)
    return {
        "role_arn": role_arn, "management": management.account_id, "template": template.account_id,
        "organization_id": organization_id, "members": members, "seed_s": round(seed_s, 1),
        "management_book": management_book, "template_book": template_book,
        "management_requests": management_requests, "template_requests": template_requests,
        "template_findings": len(member.findings),
        "template_savings": str(sum((f.monthly_savings or 0) for f in member.findings)),
        "management_findings": len(management.findings),
        "template_api_calls": sum(c.api_calls for c in member.coverage),
        "management_api_calls": sum(c.api_calls for c in management.coverage),
        "recorded_gaps": gaps,
        "services": sorted(_SIGNING_TO_SERVICE.get(s, s) for s in services if s),
    }


def ec2_waste(admin: seed.CustomerAccount, volumes: int, addresses: int) -> None:
    """Unattached gp2 volumes (30 days old) and unassociated Elastic IPs in every scanned region."""
    for region in REGIONS:
        ec2 = admin.session(region).client("ec2")
        for _ in range(volumes):
            volume = ec2.create_volume(AvailabilityZone=f"{region}a", Size=100, VolumeType="gp2")["VolumeId"]
            seed.backdate_volume(admin, region, volume, 30)
        for _ in range(addresses):
            ec2.allocate_address(Domain="vpc")


def _load_costs(local: LocalAWS, account_id: str) -> None:
    from finops.sandbox import cost_fixtures

    cost_fixtures.load_demo_costs(local, account_id)


# -- one review through the real pipeline --------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TreeSampler:
    """Peak RSS of each process tree (a worker and its work-horse children), from /proc."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self.peak_tree_mb = {pid: 0.0 for pid in pids}
        self.peak_worker_mb = {pid: 0.0 for pid in pids}
        self.peak_horse_mb = {pid: 0.0 for pid in pids}
        self.peak_tree_pss_mb = {pid: 0.0 for pid in pids}  # shared pages (fork's copy-on-write) counted once
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss-sampler")

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        tick = 0
        while not self._stop.wait(SAMPLE_SECONDS):
            tick += 1
            for pid in self.pids:
                children = _children(pid)
                worker = _rss_mb(pid)
                horses = [_rss_mb(child) for child in children]
                self.peak_worker_mb[pid] = max(self.peak_worker_mb[pid], worker)
                self.peak_horse_mb[pid] = max([self.peak_horse_mb[pid], *horses])
                self.peak_tree_mb[pid] = max(self.peak_tree_mb[pid], worker + sum(horses))
                if tick % PSS_EVERY == 0:
                    pss = sum(_pss_mb(p) for p in (pid, *children))
                    self.peak_tree_pss_mb[pid] = max(self.peak_tree_pss_mb[pid], pss)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(x) for x in task.read_text().split()]
        except OSError:
            pass
    return found


def _cpu_stall_s() -> float:
    """Seconds during which some runnable task waited for a CPU (Linux PSI), 0 where unavailable."""
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return 0.0
    return int(line.rsplit("total=", 1)[1]) / 1e6


def _cpu_s(pid: int) -> float:
    """CPU seconds of a process and of the children it has waited for (a worker's work-horses)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


def _proc_mb(pid: int, file: str, field: str) -> float:
    """A ``field: N kB`` line of /proc/<pid>/<file>, in MB; 0 for a process that is gone."""
    try:
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _pss_mb(pid: int) -> float:
    return _proc_mb(pid, "smaps_rollup", "Pss:")


def _rss_mb(pid: int) -> float:
    return _proc_mb(pid, "status", "VmRSS:")


def worker_command(what_if: str, *args: str) -> list[str]:
    """``finops-pack worker``, or (what-if) the same through bench/org_worker.py's patches."""
    if what_if:
        return [sys.executable, str(BENCH / "org_worker.py"), what_if, *args]
    return [sys.executable, "-m", "finops.cli", "worker", *args]


def run_review(rec: dict[str, Any], replay: OrgReplayServer, scan_workers: int, redis_binary: str,
               timeout: float, what_if: str = "") -> dict[str, Any]:
    """One organization review from submit to finished, with ``scan_workers`` scan workers."""
    from finops import reviews
    from finops.db import connect
    from finops.queue import enqueue_review, redis_connection, scan_queue, store_queue_name

    workdir = Path(tempfile.mkdtemp(prefix="finops-bench-org-run-"))
    procs: list[subprocess.Popen] = []
    redis_port = free_port()
    procs.append(subprocess.Popen(
        [redis_binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINOPS_")}
    env.update({
        "AWS_ENDPOINT_URL": replay.url,
        "FINOPS_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "FINOPS_REGIONS": ",".join(REGIONS),
        "FINOPS_DB_PATH": str(workdir / "finops.db"), "FINOPS_SECRET_KEY": SECRET,
        "FINOPS_SCANNER_PRINCIPAL_ARN": seed.DEFAULT_SCANNER_PRINCIPAL, "FINOPS_LOG_LEVEL": "WARNING",
        "NETGUARD_LOG": str(NETGUARD_LOG), "PYTHONPATH": os.pathsep.join([str(NETGUARD_DIR), str(ROOT)]),
        "FINOPS_BENCH_WARM_SERVICES": ",".join(rec["services"]),  # read by bench/org_worker.py only
    })
    settings = Settings.from_env(env)
    scan_env = {**env, "FINOPS_DB_PATH": str(workdir / "scan-workers-have-no-database" / "finops.db")}
    scan_env.pop("FINOPS_SECRET_KEY")
    try:
        connection = redis_connection(settings)
        _wait(lambda: _pings(connection), 10, "redis-server did not start")
        store_log = open(workdir / "store.log", "w")  # noqa: SIM115 - closed with the directory
        procs.append(subprocess.Popen(worker_command(what_if, "--store", "--no-scan"),
                                      cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=store_log))
        scanners = []
        for number in range(scan_workers):
            home = workdir / f"scan-{number}"
            home.mkdir()
            log_file = open(workdir / f"scan-{number}.log", "w")  # noqa: SIM115
            scanners.append(subprocess.Popen(worker_command(what_if), cwd=home, env=scan_env,
                                             stdout=subprocess.DEVNULL, stderr=log_file))
        procs += scanners
        from rq import Worker

        scans, store_name = scan_queue(settings, connection), store_queue_name(settings)
        _wait(lambda: (Worker.count(queue=scans) == scan_workers
                       and sum(store_name in w.queue_names() for w in Worker.all(connection=connection)) == 1),
              60, "the workers did not register", workdir)

        db = connect(settings.db_path)
        review = reviews.create_review(db, settings)
        db.execute("update reviews set scope = 'organization', external_id = ? where id = ?",
                   [EXTERNAL_ID, review["id"]])
        db.conn.commit()
        replay.reset_stats()
        sampler = TreeSampler([p.pid for p in scanners]).start()
        load_during = [os.getloadavg()[0]]
        cpu0 = {p.pid: _cpu_s(p.pid) for p in procs}  # after start-up: the review's own CPU from here
        bench_cpu0 = time.process_time()
        stall0 = _cpu_stall_s()
        started = time.perf_counter()
        reviews.submit(db, review["id"], role_arn=rec["role_arn"], external_id=EXTERNAL_ID,
                       contact=reviews.Contact("Bench", "bench@example.com", "Bench Co"),
                       enqueue=lambda rid, attempt: enqueue_review(settings, rid, attempt, connection))
        deadline = time.monotonic() + timeout
        next_load = time.monotonic() + 5
        fanned_out = None  # when the members' rows were written (the accounts job the management scan queued)
        while (status := reviews.get_review(db, review["id"])["status"]) not in FINISHED:
            if fanned_out is None and db.execute("select count(*) from review_accounts where review_id = ?",
                                                 [review["id"]]).fetchone()[0] > 1:
                fanned_out = time.perf_counter() - started
            if time.monotonic() > deadline:
                raise SystemExit(f"the review is still {status} after {timeout} s; logs in {workdir}:\n"
                                 + _tails(workdir))
            if time.monotonic() > next_load:
                load_during.append(os.getloadavg()[0])
                next_load += 5
            time.sleep(0.1)
        wall = time.perf_counter() - started
        stalled = _cpu_stall_s() - stall0
        bench_cpu = time.process_time() - bench_cpu0  # mostly the replay server's threads
        time.sleep(0.5)  # the last jobs' work-horses reaped, their CPU in their worker's cutime
        cpu = {"scan_workers": sum(_cpu_s(p.pid) - cpu0[p.pid] for p in scanners),
               "store_worker": _cpu_s(procs[1].pid) - cpu0[procs[1].pid],
               "redis": _cpu_s(procs[0].pid) - cpu0[procs[0].pid], "bench_and_replay": bench_cpu}
        sampler.stop()
        load_during.append(os.getloadavg()[0])
        stats = replay.stats.as_dict()
        rows = [dict(r) for r in db.query(
            "select account_id, management, status, findings, monthly_savings_micros, api_calls, scan_seconds, "
            "attempts, reason from review_accounts where review_id = ?", [review["id"]])]
        final = reviews.get_review(db, review["id"])
        steps = [s["message"] for s in reviews.steps(db, review["id"]) if s["level"] != "info"]
        tail = _tail(connection, review["id"], [r["account_id"] for r in rows])
    finally:
        stop_all(procs[::-1])  # the workers before their redis-server
    logs = _tails(workdir)
    shutil.rmtree(workdir, ignore_errors=True)

    members = [r for r in rows if not r["management"]]
    seconds = sorted(r["scan_seconds"] for r in members if r["scan_seconds"] is not None)
    per_account = stats_by_account(replay)
    member_calls = sorted({n for account, n in per_account.items() if account != rec["management"]})
    return {
        "scan_workers": scan_workers, "what_if": what_if, "wall_s": round(wall, 2), "status": final["status"],
        "members_queued_s": round(fanned_out, 2) if fanned_out is not None else None,
        "error_code": final["error_code"], "warnings": steps[:10],
        "accounts": len(rows), "members": len(members),
        "members_read": sum(1 for r in members if r["status"] == "complete"),
        "member_status": sorted({r["status"] for r in members}),
        "scan_s_mean": round(statistics.fmean(seconds), 2) if seconds else None,
        "scan_s_p50": round(statistics.median(seconds), 2) if seconds else None,
        "scan_s_p95": round(seconds[max(int(0.95 * len(seconds)) - 1, 0)], 2) if seconds else None,
        "scan_s_max": round(seconds[-1], 2) if seconds else None,
        "management_scan_s": next((r["scan_seconds"] for r in rows if r["management"]), None),
        "attempts_max": max((r["attempts"] or 1 for r in rows), default=0),
        "member_results": sorted({(r["findings"], r["monthly_savings_micros"]) for r in members}),
        "member_api_calls": sorted({r["api_calls"] for r in members}),
        "http_requests": stats["requests"], "http_requests_per_member": member_calls,
        "http_requests_management": per_account.get(rec["management"], 0),
        "replay_misses": stats["misses"], "missed_keys": stats["missed_keys"][:3],
        "peak_rss_tree_mb": [round(v, 1) for v in sampler.peak_tree_mb.values()],
        "peak_rss_worker_mb": [round(v, 1) for v in sampler.peak_worker_mb.values()],
        "peak_rss_horse_mb": [round(v, 1) for v in sampler.peak_horse_mb.values()],
        "peak_pss_tree_mb": [round(v, 1) for v in sampler.peak_tree_pss_mb.values()],
        "load_avg_during": [round(x, 2) for x in load_during],
        "cpu_s": {k: round(v, 2) for k, v in cpu.items()},
        # share of the run's wall time in which some runnable task (ours or another session's) waited for a CPU
        "cpu_pressure": round(stalled / wall, 2),
        "cpu_s_per_account": round(sum(cpu.values()) / max(len(rows), 1), 2),
        "scan_cpu_s_per_account": round(cpu["scan_workers"] / max(len(rows), 1), 2),
        # after the last scan job ended: its store and the finish, and the finish alone (RQ's clock)
        "tail_s": tail[0], "finish_s": tail[1],
        "log_tail": logs if final["status"] not in ("complete",) else "",
    }


def _tail(connection: Any, review_id: str, accounts: list[str]) -> tuple[float | None, float | None]:
    """(the finish job's end less the last scan job's end, the finish job's own time), in s."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    from finops.queue import SERIALIZER, finish_job_id, scan_job_id

    try:
        finish = Job.fetch(finish_job_id(review_id, 1), connection=connection, serializer=SERIALIZER)
        scans = Job.fetch_many([scan_job_id(review_id, 1, a) for a in accounts], connection=connection,
                               serializer=SERIALIZER)
    except NoSuchJobError:
        return None, None
    ends = [job.ended_at for job in scans if job is not None and job.ended_at]
    if not (ends and finish.ended_at and finish.started_at):
        return None, None
    return (round((finish.ended_at - max(ends)).total_seconds(), 3),
            round((finish.ended_at - finish.started_at).total_seconds(), 3))


def stats_by_account(replay: OrgReplayServer) -> dict[str, int]:
    with replay._lock:
        return dict(replay.requests_by_account)


def _pings(connection: Any) -> bool:
    try:
        return bool(connection.ping())
    except Exception:  # noqa: BLE001 - not up yet
        return False


def _wait(condition: Any, timeout: float, message: str, workdir: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(message + (":\n" + _tails(workdir) if workdir else ""))
        time.sleep(0.1)


def _tails(workdir: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(workdir.glob("*.log"))
                     if p.read_text().strip())


# -- the command ---------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=50, help="member accounts in the organization")
    parser.add_argument("--workers", default=",".join(map(str, WORKER_COUNTS)),
                        help="scan worker counts, comma separated (the first is the baseline)")
    parser.add_argument("--latency", type=int, default=LATENCY_MS, help="ms per AWS call")
    parser.add_argument("--volumes", type=int, default=3, help="unattached gp2 volumes per region in the template")
    parser.add_argument("--addresses", type=int, default=2, help="unassociated Elastic IPs per region in the template")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a review may take")
    parser.add_argument("--output", default=str(BENCH / "results" / "org.json"))
    parser.add_argument("--repeat", type=int, default=3,
                        help="reviews per worker count, interleaved (1, 4, 1, 4, ...); the speed-up is the ratio "
                             "of the median walls")
    parser.add_argument("--what-if", action="append", default=[],
                        metavar="preload|shared-loader|gc-freeze|store-here|per-client-http|client-copies|late-organization|whole-list|horse-cpu|profile",
                        help="also run every worker count with bench/org_worker.py's patches (not the product's "
                             "code); repeat for several")
    args = parser.parse_args()
    worker_counts = [int(x) for x in args.workers.split(",")]
    redis_binary = shutil.which("redis-server", path="/usr/bin:/usr/local/bin") or shutil.which("redis-server")
    if not redis_binary:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    load_before = os.getloadavg()
    bench_started = time.perf_counter()

    print(f"Recording an organization of {args.accounts} members in the local AWS ({', '.join(REGIONS)}) ...",
          flush=True)
    rec = record(args.accounts, args.volumes, args.addresses)
    replay = OrgReplayServer(rec["management"], rec["template"], rec.pop("management_book"),
                             rec.pop("template_book"), args.latency).start()
    runs = []
    # Interleaved, so that the machine's drift (its speed moves by 10-15 % within an hour here)
    # falls on every worker count alike.
    configs = [(n, count, what_if) for n in range(1, args.repeat + 1)
               for what_if in ["", *args.what_if] for count in worker_counts]
    try:
        for n, count, what_if in configs:
            print(f"Review {n}/{args.repeat} with {count} scan worker{'s' if count > 1 else ''} at {args.latency} ms "
                  "per call" + (f", what-if {what_if} (not the product's code)" if what_if else "") + " ...",
                  flush=True)
            run = {"repeat": n, **run_review(rec, replay, count, redis_binary, args.timeout, what_if)}
            print(f"  {run['status']} in {run['wall_s']:.1f} s; {run['members_read']}/{run['members']} members read; "
                  f"scan per member p50 {run['scan_s_p50']} s p95 {run['scan_s_p95']} s; "
                  f"peak PSS per worker tree {run['peak_pss_tree_mb']} MB; load "
                  f"{min(run['load_avg_during']):.1f}-{max(run['load_avg_during']):.1f}",
                  flush=True)
            runs.append(run)
    finally:
        replay.stop()

    problems = []
    from decimal import Decimal

    expected = (rec["template_findings"], int(Decimal(rec["template_savings"]) * 1_000_000))
    for run in runs:
        label = f"{run['scan_workers']} workers"
        if run["replay_misses"]:
            problems.append(f"{label}: {run['replay_misses']} replay misses, e.g. {run['missed_keys']}")
        if run["status"] != "complete":
            problems.append(f"{label}: review {run['status']} ({run['error_code']}): {run['warnings']}")
        if run["members"] != len(rec["members"]) or run["members_read"] != len(rec["members"]):
            problems.append(f"{label}: {run['members_read']} of {len(rec['members'])} members read "
                            f"({run['members']} rows, statuses {run['member_status']})")
        if [tuple(r) for r in run["member_results"]] != [expected]:
            problems.append(f"{label}: members' (findings, savings in micro-dollars) differ from the template's "
                            f"{expected}: {run['member_results'][:5]}")
        if run["attempts_max"] > 1:
            problems.append(f"{label}: some account was scanned {run['attempts_max']} times (a lost worker)")
    if rec["recorded_gaps"]:
        problems.append(f"the recorded scans have coverage gaps: {rec['recorded_gaps']}")
    if violations := NETGUARD_LOG.read_text().strip():
        problems.append(f"network guard: something tried to leave loopback: {violations}")
    base, top = worker_counts[0], worker_counts[-1]
    speedup, speedup_each = _speedup(runs, "", base, top)
    what_if_speedups = {}  # each what-if's own 1 vs 4 workers
    for what_if in args.what_if:
        ratio, each = _speedup(runs, what_if, base, top)
        if ratio is not None:
            what_if_speedups[what_if] = {"median": ratio, "each": each}
    target_ok = speedup is not None and speedup >= TARGET_SPEEDUP
    if speedup is not None and not target_ok:
        problems.append(f"{top} workers only {speedup}x faster than {base} (target {TARGET_SPEEDUP}x)")

    summary = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "load_avg_before": [round(x, 2) for x in load_before],
            "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "organization": {
            "members": len(rec["members"]), "regions": list(REGIONS), "latency_ms": args.latency,
            "template_findings": rec["template_findings"], "template_savings_monthly": rec["template_savings"],
            "management_findings": rec["management_findings"],
            "api_calls": {"management": rec["management_api_calls"], "member": rec["template_api_calls"]},
            "http_requests_recorded": {"management": rec["management_requests"], "member": rec["template_requests"]},
            "seed_s": rec["seed_s"],
        },
        "runs": [{k: v for k, v in r.items() if k != "log_tail"} for r in runs],
        "repeat": args.repeat,
        "median_wall_s": {str(count): _median_wall(runs, "", count) for count in worker_counts},
        "speedup": speedup,  # median wall with the first worker count / median wall with the last
        "speedup_each_repeat": speedup_each,
        "what_if_speedup": what_if_speedups,
        "targets": {f"speedup_ge_{TARGET_SPEEDUP}x": target_ok},
        "problems": problems,
        "bench_s": round(time.perf_counter() - bench_started, 1),
    }
    _print_table(summary)
    for run in runs:
        if run["log_tail"]:
            print(f"--- worker logs, {run['scan_workers']} workers ---\n{run['log_tail']}")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"Written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    print("BENCH_JSON " + json.dumps(summary, separators=(",", ":")))
    return 1 if problems else 0


def _median_wall(runs: list[dict[str, Any]], what_if: str, count: int) -> float | None:
    walls = [r["wall_s"] for r in runs if r["what_if"] == what_if and r["scan_workers"] == count]
    return round(statistics.median(walls), 2) if walls else None


def _speedup(runs: list[dict[str, Any]], what_if: str, base: int, top: int) -> tuple[float | None, list[float]]:
    """(median wall with ``base`` workers / median wall with ``top``, each repeat's own ratio)."""
    slow, fast = _median_wall(runs, what_if, base), _median_wall(runs, what_if, top)
    if slow is None or fast is None or base == top:
        return None, []
    pairs: dict[int, dict[int, float]] = {}
    for r in runs:
        if r["what_if"] == what_if:
            pairs.setdefault(r["repeat"], {})[r["scan_workers"]] = r["wall_s"]
    each = [round(p[base] / p[top], 2) for _, p in sorted(pairs.items()) if base in p and top in p]
    return round(slow / fast, 2), each


def _print_table(s: dict[str, Any]) -> None:
    o = s["organization"]
    print()
    print(f"FinOps Pack organization benchmark  {s['when']}  ({s['machine']['cpus']} CPUs, load avg before "
          f"{s['machine']['load_avg_before'][0]}, after {s['machine']['load_avg_after'][0]})")
    print(f"Organization: management + {o['members']} members over {', '.join(o['regions'])}, "
          f"{o['latency_ms']} ms per AWS call; API calls per account: management {o['api_calls']['management']}, "
          f"member {o['api_calls']['member']}; {o['template_findings']} findings per member "
          f"(${o['template_savings_monthly']}/month)")
    print()
    header = (f"{'#':>2}  {'scan workers':>12}  {'status':>8}  {'wall':>8}  {'read':>7}  {'scan mean':>9}  {'p50':>6}  "
              f"{'p95':>6}  {'mgmt':>6}  {'HTTP reqs':>9}  {'load':>9}  peak memory per scan worker tree, MB: "
              "RSS worker+horse (PSS)")
    print(header)
    print("-" * len(header))
    for r in s["runs"]:
        memory = ", ".join(f"{w:.0f}+{h:.0f} ({p:.0f})" for w, h, p in
                           zip(r["peak_rss_worker_mb"], r["peak_rss_horse_mb"], r["peak_pss_tree_mb"], strict=True))
        load = f"{min(r['load_avg_during']):.1f}-{max(r['load_avg_during']):.1f}"
        print(f"{r.get('repeat', 1):>2}  {r['scan_workers']:>12}  {r['status']:>8}  {r['wall_s']:>6.1f} s  "
              f"{r['members_read']:>3}/{r['members']:<3}  {r['scan_s_mean'] or 0:>7.2f} s  "
              f"{r['scan_s_p50'] or 0:>4.2f} s  "
              f"{r['scan_s_p95'] or 0:>4.2f} s  {r['management_scan_s'] or 0:>4.1f} s  {r['http_requests']:>9}  "
              f"{load:>9}  {memory}" + (f"  [what-if {r['what_if']}]" if r["what_if"] else ""))
    for r in s["runs"]:
        c = r["cpu_s"]
        print(f"CPU, {r['scan_workers']} workers{' ' + r['what_if'] if r['what_if'] else ''}: "
              f"{r['cpu_s_per_account']:.2f} s per account ({r['scan_cpu_s_per_account']:.2f} s in scan workers); "
              f"scan workers {c['scan_workers']:.1f} s, store worker {c['store_worker']:.1f} s, "
              f"redis {c['redis']:.1f} s, "
              f"replay server {c['bench_and_replay']:.1f} s: on {s['machine']['cpus']} cores at best "
              f"{sum(c.values()) / s['machine']['cpus']:.1f} s of wall; CPU pressure {r['cpu_pressure']:.0%}")
    print()
    counts = list(s["median_wall_s"])
    base, top = counts[0], counts[-1]
    if s["speedup"] is not None:
        ok = s["targets"][f"speedup_ge_{TARGET_SPEEDUP}x"]
        print(f"Median of {s['repeat']} reviews each: {base} scan worker {s['median_wall_s'][base]} s, {top} scan "
              f"workers {s['median_wall_s'][top]} s; each repeat's own ratio {s['speedup_each_repeat']}")
        print(f"Target  {top} scan workers >= {TARGET_SPEEDUP}x faster than {base}: "
              f"{'PASS' if ok else 'FAIL'} ({s['speedup']}x, ratio of the medians)")
    for what_if, ratio in s["what_if_speedup"].items():
        print(f"What-if {what_if} (not the product's code): {top} scan workers {ratio['median']}x faster than "
              f"{base} (each repeat {ratio['each']}); {_median_wall(s['runs'], what_if, int(top))} s vs the "
              f"product's {s['median_wall_s'][top]} s with {top}")
    for problem in s["problems"]:
        print(f"PROBLEM {problem}")
    print(f"Benchmark took {s['bench_s']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
