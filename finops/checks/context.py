"""CheckContext: everything a check may read, built once per review. No I/O, no clock of its own.

A check reads the inventory through indexes (by collector and region, by id, by ARN) and
relations (a volume's instance, an instance's volumes and addresses, a NAT gateway's addresses, a
snapshot's source volume and AMIs, an image's users, a cluster's members); CloudWatch evidence as
``MetricSummary`` (daily series plus max, average, p95, days with data, over the lookback); the
price catalogue through ``bill()``; resource-level costs; Cost Optimization Hub recommendations
filtered to this review's scope; the review's fixed ``now``; and the thresholds.

The runner gives each check a view scoped to one region (``for_check``): ``of()`` then returns
only that region's items, and ``finding()`` fills in the check's metadata.
"""

from __future__ import annotations

import copy
import functools
import math
import shlex
import string
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from finops.models import (
    NOT_ESTIMATED,
    PRICE_UNAVAILABLE,
    PRICED,
    CostData,
    CostRecommendation,
    Coverage,
    Finding,
    InventoryItem,
    ResourceCost,
)
from finops.money import HOURS_PER_MONTH
from finops.pricing import Bill, PriceCatalogue

if TYPE_CHECKING:
    from finops.checks import CheckSpec
    from finops.checks.thresholds import Thresholds

METRICS_COLLECTOR = "cloudwatch.metrics"
GLOBAL = "global"
# A 14-day resource-level cost, as a monthly run rate: cost x 730 / (14 x 24).
RUN_RATE_HOURS = Decimal(14 * 24)


@dataclass(frozen=True)
class MetricSummary:
    """One CloudWatch statistic of one resource over the lookback, one value per UTC day."""

    key: str  # e.g. "CPUUtilization.Maximum"
    daily: Mapping[str, float]
    lookback_days: int
    window_start: str
    window_end: str

    @property
    def values(self) -> list[float]:
        return [self.daily[day] for day in sorted(self.daily)]

    @property
    def days(self) -> int:
        return len(self.daily)

    @property
    def max(self) -> float | None:
        return max(self.daily.values()) if self.daily else None

    @property
    def min(self) -> float | None:
        return min(self.daily.values()) if self.daily else None

    @property
    def avg(self) -> float | None:
        return sum(self.daily.values()) / len(self.daily) if self.daily else None

    @property
    def sum(self) -> float:
        return float(sum(self.daily.values()))

    @property
    def p95(self) -> float | None:
        """Nearest-rank 95th percentile of the daily values."""
        if not self.daily:
            return None
        ordered = sorted(self.daily.values())
        return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]

    def evidence(self) -> dict[str, Any]:
        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "metric": self.key, "days_with_data": self.days, "lookback_days": self.lookback_days,
            "window": {"start": self.window_start, "end": self.window_end},
            "max": r(self.max), "avg": r(self.avg), "p95": r(self.p95), "min": r(self.min), "sum": r(self.sum),
        }


def _tail(identifier: str) -> str:
    """The id at the end of an ARN ("arn:...:volume/vol-1" -> "vol-1"; "...:db:orders" -> "orders")."""
    return identifier.rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class CheckContext:
    def __init__(
        self,
        *,
        account_id: str,
        regions: Iterable[str],
        now: datetime,
        prices: PriceCatalogue,
        thresholds: Thresholds,
        inventory: Iterable[InventoryItem],
        costs: CostData | None = None,
        coverage: Iterable[Coverage] | None = None,
    ):
        self.account_id = account_id
        self.regions = tuple(regions)
        self.now = now
        self.prices = prices
        self.thresholds = thresholds
        self.costs = costs or CostData()
        self.coverage = None if coverage is None else {(c.source, c.region): c for c in coverage}
        self._spec: CheckSpec | None = None
        self._scope: frozenset[str] | None = None  # regions this view sees (None: all)

        self._by_collector: dict[str, dict[str, list[InventoryItem]]] = defaultdict(lambda: defaultdict(list))
        self._by_id: dict[tuple[str, str], InventoryItem] = {}
        self._by_arn: dict[str, InventoryItem] = {}
        self._metrics: dict[str, dict[str, MetricSummary]] = {}
        for item in inventory:
            if item.collector == METRICS_COLLECTOR:
                self._add_metrics(item)
                continue
            self._by_collector[item.collector][item.region].append(item)
            self._by_id[(item.collector, item.resource_id)] = item
            if item.arn:
                self._by_arn[item.arn] = item
        self._relate()
        self._costs_by_id: dict[str, ResourceCost] = {}
        for cost in self.costs.resource_costs:
            self._costs_by_id.setdefault(cost.resource_id, cost)
            self._costs_by_id.setdefault(_tail(cost.resource_id), cost)

    # -- building ----------------------------------------------------------------------------
    def _add_metrics(self, item: InventoryItem) -> None:
        data = item.data
        window = data.get("window") or {}
        summaries = {
            key: MetricSummary(
                key, dict((metric or {}).get("daily") or {}), int(window.get("lookback_days") or 0),
                str(window.get("start") or ""), str(window.get("end") or ""),
            )
            for key, metric in (data.get("metrics") or {}).items()
        }
        for ref in (data.get("target_arn"), item.resource_id,
                    f"{data.get('target_collector')}:{item.region}:{data.get('target_resource_id')}"):
            if ref:
                self._metrics.setdefault(ref, {}).update(summaries)

    def _relate(self) -> None:
        self._volumes_of_instance: dict[str, list[InventoryItem]] = defaultdict(list)
        for volume in self._all("ec2.volumes"):
            for attachment in volume.data.get("attachments") or []:
                if attachment.get("instance_id"):
                    self._volumes_of_instance[attachment["instance_id"]].append(volume)
        self._addresses_of_instance: dict[str, list[InventoryItem]] = defaultdict(list)
        self._address_by_allocation: dict[str, InventoryItem] = {}
        for address in self._all("ec2.addresses"):
            if address.data.get("instance_id"):
                self._addresses_of_instance[address.data["instance_id"]].append(address)
            if address.data.get("allocation_id"):
                self._address_by_allocation[address.data["allocation_id"]] = address
        self._instances_of_image: dict[str, list[InventoryItem]] = defaultdict(list)
        for instance in self._all("ec2.instances"):
            if instance.data.get("state") in ("terminated", "shutting-down"):
                continue  # a terminated instance uses no AMI any more
            if instance.data.get("image_id"):
                self._instances_of_image[instance.data["image_id"]].append(instance)
        self._members_of_cluster: dict[tuple[str, str], list[InventoryItem]] = defaultdict(list)
        for db in self._all("rds.instances"):
            if db.data.get("cluster_id"):
                self._members_of_cluster[(db.region, db.data["cluster_id"])].append(db)

    def _all(self, collector_id: str) -> list[InventoryItem]:
        return [item for items in self._by_collector.get(collector_id, {}).values() for item in items]

    # -- views ---------------------------------------------------------------------------------
    def for_check(self, spec: CheckSpec, regions: Iterable[str] | None = None) -> CheckContext:
        """A view for one check, seeing only ``regions`` (indexes are shared, not copied)."""
        view = copy.copy(self)
        view._spec = spec
        view._scope = None if regions is None else frozenset(regions)
        return view

    @property
    def spec(self) -> CheckSpec | None:
        return self._spec

    # -- inventory -----------------------------------------------------------------------------
    def of(self, collector_id: str) -> list[InventoryItem]:
        """Items of ``collector_id`` in the regions this view sees."""
        by_region = self._by_collector.get(collector_id, {})
        if self._scope is None:
            return [item for region in sorted(by_region) for item in by_region[region]]
        return [item for region in sorted(self._scope) for item in by_region.get(region, ())]

    def get(self, collector_id: str, resource_id: str | None) -> InventoryItem | None:
        """An item by collector and id, in any region (relations cross the view's scope)."""
        return self._by_id.get((collector_id, resource_id)) if resource_id else None

    def by_arn(self, arn: str) -> InventoryItem | None:
        return self._by_arn.get(arn)

    def volumes_of(self, instance_id: str) -> list[InventoryItem]:
        return list(self._volumes_of_instance.get(instance_id, ()))

    def instance_of(self, volume: InventoryItem) -> InventoryItem | None:
        for attachment in volume.data.get("attachments") or []:
            found = self.get("ec2.instances", attachment.get("instance_id"))
            if found is not None:
                return found
        return None

    def addresses_of(self, instance_id: str) -> list[InventoryItem]:
        return list(self._addresses_of_instance.get(instance_id, ()))

    def addresses_of_nat(self, nat: InventoryItem) -> list[InventoryItem]:
        found = (self._address_by_allocation.get(a) for a in nat.data.get("allocation_ids") or [])
        return [address for address in found if address is not None]

    def source_volume(self, snapshot: InventoryItem) -> InventoryItem | None:
        return self.get("ec2.volumes", snapshot.data.get("volume_id"))

    def instances_using(self, image_id: str) -> list[InventoryItem]:
        return list(self._instances_of_image.get(image_id, ()))

    def cluster_members(self, cluster: InventoryItem) -> list[InventoryItem]:
        return list(self._members_of_cluster.get((cluster.region, cluster.resource_id), ()))

    # -- evidence ------------------------------------------------------------------------------
    def metric(self, item: InventoryItem, key: str) -> MetricSummary | None:
        """The item's ``key`` series, or None when CloudWatch was not asked for it."""
        for ref in (item.arn, item.uid, f"{item.collector}:{item.region}:{item.resource_id}"):
            found = self._metrics.get(ref, {}).get(key) if ref else None
            if found is not None:
                return found
        return None

    def actual_cost(self, item: InventoryItem) -> ResourceCost | None:
        """The resource's billed cost over the resource-level window (14 days), when Cost Explorer has it."""
        for ref in (item.arn, item.resource_id):
            if ref and ref in self._costs_by_id:
                return self._costs_by_id[ref]
        return None

    def coh_recommendations(self, *action_types: str) -> list[CostRecommendation]:
        """Cost Optimization Hub recommendations for this account in the regions this view sees."""
        scope = self._scope if self._scope is not None else frozenset((*self.regions, GLOBAL))
        return [
            rec for rec in self.costs.recommendations
            if rec.account_id in ("", self.account_id)
            and (rec.region or GLOBAL).lower() in scope
            and (not action_types or rec.action_type in action_types)
        ]

    def was_read(self, source: str, region: str) -> bool:
        """Whether ``source`` was read in ``region`` (or globally); always True without coverage."""
        if self.coverage is None:
            return True
        record = self.coverage.get((source, region)) or self.coverage.get((source, GLOBAL))
        return record is not None and record.status == "ok"

    def days_since(self, value: str | None) -> float | None:
        when = parse_time(value)
        return None if when is None else (self.now - when).total_seconds() / 86400

    # -- pricing -------------------------------------------------------------------------------
    def bill(self, role: str = "current") -> Bill:
        return _DeclaredBill(self.prices, role, self._spec)

    # -- findings ------------------------------------------------------------------------------
    def finding(
        self,
        item: InventoryItem,
        *,
        title: str,
        current: Bill | None = None,
        after: Bill | None = None,
        notes: Bill | None = None,
        recommended: str = "",
        confidence: str | None = None,
        evidence: dict[str, Any] | None = None,
        formula: str | None = None,
        covers: Iterable[str] = (),
        remediation_args: Mapping[str, Any] | None = None,
        remediation_template: str | None = None,
        console_template: str | None = None,
        not_estimated: str = "",
        unavailable: str = "",
        action: str | None = None,
        category: str | None = None,
        effort: str | None = None,
        restart_needed: bool | None = None,
        rollback_possible: bool | None = None,
        sources: tuple[str, ...] | None = None,
        coh: dict[str, Any] | None = None,
        savings: Decimal | None = None,
        current_cost: Decimal | None = None,
        extra_lines: Iterable[Any] = (),
    ) -> Finding:
        """Build a finding on ``item`` from the check's metadata and its formula's bills.

        ``remediation_template`` replaces the check's command for this finding (e.g. a clustered
        database is upgraded with another command); its values are shell-quoted the same way.

        Savings = current - after (after defaults to nothing: the resource goes away). A price
        the catalogue lacks leaves the finding unpriced ("unavailable") with the reason, and so
        does ``unavailable`` (a price the catalogue cannot hold, e.g. a non-Linux platform); with
        ``not_estimated`` the finding is deliberately unpriced (no defensible estimate), with that
        sentence. Either way the finding is shown and never added to a total.
        """
        spec = self._spec
        assert spec is not None, "finding() needs a view made by for_check()"
        current = current or self.bill("current")
        after = after or self.bill("recommended")
        lines = [*current.lines, *after.lines, *(notes.lines if notes else []), *extra_lines]
        missing = [*current.missing, *after.missing]
        status, note = PRICED, ""
        monthly: Decimal | None = savings
        cost = current_cost
        if missing or unavailable:
            status = PRICE_UNAVAILABLE
            note = "; ".join(dict.fromkeys([*(m.reason for m in missing), *([unavailable] if unavailable else [])]))
            monthly = None
            cost = current.total if current.priced and current.lines else cost
        elif not_estimated:
            status, note, monthly = NOT_ESTIMATED, not_estimated, None
            if cost is None and current.lines:
                cost = current.total
        else:
            if monthly is None:
                monthly = (current.total or Decimal(0)) - (after.total or Decimal(0))
            if cost is None and current.lines:
                cost = current.total
        tags = item.data.get("tags") or {}
        name = (tags.get("Name") if isinstance(tags, dict) else None) or item.data.get("name")
        args = {
            "region": item.region, "resource_id": item.resource_id, "resource_arn": item.arn,
            "account_id": item.account_id, **(remediation_args or {}),
        }
        return Finding(
            check_id=spec.id,
            title=title,
            action=action or spec.action,
            kind=spec.kind,
            category=category or spec.category,
            resource_type=item.resource_type,
            resource_id=item.resource_id,
            resource_arn=item.arn,
            resource_name=name if name else None,
            region=item.region,
            account_id=item.account_id or self.account_id,
            monthly_savings=monthly,
            current_monthly_cost=cost,
            recommended=recommended,
            confidence=confidence or spec.confidence,
            effort=effort or spec.effort,
            restart_needed=spec.restart_needed if restart_needed is None else restart_needed,
            rollback_possible=spec.rollback_possible if rollback_possible is None else rollback_possible,
            evidence=dict(evidence or {}),
            price_lines=tuple(lines),
            formula=formula if formula is not None else spec.formula,
            remediation=shell_format(spec.remediation if remediation_template is None else remediation_template, args),
            console_url=url_format(spec.console if console_template is None else console_template, args),
            sources=sources or spec.sources,
            price_status=status,
            price_note=note,
            covers=tuple(covers),
            coh=coh,
            coh_comparable=spec.coh_comparable,
        )


class _DeclaredBill(Bill):
    """A bill that refuses price keys its check did not declare (a test-time guard on metadata)."""

    def __init__(self, catalogue: PriceCatalogue, role: str, spec: CheckSpec | None):
        super().__init__(catalogue, role)
        self._spec = spec

    def add(self, key: str, region: str, quantity: Decimal | int | str, item: str) -> Bill:
        if self._spec is not None and not self._spec.declares_price(key):
            raise ValueError(f"check {self._spec.id} uses price {key!r} without declaring it")
        return super().add(key, region, quantity, item)


@functools.cache
def _fields(template: str) -> tuple[str, ...]:
    return tuple({name for _, name, _, _ in string.Formatter().parse(template) if name})


def shell_format(template: str, args: Mapping[str, Any]) -> str:
    """Fill a remediation command; every value is shell-quoted (names come from the customer)."""
    if not template:
        return ""
    return template.format_map({k: shlex.quote(str(args[k])) for k in _fields(template) if args.get(k) is not None})


def url_format(template: str, args: Mapping[str, Any]) -> str:
    if not template:
        return ""
    return template.format_map({k: quote(str(args[k]), safe="") for k in _fields(template) if args.get(k) is not None})


def monthly_run_rate(cost_14d: Decimal) -> Decimal:
    """A resource's actual 14-day cost as a monthly run rate (x 730 / 336)."""
    return cost_14d * HOURS_PER_MONTH / RUN_RATE_HOURS
