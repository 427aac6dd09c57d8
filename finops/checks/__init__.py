"""Check registry. A check is a pure function ``(Inventory, PriceBook) -> Iterable[Finding]``.

One check = one module; its id, module name and function name are the same (a test enforces
it). Metadata says what the check needs and what the customer would do about a finding; the
remediation command is for the customer to run: FinOps Pack never changes anything.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from finops.models import Finding, InventoryItem
from finops.pricing import PriceBook


class Inventory:
    """Read-only view of one account's inventory, indexed by collector id."""

    def __init__(self, items: Iterable[InventoryItem]):
        self._by_collector: dict[str, list[InventoryItem]] = defaultdict(list)
        for item in items:
            self._by_collector[item.collector].append(item)

    def of(self, collector_id: str) -> list[InventoryItem]:
        return self._by_collector.get(collector_id, [])


CheckFn = Callable[[Inventory, PriceBook], Iterable[Finding]]


@dataclass(frozen=True)
class CheckSpec:
    id: str
    fn: CheckFn
    title: str
    service: str
    resource_type: str
    needs: tuple[str, ...]
    severity: str
    effort: str
    restart_needed: bool
    rollback_possible: bool
    remediation: str
    module: str


CHECKS: dict[str, CheckSpec] = {}


def check(
    *,
    title: str,
    service: str,
    resource_type: str,
    needs: tuple[str, ...],
    severity: str = "medium",
    effort: str = "low",
    restart_needed: bool = False,
    rollback_possible: bool = False,
    remediation: str = "",
) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        spec = CheckSpec(
            fn.__name__, fn, title, service, resource_type, needs, severity, effort,
            restart_needed, rollback_possible, remediation, fn.__module__,
        )
        if spec.id in CHECKS and CHECKS[spec.id].fn is not fn:
            raise ValueError(f"check id {spec.id!r} registered twice")
        CHECKS[spec.id] = spec
        return fn

    return register


def discover() -> dict[str, CheckSpec]:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    return dict(sorted(CHECKS.items()))


def run_checks(inventory: Inventory, prices: PriceBook) -> list[Finding]:
    findings: dict[str, Finding] = {}
    for spec in discover().values():
        for finding in spec.fn(inventory, prices):
            findings[finding.uid] = finding
    return sorted(findings.values(), key=lambda f: (-f.monthly_savings, f.check_id, f.resource_id))
