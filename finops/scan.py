"""The scan pipeline: assume the role, discover regions, collect, check, price.

The same function serves the RQ job and ``finops-pack scan``; it does no storage. Callbacks
report steps and progress so the job can write them to SQLite for the live progress view.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config

from finops.aws.arn import is_valid_external_id, parse_role_arn
from finops.aws.limits import CallLimits
from finops.aws.regions import enabled_regions, validate_requested
from finops.aws.session import STS_REGION, assume_customer_role, client_config, count_calls
from finops.checks import run_checks
from finops.checks.context import CheckContext
from finops.checks.merge import merge
from finops.checks.thresholds import Thresholds, load_thresholds
from finops.collect import discover as discover_collectors
from finops.collect.runner import CollectorProgress, classify, run_collectors
from finops.config import Settings
from finops.cost import CE_REQUEST_PRICE, COST_READS, collect_costs, cost_clients
from finops.errors import ExternalIdMismatch
from finops.gcpause import no_cyclic_gc
from finops.models import COV_OK, CheckSummary, CostData, Coverage, InventoryItem, Reads, ScanResult
from finops.pricing import PriceCatalogue, load_catalogue

log = logging.getLogger(__name__)

StepFn = Callable[[str], None]
ProgressFn = Callable[[int], None]

REGIONS_SOURCE = "account.regions"
ACCOUNT_SOURCE = "account.identity"
# Read as soon as the role is assumed, beside who-am-I and the region list, which they do not need:
# an organization review's member accounts are queued once its management account has listed them.
FIRST_READS = ("account.organization",)
# The scan's own reads besides the collectors and the cost sources (declared like theirs).
SCAN_READS: dict[str, Reads] = {
    ACCOUNT_SOURCE: Reads("sts", ("GetCallerIdentity",), ()),  # needs no permission (STS documentation)
    REGIONS_SOURCE: Reads("ec2", ("DescribeRegions",), ("ec2:DescribeRegions",)),
}


def _noop(*_: object) -> None:
    return None


def scan_config(settings: Settings) -> Config:
    """One botocore config for every client of a scan: standard retries, the timeouts, and a
    connection pool per client as large as the threads that can share it."""
    return client_config(
        settings.aws_max_attempts, pool=max(10, settings.scan_concurrency * 2),
        connect_timeout=settings.aws_connect_timeout, read_timeout=settings.aws_read_timeout,
    )


def run_scan(
    role_arn: str,
    external_id: str,
    settings: Settings,
    *,
    regions: Sequence[str] = (),
    base_session: boto3.Session | None = None,
    prices: PriceCatalogue | None = None,
    thresholds: Thresholds | None = None,
    threshold_overrides: Mapping[str, Any] | None = None,
    on_step: StepFn = _noop,
    on_progress: ProgressFn = _noop,
    on_read: Callable[[Coverage, list[InventoryItem]], None] | None = None,
    on_partial: Callable[[str, list[InventoryItem]], None] | None = None,
    shared_costs: SharedCosts | Callable[[], SharedCosts] | None = None,
) -> ScanResult:
    """Scan one account through ``role_arn``, after proving the role refuses a missing or wrong External ID.

    ``shared_costs``: Cost Explorer and Cost Optimization Hub as already read once for a whole
    organization from its management account (``finops.organization``). This scan then sends no
    cost request of its own; its checks see that account's recommendations and the resource costs,
    and decide whether they can run from the management account's reads of them (those reads stay
    in the management account's coverage: a gap there is not repeated in every member's). A
    function instead is called on the cost thread while the inventory is read, and returns them
    once the management account's scan has (``jobs.scan``: a member's scan starts as soon as the
    management account has listed the accounts, not after its whole scan).

    ``on_read(record, items)``: each collector read's coverage and items, as soon as it is done;
    ``on_partial(collector id, items)``: what a read has found before it is done (the organization's
    accounts, page by page), from that read's thread.
    """
    now = datetime.now(UTC).replace(microsecond=0)  # one clock for every metric window and every age
    thresholds = thresholds or load_thresholds(settings.thresholds_file, threshold_overrides)
    prices = prices or load_catalogue(settings.price_catalogue)
    role = parse_role_arn(role_arn)
    if not is_valid_external_id(external_id):
        raise ExternalIdMismatch("External ID has an invalid format")
    requested = validate_requested(list(regions) or list(settings.regions))
    config = scan_config(settings)
    limits = CallLimits(settings.aws_calls_per_endpoint, max_attempts=settings.aws_max_attempts)

    on_step(f"Checking that {role.arn} refuses AssumeRole without this review's External ID")
    session = assume_customer_role(role, external_id, base=base_session, config=config, limits=limits)
    on_step("Role assumed with the External ID; it refuses a missing or wrong External ID")
    on_progress(5)

    calls = threading.local()
    count_calls(session, calls)
    coverage: list[Coverage] = []
    every_collector = list(discover_collectors().values())
    collectors = [c for c in every_collector if c.id not in FIRST_READS]
    first = _FirstReads(
        session, role.account_id, [c for c in every_collector if c.id in FIRST_READS],
        config=config, concurrency=settings.scan_concurrency, calls=calls, on_read=on_read, on_partial=on_partial,
        lookback_days=settings.metrics_lookback_days, now=now,
    )
    try:
        identity = Coverage(source=ACCOUNT_SOURCE, region="global")
        calls.record = identity
        account_id = session.client("sts", region_name=STS_REGION, config=config).get_caller_identity()["Account"]
        calls.record = None
        coverage.append(identity)
        on_step(f"Connected to account {account_id}")

        scan_regions, region_cov = _discover_regions(session, config, requested, calls)
    except BaseException:
        first.wait()
        raise
    coverage.append(region_cov)
    on_step(f"Scanning {len(scan_regions)} enabled commercial regions: {', '.join(scan_regions)}")
    on_progress(10)

    per_collector = CollectorProgress(every_collector, scan_regions)

    def note(record: Coverage) -> None:
        if record.status != COV_OK:
            on_step(f"{record.source} in {record.region}: {record.status.replace('_', ' ')}, {record.detail}")
        line = per_collector.update(record)  # e.g. "EC2 instances: read in 17 of 17 regions (34 API calls)"
        if line:
            on_step(line)

    def collected(record: Coverage, done: int, total: int) -> None:
        note(record)
        on_progress(10 + int(80 * done / max(total, 1)))

    # The cost sources are account-wide and sequential (each Cost Explorer page is paid for): read
    # them on their own thread while the inventory fans out, instead of after it. Their clients
    # are built here, before either starts; their steps are written once both are done, from
    # this thread (the step log's database connection belongs to it). A member account of an
    # organization review reads none: its management account reads them for every account, and
    # this thread waits for them (``shared_costs`` a function) while the inventory is read.
    cost_steps: list[str] = []
    cost_outcome: dict[str, Any] = {}
    if shared_costs is None:
        clients = cost_clients(session, config)

        def read_costs() -> tuple[CostData, list[Coverage]]:
            return collect_costs(session, account_id, settings, config, calls, cost_steps.append, clients=clients)
    else:
        cost_steps.append(
            "Cost Explorer and Cost Optimization Hub: read once for the organization, from its management account"
        )

        def read_costs() -> tuple[CostData, list[Coverage]]:
            shared = shared_costs if isinstance(shared_costs, SharedCosts) else shared_costs()
            cost_outcome["shared"] = shared
            return costs_of_member(shared.data, account_id), []

    def cost_sources() -> None:
        try:
            cost_outcome["result"] = read_costs()
        except BaseException as error:  # re-raised below, on the scan's thread
            cost_outcome["error"] = error

    cost_thread = threading.Thread(target=cost_sources, name="cost-sources", daemon=True)
    cost_thread.start()
    try:
        inventory, read_cov = run_collectors(
            session, account_id, scan_regions, collectors,
            config=config, concurrency=settings.scan_concurrency, calls=calls, progress=collected, on_read=on_read,
            on_partial=on_partial, lookback_days=settings.metrics_lookback_days, now=now,
        )
    finally:
        cost_thread.join()
        first_inventory, first_cov = first.join()
    for record in first_cov:  # their steps, from this thread, once they are in
        note(record)
    inventory = sorted([*first_inventory, *inventory], key=lambda i: (i.resource_type, i.region, i.resource_id))
    coverage.extend(sorted([*first_cov, *read_cov], key=lambda c: (c.source, c.region)))
    on_step(f"Read {len(inventory)} resources")
    for message in cost_steps:
        on_step(message)
    if "error" in cost_outcome:
        raise cost_outcome["error"]
    costs, cost_cov = cost_outcome["result"]
    coverage.extend(cost_cov)
    on_progress(92)
    on_step(
        f"Cost Explorer requests for this review: {costs.ce_requests} "
        f"(${costs.ce_requests * CE_REQUEST_PRICE} at ${CE_REQUEST_PRICE} each); running savings checks"
    )
    checks_started = time.process_time()  # the cost thread has joined: this thread is the only one working
    with no_cyclic_gc():
        context = CheckContext(
            account_id=account_id, regions=scan_regions, now=now, prices=prices, thresholds=thresholds,
            inventory=inventory, costs=costs,
            coverage=[*coverage, *cost_outcome["shared"].coverage] if "shared" in cost_outcome else coverage,
        )
        checked = run_checks(context)
        merged = merge(checked.findings, costs.resource_costs)
    checks_cpu = time.process_time() - checks_started
    coverage.extend(checked.coverage)
    on_step(
        f"Ran {len(checked.evaluated)} savings checks: {len(merged.findings)} opportunities"
        + (f" and {len(merged.commitments)} commitment(s)" if merged.commitments else "")
    )
    on_progress(95)
    summary = CheckSummary(
        evaluated_at=now.isoformat(), thresholds=thresholds.echo(), checks=checked.evaluated,
        catalogue_generated_at=prices.generated_at, catalogue_generator=prices.generator,
        catalogue_sources=[{"id": s.id, "title": s.title, "url": s.url, "retrieved": s.retrieved}
                           for s in prices.sources.values()],
        cpu_seconds=round(checks_cpu, 4),
    )
    return ScanResult(
        account_id, scan_regions, coverage, inventory, merged.findings, costs, merged.commitments, summary
    )


class _FirstReads:
    """``FIRST_READS`` (global reads), on a thread of their own from the moment the role is assumed.
    Their account is the role's (AssumeRole gives a session in the role's own account); their
    coverage, items and ``on_read`` are as they would be among the other collectors."""

    def __init__(self, session: Any, account_id: str, specs: list[Any], **options: Any):
        self.specs = specs
        self._outcome: dict[str, Any] = {}

        def read() -> None:
            try:
                self._outcome["result"] = run_collectors(session, account_id, [], specs, **options)
            except BaseException as error:  # re-raised by join, on the scan's thread
                self._outcome["error"] = error

        self._thread = threading.Thread(target=read, name="first-reads", daemon=True)
        if specs:
            self._thread.start()

    def wait(self) -> None:
        if self.specs:
            self._thread.join()

    def join(self) -> tuple[list[InventoryItem], list[Coverage]]:
        if not self.specs:
            return [], []
        self.wait()
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome["result"]


@dataclass(frozen=True)
class SharedCosts:
    """The cost sources of an organization, read once by its management account's scan: what
    they said, and the coverage rows of those reads."""

    data: CostData
    coverage: tuple[Coverage, ...]

    @classmethod
    def of(cls, management: ScanResult) -> SharedCosts:
        return cls(management.costs, tuple(c for c in management.coverage if c.source in COST_READS))


def costs_of_member(shared: CostData, account_id: str) -> CostData:
    """What a member account's checks see of the organization's cost data: Cost Optimization Hub's
    recommendations for that account (so each lands in the account it belongs to), the resource
    costs (the checks look them up by their resource's id), and COH's estimation mode. No spend (it
    stays with the organization) and no Cost Explorer request: the management account paid for them."""
    return CostData(
        resource_costs=list(shared.resource_costs),
        recommendations=[r for r in shared.recommendations if r.account_id == account_id],
        resources_start=shared.resources_start,
        resources_end=shared.resources_end,
        coh_enrollment=shared.coh_enrollment,
        coh_savings_estimation_mode=shared.coh_savings_estimation_mode,
        coh_currency=shared.coh_currency,
    )


def _discover_regions(
    session: boto3.Session, config: object, requested: list[str], calls: threading.local
) -> tuple[list[str], Coverage]:
    record = Coverage(source=REGIONS_SOURCE, region="global")
    calls.record = record
    try:
        enabled, _disabled = enabled_regions(session.client("ec2", region_name=STS_REGION, config=config))
    except Exception as error:  # recorded as coverage; the scan goes on in us-east-1 only
        record.status, reason = classify(error, ("ec2:DescribeRegions",))
        record.detail = f"{reason}; only {STS_REGION} was scanned"
        enabled = [STS_REGION]
    finally:
        calls.record = None
    if requested:
        not_enabled = [r for r in requested if r not in enabled]
        if not_enabled and record.status == COV_OK:
            record.detail = f"not enabled in this account, skipped: {', '.join(not_enabled)}"
        enabled = [r for r in requested if r in enabled] or ([STS_REGION] if record.status != COV_OK else [])
    return enabled, record
