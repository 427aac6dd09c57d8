"""WHAT-IF, NOT THE PRODUCT'S CODE: ``finops-pack worker`` with proposed changes patched in, for
bench/org.py ``--what-if`` (see bench/README.md, "Organization benchmark: what-if").

    python bench/org_worker.py WHAT_IFS [worker arguments...]      WHAT_IFS: comma separated, or "-"

- ``preload``: the worker process imports what a scan job needs (jobs.scan, finops.scan, every
  collector and check) before it forks work-horses, so no work-horse imports them again.
- ``shared-loader``: every botocore session of the process shares one botocore data loader (and
  so its cache of parsed service models, endpoint rules and paginators), and the worker process
  fills it before it forks (a client per service the scan uses), so a work-horse parses no JSON
  model again. Implies ``preload``.
- ``gc-freeze``: ``finops.worker.before_fork`` also calls ``gc.freeze()`` after its collection, so
  the work-horse's garbage collector never writes to the objects it inherited (each write copies a
  page: copy-on-write), e.g. the loader's parsed models.
- ``horse-cpu``: no change to the worker; each work-horse appends one line to
  ``$FINOPS_BENCH_PROFILE_DIR/horses.txt`` (default /tmp/finops-bench-horses): the worker's pid, the
  job's start and end (``perf_counter``), its id, its CPU, user and system time and minor page faults.
- ``store-here``: a worker with the database and no scans (``--store --no-scan``) runs each job
  in its own process, as a scan worker does (``ReviewWorker._perform_here``), instead of forking a
  work-horse for it.
- ``per-client-http``: every AWS client gets its own HTTP session (connection pool), as botocore
  makes it, instead of sharing its endpoint's (``finops.aws.guard._shared_http_session``): the
  product before that change, for comparison.
- ``client-copies``: each guarded client gets botocore's own full copy of its session's handler
  registry, checks each handler it registers with ``inspect``, and parses its service's endpoint
  rules anew (``finops.aws.guard._SharedTrie``, ``_GuardedEmitter``, the ``EndpointProvider``
  cache undone): the product before that change, for comparison.
- ``late-organization``: the scan lists the organization's accounts among the other collectors,
  after who-am-I and the region list (``finops.scan.FIRST_READS`` empty): the product before that
  change, for comparison.
- ``whole-list``: the management account's scan queues its members once ListAccounts has
  returned every page, not page by page (``jobs.scan._FanOut.on_partial`` does nothing): the
  product before that change, for comparison.
- ``profile``: ``horse-cpu``, and each work-horse's ``perform_job`` under cProfile (its main thread
  only), written to ``<job id>.prof`` in the same directory.

The first three are now the product's own code (``finops.worker.warm_up``), and so is
``store-here`` (``ReviewWorker.forks``, since e8cfade); they stay for comparisons with older commits.
``per-client-http``, ``client-copies``, ``late-organization`` and ``whole-list`` undo changes the product
made since, to measure them.

Then runs ``finops.cli.main(["worker", ...])`` unchanged.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

# Not bench/ (Python puts a script's directory first): pickle probes ``import org`` (Jython's
# org.python.core), which would find bench/org.py.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def preload() -> None:
    import finops.organization  # noqa: F401
    import finops.scan  # noqa: F401
    import jobs.scan  # noqa: F401
    import jobs.store  # noqa: F401
    from finops.collect import discover

    discover()
    try:
        from finops.checks import discover as discover_checks

        discover_checks()
    except ImportError:
        pass


def share_loader() -> None:
    """One botocore Loader per process for every guarded session, filled before forking."""
    from botocore.loaders import create_loader

    from finops.aws import guard

    loader = create_loader()
    original_init = guard._GuardedCore.__init__

    def init(self: Any) -> None:
        original_init(self)
        self.register_component("data_loader", loader)

    guard._GuardedCore.__init__ = init  # type: ignore[method-assign]
    from finops.aws.guard import guarded_session
    from finops.aws.session import SCANNER_OPERATIONS

    session = guarded_session(SCANNER_OPERATIONS)
    for service in os.environ.get("FINOPS_BENCH_WARM_SERVICES", "").split(","):
        if service:
            try:
                session.client(service, region_name="us-east-1")
            except Exception as error:  # noqa: BLE001 - a what-if: an unknown name is only not warmed
                print(f"org_worker: not warmed {service}: {error}", file=sys.stderr)


def freeze_before_fork() -> None:
    import gc

    import finops.worker

    original = finops.worker.before_fork

    def before_fork() -> None:
        original()
        gc.freeze()

    finops.worker.before_fork = before_fork


def watch_horses(profile: bool) -> None:
    """``horse-cpu`` and ``profile`` (module docstring)."""
    import cProfile

    from finops.worker import ReviewWorker

    original = ReviewWorker.perform_job
    out = Path(os.environ.get("FINOPS_BENCH_PROFILE_DIR", "/tmp/finops-bench-horses"))

    def perform_job(self: Any, job: Any, queue: Any, *args: Any, **kwargs: Any) -> Any:
        prof = cProfile.Profile()
        cpu, started = time.process_time(), time.perf_counter()
        if profile:
            prof.enable()
        try:
            return original(self, job, queue, *args, **kwargs)
        finally:
            prof.disable()
            ended = time.perf_counter()
            out.mkdir(parents=True, exist_ok=True)
            if profile:
                prof.dump_stats(str(out / f"{job.id}.prof"))
            usage = resource.getrusage(resource.RUSAGE_SELF)
            with open(out / "horses.txt", "a") as lines:
                lines.write(f"{os.getppid()} {started:.3f} {ended:.3f} {job.id} cpu {time.process_time() - cpu:.3f} "
                            f"wall {ended - started:.3f} user {usage.ru_utime:.3f} sys {usage.ru_stime:.3f} "
                            f"minflt {usage.ru_minflt}\n")

    ReviewWorker.perform_job = perform_job  # type: ignore[method-assign]


def store_here() -> None:
    from finops.worker import ReviewWorker

    original = ReviewWorker.execute_job

    def execute_job(self: Any, job: Any, queue: Any) -> None:
        if not self.store or "--no-scan" not in sys.argv:
            return original(self, job, queue)
        store, self.store = self.store, False
        try:
            self._current_job = job
            self._perform_here(job, queue)
        finally:
            self._current_job = None
            self.store = store
            from finops.queue import enqueue_ready_dependents

            enqueue_ready_dependents(self.settings, self.connection)

    ReviewWorker.execute_job = execute_job  # type: ignore[method-assign]


def per_client_http() -> None:
    from botocore.httpsession import URLLib3Session

    from finops.aws import guard

    guard._shared_http_session = lambda *_: URLLib3Session  # type: ignore[assignment]


def client_copies() -> None:
    import copy

    import botocore.regions
    import botocore.session

    from finops.aws import guard

    provider, init_resolver = botocore.regions.EndpointProvider, botocore.regions.EndpointRulesetResolver.__init__
    guard._install_client_caches()
    botocore.regions.EndpointProvider = provider  # type: ignore[misc]
    botocore.regions.EndpointRulesetResolver.__init__ = init_resolver  # type: ignore[method-assign]
    builtin = botocore.session.Session()._original_handler

    def copy_of_builtin_events() -> object:
        return copy.copy(builtin)

    guard._copy_of_builtin_events = copy_of_builtin_events


def main() -> int:
    what_ifs = {w for w in sys.argv[1].split(",") if w and w != "-"}
    started = time.process_time()
    if what_ifs & {"preload", "shared-loader"}:
        preload()
    if "shared-loader" in what_ifs:
        share_loader()
    if what_ifs & {"profile", "horse-cpu"}:
        watch_horses(profile="profile" in what_ifs)
    if "store-here" in what_ifs:
        store_here()
    if "late-organization" in what_ifs:
        import finops.scan

        finops.scan.FIRST_READS = ()
    if "whole-list" in what_ifs:
        import jobs.scan

        jobs.scan._FanOut.on_partial = lambda *_: None  # type: ignore[method-assign]
    if "client-copies" in what_ifs:
        client_copies()
    if "per-client-http" in what_ifs:
        per_client_http()
    if "gc-freeze" in what_ifs:
        freeze_before_fork()
    if what_ifs:
        print(f"org_worker: what-if {sorted(what_ifs)} prepared in {time.process_time() - started:.2f} s CPU",
              file=sys.stderr)
    from finops.cli import main as cli_main

    return cli_main(["worker", *sys.argv[2:]])


if __name__ == "__main__":
    sys.exit(main())
