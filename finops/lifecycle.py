"""How our processes stop, and how the children we start are tied to us.

Every long-running command handles SIGTERM (systemd, Docker, supervisors) and SIGINT (Ctrl+C)
alike: the first asks for an orderly stop, a second stops at once. Every child process we start
dies with its parent, even when the parent is killed with SIGKILL, so a crash never leaves a
worker or a Redis running behind it:

- a child we exec (redis-server) gets the kernel's parent-death signal (Linux ``prctl``);
- a Python child (the embedded worker) watches its parent pid from a thread, so that it can
  interrupt its scan and say so before it exits;
- RQ's work-horse, forked by the worker, gets the parent-death signal right after the fork.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Stopping(BaseException):  # a request, like KeyboardInterrupt, not an error
    """Raised in the main thread by the first SIGTERM or SIGINT: unwind, clean up, exit 0.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` swallows it.
    """


def handle_stop_signals(on_force: Callable[[], None] | None = None) -> None:
    """First SIGTERM/SIGINT raises ``Stopping`` in the main thread; a second one stops at once.

    The orderly stop is the caller's ``try/finally``. A second signal means "now": ``on_force``
    (kill our children) runs and the process exits without unwinding further.
    """

    def second(signum: int, _frame: FrameType | None) -> None:
        log.warning("signal=%s state=stopping-now", signal.Signals(signum).name)
        try:
            if on_force is not None:
                on_force()
        finally:
            sys.stderr.flush()
            os._exit(0)

    def first(signum: int, _frame: FrameType | None) -> None:
        log.info("signal=%s state=stopping (a second signal stops at once)", signal.Signals(signum).name)
        for sig in STOP_SIGNALS:
            signal.signal(sig, second)
        raise Stopping(signal.Signals(signum).name)

    for sig in STOP_SIGNALS:
        signal.signal(sig, first)


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up once: a forked child must not dlopen (another thread of the
    parent may have held the loader's lock at the fork)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


def die_with_parent(sig: int = signal.SIGKILL, parent_pid: int | None = None) -> None:
    """Have the kernel send ``sig`` to this process when the thread that forked it ends (Linux).

    For a forked child (RQ's work-horse); call ``die_with_parent_ready()`` in the parent before
    forking. ``parent_pid`` closes the race where the parent died before the call.
    """
    prctl = _prctl()
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        os.kill(os.getpid(), sig)


def die_with_parent_ready() -> None:
    """Look libc up now, in the parent, so that ``die_with_parent`` after a fork does not."""
    _prctl()


def exec_tied_to_parent(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """A ``preexec_fn`` for ``subprocess.Popen``: the exec'd program gets ``sig`` when we die.

    The parent-death signal fires when the *thread* that started the child ends, so start such
    children from the main thread. libc is looked up here, before the fork, so the child only
    makes one system call between fork and exec.
    """
    prctl = _prctl()
    parent = os.getpid()

    def preexec() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died between fork and prctl
            os.kill(os.getpid(), sig)

    return preexec


def watch_parent(parent_pid: int, on_parent_death: Callable[[], None], interval: float = 0.5) -> threading.Thread:
    """Call ``on_parent_death`` from a daemon thread once ``parent_pid`` is no longer our parent.

    When a parent dies, the kernel re-parents its children (to init or a subreaper), so a
    changed ``getppid()`` is the proof; a pid that merely still exists proves nothing.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        log.warning("parent=%s state=gone; stopping", parent_pid)
        on_parent_death()

    thread = threading.Thread(target=watch, daemon=True, name="parent-watchdog")
    thread.start()
    return thread


class FinishOrGiveUp:
    """For work that cannot be handed over (``finops-pack scan``): the first SIGTERM/SIGINT lets
    it run ``grace`` seconds more; then, or at a second signal, ``message`` and ``exit_code``.

    Once the work is done (``finishing()``: its output is being written), a signal no longer
    stops it: the output is either complete or not started, never half written.
    """

    def __init__(self, grace: float, message: str, exit_code: int):
        self.grace, self.message, self.exit_code = grace, message, exit_code
        self._lock = threading.Lock()
        self._finishing = False
        self._signalled = False
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._on_signal)

    def finishing(self) -> None:
        with self._lock:
            self._finishing = True

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if not self._signalled:
            self._signalled = True
            log.info("signal=%s state=stopping grace=%ss", signal.Signals(signum).name, self.grace)
            timer = threading.Timer(self.grace, self._give_up)
            timer.daemon = True
            timer.start()
        else:
            threading.Thread(target=self._give_up, daemon=True).start()  # not in the handler: it may wait

    def _give_up(self) -> None:
        with self._lock:
            if self._finishing:
                return
            print(self.message, file=sys.stderr, flush=True)
            os._exit(self.exit_code)


def stop_all(procs: list[subprocess.Popen], timeout: float = 30) -> None:
    """SIGTERM every process still running (all of them first, so they stop together), then wait
    for each; one still running after ``timeout`` seconds is killed."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
