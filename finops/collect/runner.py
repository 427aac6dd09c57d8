"""Fan (collector, region) reads out over a bounded thread pool and record each as coverage.

Clients are built for every region before the fan-out. A collector declaring ``after`` (EBS
snapshots after AMIs, Lambda provisioned concurrency after functions, CloudWatch metrics after the
resources they measure) reads a region once what it names has been read there (a global
dependency: once it has been read; a global reader: once it has been read everywhere), and reads
that inventory; it is told which of those reads failed. No read waits for reads it does not need,
so one slow or throttled read delays only what depends on it.
Each read's API calls and HTTP attempts are counted into its Coverage (see
``finops.aws.session.count_calls``); attempts beyond calls are botocore's retries (throttling,
5xx answers, dropped connections), shown as "retried N times" in the read's detail. Every item
passes through ``redact``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from finops.aws.limits import NO_ANSWER, EndpointUnreachable, no_answer_reason
from finops.aws.session import SessionRenewalFailed
from finops.collect import CollectContext, CollectorSpec, redact
from finops.errors import DependencyUnavailable, ReadOnlyViolation
from finops.iam_policy import denied_sentence
from finops.models import (
    COV_DENIED,
    COV_ERROR,
    COV_OK,
    COV_REGION_DISABLED,
    COV_THROTTLED,
    Coverage,
    InventoryItem,
)

log = logging.getLogger(__name__)

DENIED_CODES = {
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
    "UnauthorizedException", "Forbidden",
}
REGION_DISABLED_CODES = {
    "OptInRequired", "AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId",
    "RegionDisabledException",
}
THROTTLED_CODES = {
    "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
    "RequestThrottled", "SlowDown", "LimitExceededException",
}

Progress = Callable[[Coverage, int, int], None]


_DENIED_ACTION = re.compile(r"perform: ([a-z0-9-]+:[A-Za-z0-9]+)")


def classify(
    error: Exception, iam_actions: tuple[str, ...], endpoint: tuple[str, str] | None = None
) -> tuple[str, str]:
    """Map an exception to a coverage status and a sentence naming the gap (``endpoint``: the
    read's (service, region), named when it did not answer)."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in DENIED_CODES:
            # AWS names the refused action ("... is not authorized to perform: ecs:DescribeTaskDefinition");
            # when it does and it is one of ours, name that one, else every action the read needs.
            named = _DENIED_ACTION.search(error.response.get("Error", {}).get("Message", ""))
            if named and named.group(1) in iam_actions:
                return COV_DENIED, denied_sentence(named.group(1))
            return COV_DENIED, f"the role lacks {' or '.join(iam_actions)}"
        if code in REGION_DISABLED_CODES:
            return COV_REGION_DISABLED, "the region is not enabled for this account"
        if code in THROTTLED_CODES:
            return COV_THROTTLED, f"AWS kept throttling the calls ({code}) after every retry"
        return COV_ERROR, f"AWS answered {code or 'an error'}"
    if isinstance(error, (EndpointUnreachable, *NO_ANSWER)):
        service, region = endpoint or ("AWS", "this region")
        if isinstance(error, EndpointUnreachable):  # it knows which endpoint (S3's may be another region's)
            service, region = error.kwargs["service"], error.kwargs["region"]
        return COV_ERROR, (f"the {service} endpoint in {region} did not answer ({no_answer_reason(error)}); "
                           "nothing was read from it, run the review again later")
    if isinstance(error, SessionRenewalFailed):
        return COV_ERROR, (f"{error}: the role was removed, or its trust policy changed, during the scan")
    if isinstance(error, BotoCoreError):
        return COV_ERROR, f"the call failed before AWS answered ({type(error).__name__})"
    return COV_ERROR, f"an internal error ({type(error).__name__})"


def build_clients(
    session: Any,
    specs: Iterable[CollectorSpec],
    regions: Iterable[str],
    config: Config,
    scopes: dict[str, list[str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Regional clients, built before the fan-out (client creation is not thread-safe).

    With ``scopes`` (collector id -> its regions), a region gets only the services whose
    collectors read there (global collectors' services only in us-east-1).
    """
    specs = list(specs)
    wanted: dict[str, set[str]] = {region: set() for region in regions}
    for spec in specs:
        for region in (scopes or {}).get(spec.id, list(wanted)):
            wanted.setdefault(region, set()).add(spec.service)
    return {
        region: {svc: session.client(svc, region_name=region, config=config) for svc in sorted(services)}
        for region, services in wanted.items()
    }


class CollectorProgress:
    """Turn per-(collector, region) reads into one progress line per collector, once all its
    regions are read, e.g. "EC2 instances: read in 2 of 2 regions (4 API calls, 1 retry)".

    Feed it every Coverage the runner's ``progress`` callback receives; it returns the line
    (or None while the collector still has regions to read).
    """

    def __init__(self, specs: Iterable[CollectorSpec], regions: list[str]):
        self._specs = {spec.id: spec for spec in specs}
        self._expected = {sid: 1 if s.scope == "global" else len(regions) for sid, s in self._specs.items()}
        self._done: dict[str, list[Coverage]] = {}

    def update(self, record: Coverage) -> str | None:
        spec = self._specs.get(record.source)
        if spec is None:
            return None
        done = self._done.setdefault(spec.id, [])
        done.append(record)
        if len(done) != self._expected[spec.id]:
            return None
        ok = sum(1 for c in done if c.status == COV_OK)
        calls = sum(c.api_calls for c in done)
        retries = sum(c.retries for c in done)
        counts = f"{calls} API call{'s' if calls != 1 else ''}"
        if retries:
            counts += f", {retries} retr{'ies' if retries != 1 else 'y'}"
        where = "" if spec.scope == "global" else f" in {ok} of {len(done)} region{'s' if len(done) != 1 else ''}"
        verb = "read" if ok else "not read"
        return f"{spec.title}: {verb}{where} ({counts})"


def phases(specs: list[CollectorSpec]) -> list[list[CollectorSpec]]:
    """Order collectors into phases: each runs after every collector named in its ``after``.

    A dependency that is not among ``specs`` is ignored for ordering (the dependent collector sees
    no items of it, and finds it in ``CollectContext.unavailable``), so a partial run still works.
    """
    ids = {spec.id for spec in specs}
    done: set[str] = set()
    remaining = list(specs)
    out: list[list[CollectorSpec]] = []
    while remaining:
        ready = [s for s in remaining if all(dep in done or dep not in ids for dep in s.after)]
        if not ready:
            raise ValueError(f"collector dependency cycle among {[s.id for s in remaining]}")
        out.append(ready)
        done |= {s.id for s in ready}
        remaining = [s for s in remaining if s not in ready]
    return out


def _read_dependencies(
    spec: CollectorSpec, region: str, specs_by_id: dict[str, CollectorSpec], scopes: dict[str, list[str]]
) -> set[tuple[str, str]]:
    """The (collector, region) reads one read must wait for: a global dependency's one read, a
    regional dependency's read in the same region (every region's, for a global reader)."""
    out: set[tuple[str, str]] = set()
    for dep in spec.after:
        other = specs_by_id.get(dep)
        if other is None:
            continue  # not run at all: the read finds it in ``unavailable``
        if other.scope == "global" or spec.scope == "global":
            out |= {(dep, where) for where in scopes[dep]}
        else:
            out.add((dep, region))
    return out


def run_collectors(
    session: Any,
    account_id: str,
    regions: list[str],
    specs: list[CollectorSpec],
    *,
    config: Config,
    concurrency: int,
    calls: threading.local,
    progress: Progress | None = None,
    on_read: Callable[[Coverage, list[InventoryItem]], None] | None = None,
    on_partial: Callable[[str, list[InventoryItem]], None] | None = None,
    lookback_days: int = 30,
    now: datetime | None = None,
) -> tuple[list[InventoryItem], list[Coverage]]:
    """Read every (collector, region), each once its dependencies are read; return inventory and one
    Coverage per read.

    ``progress(record, done, total)`` is called from this thread after each read finishes, and
    ``on_read(record, items)`` with what that read found (an organization review queues its member
    accounts as soon as the management account's list of them is read). ``on_partial(collector id,
    items)``, from the read's own threads, with what a read offers before it ends (``CollectContext.partial``:
    the organization's accounts listed so far).
    """
    now = now or datetime.now(UTC)
    specs_by_id = {spec.id: spec for spec in specs}
    scopes = {spec.id: (["us-east-1"] if spec.scope == "global" else regions) for spec in specs}
    total = sum(len(r) for r in scopes.values())
    client_scopes = {
        spec.id: sorted({*scopes[spec.id], *regions}) if spec.regional_clients else scopes[spec.id] for spec in specs
    }
    clients = build_clients(
        session, specs, sorted({r for rs in client_scopes.values() for r in rs}), config, client_scopes
    )

    def read(
        spec: CollectorSpec, region: str, earlier: tuple[InventoryItem, ...], failed: frozenset[tuple[str, str]]
    ) -> tuple[Coverage, list[InventoryItem]]:
        record = Coverage(source=spec.id, region="global" if spec.scope == "global" else region)
        calls.record = record
        items: list[InventoryItem] = []
        view = earlier if spec.scope == "global" else tuple(i for i in earlier if i.region == region)
        # Dependencies not run at all, or whose read failed: a global one once for all, a regional
        # one in this region (for a global reader, in any region).
        unavailable = frozenset(
            dep for dep in spec.after
            if dep not in specs_by_id
            or any(src == dep and (spec.scope == "global" or where in (region, "global")) for src, where in failed)
        )

        def fan_out(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
            """``fn`` over ``items`` on up to ``concurrency`` threads, calls counted into ``record``."""

            def counted(item: Any) -> Any:
                calls.record = record
                try:
                    return fn(item)
                finally:
                    calls.record = None

            if concurrency <= 1 or len(items) <= 1:
                return [fn(item) for item in items]
            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"fan-{spec.id}") as inner:
                return list(inner.map(counted, items))

        def partial(found: list[InventoryItem]) -> None:
            if on_partial is not None:
                on_partial(spec.id, [replace(item, data=redact(item.data)) for item in found])

        context = CollectContext(
            account_id, region, clients[region], view, lookback_days, now, tuple(regions),
            clients if spec.regional_clients else {}, fan_out, unavailable, partial,
        )
        try:
            items = [replace(item, data=redact(item.data)) for item in spec.fn(context)]
        except ReadOnlyViolation:
            raise  # a bug, never a coverage gap: fail the review loudly
        except DependencyUnavailable as error:
            titles = [specs_by_id[c].title if c in specs_by_id else c for c in error.collector_ids]
            record.status = COV_ERROR
            record.detail = f"it needs {' and '.join(titles)}, which could not be read"
            items = []
            log.info("collector=%s region=%s state=%s detail=%s", spec.id, region, record.status, record.detail)
        except Exception as error:  # every other failure becomes recorded coverage
            record.status, record.detail = classify(
                error, spec.iam_actions, (spec.service, "us-east-1" if spec.scope == "global" else region))
            items = []
            log.info(
                "collector=%s region=%s state=%s detail=%s",
                spec.id, region, record.status, record.detail,
            )
        else:
            record.status = COV_OK
        finally:
            calls.record = None
        if record.retries:
            retried = f"retried {record.retries} time{'s' if record.retries != 1 else ''}"
            record.detail = f"{record.detail}; {retried}" if record.detail else retried
        return record, items

    inventory: list[InventoryItem] = []
    coverage: list[Coverage] = []
    phases(specs)  # refuses a dependency cycle before anything is read
    # Each read waits for the reads it depends on, not for a whole phase: CloudWatch metrics of a
    # region start once that region's resources (and the account's S3 buckets) are read, EBS
    # snapshots of a region once its AMIs are. Global reads are submitted first: each is one chain
    # of calls for the whole account (S3's, with its per-bucket calls, is the longest of the scan).
    pending = [(spec, region) for spec in sorted(specs, key=lambda spec: spec.scope != "global")
               for region in scopes[spec.id]]
    needs = {(spec.id, region): _read_dependencies(spec, region, specs_by_id, scopes) for spec, region in pending}
    finished: set[tuple[str, str]] = set()
    running: dict[Future, tuple[str, str]] = {}
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="collect") as pool:

        def submit_ready() -> None:
            ready = [(spec, region) for spec, region in pending if needs[(spec.id, region)] <= finished]
            if not ready:
                return
            earlier = tuple(inventory)
            failed = frozenset((c.source, c.region) for c in coverage if c.status != COV_OK)
            for spec, region in ready:
                pending.remove((spec, region))
                running[pool.submit(read, spec, region, earlier, failed)] = (spec.id, region)

        submit_ready()
        while running:
            completed, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in completed:
                finished.add(running.pop(future))
                record, items = future.result()
                coverage.append(record)
                inventory.extend(items)
                if on_read:
                    on_read(record, items)
                if progress:
                    progress(record, len(coverage), total)
            submit_ready()
    coverage.sort(key=lambda c: (c.source, c.region))
    inventory.sort(key=lambda i: (i.resource_type, i.region, i.resource_id))
    return inventory, coverage
