"""``finops-pack worker``: RQ's worker, with a stop that fits in a supervisor's timeout.

A worker that both scans and has the database (``--store``, and ``serve``'s first) forks a
work-horse for each job, as RQ does. The others run each job in their own process instead
(``_perform_here``), as RQ's ``SimpleWorker`` does: a scan worker (no database), whose scan job
opens no file and leaves nothing behind, and a worker that takes no scan (``--store --no-scan``,
``serve``'s second), whose jobs (stores, progress, Test connection, emails) last milliseconds to
seconds. A work-horse forked for each of those jobs cost more CPU than the job itself (the
copy-on-write of the warmed process, its teardown; ``bench/org.py``).

On SIGTERM or SIGINT the worker takes no new job (RQ's warm shutdown). A scan in progress gets
FINOPS_SHUTDOWN_GRACE seconds to finish; after that, or on a second signal, the scan is stopped
and its review fails with a sentence that tells the customer to start it again (a retry is a
new job id, so it always runs); a scan worker's account is run again by another scan worker
(FINOPS_SCAN_RETRIES). The work-horse ignores SIGTERM, so a signal sent to every process
of a service (systemd's default) cannot cut a scan short behind the worker's back, and it dies
with the worker if the worker is killed.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sqlite3
import sys
import threading
import time
from datetime import timedelta
from types import FrameType
from typing import Any

from redis.exceptions import RedisError
from rq import Worker
from rq.exceptions import StopRequested
from rq.job import Job
from rq.utils import now
from rq.worker import WorkerStatus

from finops import connection_checks, reviews
from finops.config import Settings
from finops.db import connect
from finops.errors import FinopsError, ScanInterrupted, WorkerLost
from finops.lifecycle import die_with_parent, die_with_parent_ready
from finops.queue import (
    SCAN_JOBS,
    attempt_of,
    enqueue_ready_dependents,
    refuse_job,
    requeue_lost_reviews,
    review_queue,
    trusted_job,
)

log = logging.getLogger(__name__)


LOST_REVIEWS_CHECK_SECONDS = 15
# A scan still running this long past its timeout (RQ's rule for a work-horse), or its timeout
# again if shorter, is stopped with its process.
HARD_STOP_AFTER_SECONDS = 60
JOB_MONITORING_SECONDS = 5  # the worker renews its running job's lease this often
THREADS_SETTLE_SECONDS = 0.5  # a job run in the worker's process: how long its ended threads may take to go
ABANDONED_AFTER_SECONDS = 15  # a lease not renewed for this long more: the worker is gone, the job runs again


def warm_up(settings: Settings, *, scan: bool = True, store: bool = True) -> None:
    """Before a worker takes its first job: import what its jobs run and, for a worker that
    scans, fill what every scan would otherwise build again (``_preload_scan``). Then everything
    alive is frozen (``gc.freeze``): it lives as long as the worker, so no collection in the
    worker or in a work-horse visits it again. Its scans (a scan worker runs them itself) and its
    work-horses (a worker with the database forks them) use all of it, so none imports a module,
    parses a model or reads a data file again (about 0.9 s of CPU per scanned account, 0.1 s per
    store job otherwise; ``bench/org.py``), nor does a work-horse copy those pages (copy-on-write)
    only because a collection looked at them."""
    if store:
        import jobs.connection  # noqa: F401
        import jobs.mail  # noqa: F401
        import jobs.review  # noqa: F401
        import jobs.store  # noqa: F401
    if scan:
        _preload_scan(settings)
    gc.collect()
    gc.freeze()


def _preload_scan(settings: Settings) -> None:
    """The scan's modules, collectors and checks; every service model the scan calls and its
    paginators, in the process's shared botocore loader (``finops.aws.guard.shared_loader``);
    the commercial region list and the price catalogue (both cached per process)."""
    from botocore import xform_name

    import finops.organization  # noqa: F401
    import finops.scan  # noqa: F401
    import jobs.scan  # noqa: F401
    from finops.aws.guard import READ_OPERATIONS, SCANNER_OPERATIONS, guarded_session
    from finops.aws.regions import commercial_regions
    from finops.checks import discover as discover_checks
    from finops.collect import discover as discover_collectors
    from finops.pricing import load_catalogue

    discover_collectors()
    discover_checks()
    commercial_regions()  # botocore's endpoint data and EC2's whole model: about 0.14 s of CPU per scan
    load_catalogue(settings.price_catalogue)
    session = guarded_session(SCANNER_OPERATIONS)
    for service in sorted({*READ_OPERATIONS, *SCANNER_OPERATIONS}):
        try:
            client = session.client(service, region_name="us-east-1")  # builds the client: no request is sent
            # and its paginators' model, which a work-horse would otherwise read, after listing
            # every directory of botocore's data to find it (about 0.3 s of CPU per scan)
            client.can_paginate(xform_name(client.meta.service_model.operation_names[0]))
        except Exception as error:  # noqa: BLE001 - a service not warmed is parsed by the scan itself
            log.warning("worker state=not-warmed service=%s error=%s", service, type(error).__name__)


def before_fork() -> None:
    """Call before forking a process that will write to the database (a work-horse).

    A SQLite connection the parent holds at fork time and closes while the child works makes the
    child lose every write it commits after that close: fork copies SQLite's per-process lock
    bookkeeping, so the child's own connection believes it holds the locks only the parent held,
    and the parent's close, seeing no other locker, checkpoints and resets the WAL under the child
    (``tests/test_storage.py`` shows it). A worker keeps no connection open between jobs; collecting
    garbage here closes any connection an unreachable cycle still holds, before the fork rather than
    at some moment during the job. What ``warm_up`` froze is not visited: this collection looks
    only at what the worker made since (it took about 80 ms per job before that freeze).
    """
    gc.collect()


class ReviewWorker(Worker):
    """``store``: this worker has the database (``serve``'s, ``worker --store``). Without it, a
    scan worker: it takes scan jobs only and never opens SQLite, on any host. ``scan``: it takes
    scan jobs (all but ``worker --store --no-scan``). Only a worker that does both forks a
    work-horse per job."""

    def __init__(self, *args: Any, settings: Settings, store: bool = True, scan: bool = True, **kwargs: Any):
        # RQ's maintenance (between jobs, and on every reconnection to Redis) also queues again the
        # reviews SQLite says are queued but Redis lost: a Redis that restarted empty loses nothing.
        # Every worker's maintenance also runs again the jobs of a worker that died (RQ's
        # abandoned jobs): after ABANDONED_AFTER_SECONDS, not RQ's default of a minute and a half.
        kwargs.setdefault("maintenance_interval", LOST_REVIEWS_CHECK_SECONDS)
        kwargs.setdefault("job_monitoring_interval", JOB_MONITORING_SECONDS)
        super().__init__(*args, **kwargs)
        self.settings = settings
        self.store = store
        self.forks = store and scan  # a work-horse per job; the other workers run each job themselves
        self._worker_pid = os.getpid()
        die_with_parent_ready()
        self._current_job: Job | None = None
        self._here: tuple[Any, Any] | None = None  # a job run in this process, not a horse: queue, execution
        self._restart_after_job = False
        self._interrupted_job_id: str | None = None
        self._grace_timer: threading.Timer | None = None

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None) -> Any:
        # RQ waits up to ~7 minutes for a job; waking every LOST_REVIEWS_CHECK_SECONDS lets the
        # maintenance below run while idle too.
        if timeout is not None:
            timeout = min(timeout, LOST_REVIEWS_CHECK_SECONDS)
        return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        return min(super().get_heartbeat_ttl(job, working_time), self.job_monitoring_interval + ABANDONED_AFTER_SECONDS)

    def maintain_heartbeats(self, job: Job, execution: Any) -> None:
        """A lease renewal that Redis refuses (it restarts) is skipped, not fatal: the work-horse's
        scan goes on, and the next renewal, every JOB_MONITORING_SECONDS, reaches the new Redis."""
        try:
            super().maintain_heartbeats(job, execution)
        except RedisError as error:
            log.warning("job=%s state=lease-not-renewed error=%s", job.id[:24], type(error).__name__)

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        if not self.store:
            return  # no database here: the store worker's maintenance looks for lost reviews
        try:
            requeued = requeue_lost_reviews(self.settings, connect(self.settings.db_path), self.connection)
        except (RedisError, sqlite3.Error, FinopsError) as error:  # next time, then
            log.warning("requeue state=skipped error=%s", error)
            return
        for review_id in requeued:
            log.warning("review=%s state=requeued reason=queued-in-sqlite-but-not-in-redis", review_id[:6])

    # -- one job ---------------------------------------------------------------------------------
    def execute_job(self, job: Job, queue: Any) -> None:
        if not trusted_job(job):  # not ours: never imported, never called, not even its callbacks
            refuse_job(job, "not a FinOps Pack job (function, callback or payload)")
            return
        if not self.store and job.func_name not in SCAN_JOBS:  # not a scan (an older version's job, a misrouted one)
            # It needs the database: hand it to the store workers' queue, never back to this one
            # (this worker would take it again at once, forever), and out of the list RQ keeps of
            # the jobs its single-queue workers have taken (its clean-up would fail the job a minute on).
            log.error("job=%s state=handed-to-store-queue reason=needs-the-database", job.id[:24])
            queue.intermediate_queue.remove(job.id)
            review_queue(self.settings, self.connection).enqueue_job(job)
            return
        self._current_job = job
        try:
            if self.forks:
                before_fork()
                super().execute_job(job, queue)
            else:
                self._perform_here(job, queue)
        except RedisError as error:  # Redis went away while RQ recorded the job: the worker lives on
            # (RQ reconnects when it next dequeues); a job whose record was lost is run again by the
            # maintenance (abandoned jobs, lost reviews).
            log.warning("job=%s state=not-recorded error=%s", job.id[:24], type(error).__name__)
        finally:
            self._current_job = None
            if self._grace_timer is not None:  # the job ended within its grace: nothing left to cut short
                self._grace_timer.cancel()
            try:  # a dependent RQ left waiting for its clean-up (enqueue_ready_dependents): queue it now
                enqueue_ready_dependents(self.settings, self.connection)
            except RedisError as error:  # the clean-up in the maintenance will
                log.warning("job=%s state=dependents-not-queued error=%s", job.id[:24], type(error).__name__)
            if self._interrupted_job_id == job.id:
                self._interrupted_job_id = None
                mark_interrupted(self.settings, job, self.store)
            if self._restart_after_job:  # after the job's own bookkeeping: a process with no thread left over
                self._leave(restart=not self.stopping)  # or none at all, if it was asked to stop

    def _perform_here(self, job: Job, queue: Any) -> None:
        """A job, in this process (as RQ's ``SimpleWorker`` runs every job): no work-horse.

        Forking one per account cost about 0.07 s of CPU of the 0.28 s a member account's scan
        took in all, and about 35 ms per store or progress job, more than the job itself
        (``bench/org.py``: copy-on-write faults in the warmed process, the child's teardown), on
        cores the scan workers share. Nothing is lost by it: a scan job opens no database, a
        store job opens its own connection and closes it, and neither keeps anything after it
        returns (a scan's clients, sessions and credentials are the job's own objects); RQ's
        timeout still raises in the job (SIGALRM, on this thread); and what a work-horse gave
        besides, this worker does itself: a thread renews the job's lease while it runs
        (``_renew_lease``), and a stop that cannot wait (``interrupt_current_job``) or a job still
        running HARD_STOP_AFTER_SECONDS past its timeout (reads in flight, or a member's wait for
        the organization's cost data, outlasting the timeout RQ raised in it) fails the job, so
        that RQ runs it again on another worker, and ends this process or starts it again
        (``_give_up_here``). A job that leaves threads running (a timeout cut it short, or a Test
        connection left a member's AssumeRole unanswered) is followed by a fresh process too: the
        worker execs itself (``_leave``).
        """
        before = set(threading.enumerate())
        execution = self.prepare_execution(job)
        self._here = (queue, execution)
        finished = threading.Event()
        lease = threading.Thread(target=self._renew_lease, args=(job, execution, finished), daemon=True, name="lease")
        lease.start()
        try:
            self.perform_job(job, queue, execution)
        finally:
            finished.set()
            lease.join()
            self._here = None
            self.set_state(WorkerStatus.IDLE)
        left = self._threads_left(before)
        if left:  # a job that RQ's timeout cut short: its reads in flight, a member's wait for the cost data
            log.warning("job=%s state=threads-left threads=%s action=restart", job.id[:24], ",".join(left))
            self._restart_after_job = True

    def _threads_left(self, before: set[threading.Thread]) -> list[str]:
        """The threads a job started that still run, given THREADS_SETTLE_SECONDS to end (a pool's
        idle threads, told to, take a moment). Asked of ``threading.enumerate``, which lists a thread
        until it has really ended: not ``join`` nor ``is_alive``, which a join that RQ's timeout
        interrupted leaves saying a running thread has stopped (CPython 3.11's ``threading``)."""
        settle = time.monotonic() + THREADS_SETTLE_SECONDS
        while True:
            left = [t.name for t in threading.enumerate() if t not in before and t is not self._grace_timer]
            if not left or time.monotonic() >= settle:
                return left
            time.sleep(0.01)

    def _renew_lease(self, job: Job, execution: Any, finished: threading.Event) -> None:
        started = now()
        while not finished.wait(self.job_monitoring_interval):
            self.maintain_heartbeats(job, execution)
            if job.timeout in (None, -1):
                continue
            late = (now() - started).total_seconds() - job.timeout
            if late > min(HARD_STOP_AFTER_SECONDS, job.timeout):
                self._give_up_here(job, f"still-running-{late:.0f}s-after-its-timeout", restart=True)

    def _give_up_here(self, job: Job, reason: str, *, restart: bool = False) -> None:
        """End this process under a job that runs in it. A scan worker's job fails first, through
        RQ, which runs it again on another worker while it has retries left (FINOPS_SCAN_RETRIES).
        A job of a worker with the database ends as a work-horse's does when its worker stops it:
        RQ records it stopped, and its review, if it is one, fails with a sentence to act on
        (``mark_interrupted``). Then this worker leaves RQ's registry, as at any stop. Threads
        cannot be stopped; a process can."""
        log.warning("job=%s state=interrupted reason=%s", job.id[:24], reason)
        here = self._here
        try:
            if here is not None:
                queue, execution = here
                if self.store:
                    self._stopped_job_id = job.id
                self.handle_job_failure(job, queue=queue, exc_string=f"worker stopped: {reason}", execution=execution)
            mark_interrupted(self.settings, job, self.store)
        except RedisError as error:  # its lease runs out, and another worker's maintenance runs it again
            log.warning("job=%s state=not-failed error=%s", job.id[:24], type(error).__name__)
        except (sqlite3.Error, FinopsError) as error:  # the review stays running until the lost-review check
            log.warning("job=%s state=review-not-failed error=%s", job.id[:24], type(error).__name__)
        finally:
            self._leave(restart)

    def _leave(self, restart: bool) -> None:
        """Leave RQ's registry and end this process (``restart``: ``exec`` the same command in it:
        a fresh worker, with the same pid for whatever supervises it)."""
        try:
            self.register_death()
        except RedisError as error:  # RQ's registry drops a worker whose heartbeat stopped
            log.warning("worker state=not-deregistered error=%s", type(error).__name__)
        finally:
            logging.shutdown()
            if restart:
                os.execv(sys.executable, sys.orig_argv)  # noqa: S606 - this very command, again
            os._exit(0)

    def handle_work_horse_killed(self, job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
        """The work-horse died under its scan (the OOM killer, a SIGKILL): RQ records the job as
        failed but runs no failure callback for it, so the review is failed here, at once, with
        the sentence the heartbeat reaper would give a minute later."""
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)  # a scan or store job: RQ runs it again
        if self._interrupted_job_id != job.id and job.id.startswith("review-"):  # not our own stop
            fail_lost(self.settings, job, f"work-horse died: waitpid returned {ret_val}")

    def setup_work_horse_signals(self) -> None:
        super().setup_work_horse_signals()  # the horse ignores SIGINT (RQ)...
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # ...and SIGTERM: the worker decides when a scan stops
        die_with_parent(signal.SIGKILL, parent_pid=self._worker_pid)

    def interrupt_current_job(self) -> Job | None:
        """Kill the work-horse now; its review is marked when RQ has reaped it (``execute_job``).
        A job running in this process (a worker that does not fork) is failed and the process ends
        instead."""
        job = self._current_job
        if job is not None and self._here is not None:
            self._give_up_here(job, "worker-stopping")
        if job is None or not self.horse_pid:
            return None
        log.warning("job=%s state=interrupted reason=worker-stopping", job.id[:16])
        self._interrupted_job_id = job.id
        if self.store:  # RQ records the job as stopped, and its review says it was interrupted
            self._stopped_job_id = job.id
        # A scan worker cannot write the review: its account's job fails, and RQ runs it again on
        # another worker (``FINOPS_SCAN_RETRIES``).
        self.kill_horse()
        return job

    # -- stopping --------------------------------------------------------------------------------
    @property
    def stopping(self) -> bool:
        return self._stop_requested or self._shutdown_requested_date is not None

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        try:
            super().request_stop(signum, frame)  # idle: raises StopRequested, and the loop ends
        except RedisError as error:  # its Redis stopped first (a signal sent to every process)
            log.warning("worker state=stopping redis=unreachable error=%s", error)
            self._stop_requested = True
            if self._current_job is None:
                raise StopRequested() from None
        # Busy: RQ would wait for the scan however long it takes; a supervisor will not.
        grace = self.settings.shutdown_grace
        log.info("worker state=stopping running-scan-grace=%ss", grace)
        self._grace_timer = threading.Timer(grace, self.interrupt_current_job)
        self._grace_timer.daemon = True
        self._grace_timer.start()

    def request_force_stop(self, signum: int, frame: FrameType | None) -> None:
        started = self._shutdown_requested_date
        if started and now() - started < timedelta(seconds=1):
            return  # the same stop relayed twice (RQ's rule: a pool and a terminal both signal)
        log.warning("worker state=stopping-now")
        if self.interrupt_current_job() is not None:
            self.wait_for_horse()
        raise SystemExit(0)

    def on_parent_death(self) -> None:
        """The embedded server that started us is gone (and its Redis with it): stop at once."""
        job = self.interrupt_current_job()
        if job is not None:
            mark_interrupted(self.settings, job, self.store)
        os._exit(0)


def fail_lost(settings: Settings, job: Job, detail: str) -> None:
    """Fail the job's review (this attempt only) as lost: the customer is told to start again."""
    reviews.fail(connect(settings.db_path), job.args[0], WorkerLost(detail), attempt=attempt_of(job.id))


def mark_interrupted(settings: Settings, job: Job, store: bool = True) -> None:
    """Fail the job's review, if this attempt is still running, or its Test connection, with a
    sentence to act on. (RQ runs no failure callback for a job its worker stopped.)"""
    if not store:
        return
    if job.id.startswith("connection-"):  # "did not finish, try again", not a spinner until the page gives up
        connection_checks.fail(connect(settings.db_path), job.args[0])
        return
    if not job.id.startswith(("review-", "scan-")):
        return  # an email: its claim expires and the outbox tries it again (finops.mail.CLAIM_EXPIRES)
    spec = job.args[0]
    review_id, attempt = (spec["review_id"], spec["attempt"]) if isinstance(spec, dict) else (spec, attempt_of(job.id))
    reviews.fail(connect(settings.db_path), review_id, ScanInterrupted(f"job {job.id} stopped"), attempt=attempt)
