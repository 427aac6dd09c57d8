"""Check registry and runner. A check is a pure function ``CheckContext -> Iterable[Finding]``.

One check = one module; its id, module name and function name are the same (the registry takes
the id from the function, and a test checks module == function). Metadata is used, not
decorative: ``needs`` (collector or cost-source ids) decides per region whether the check can
run there; ``prices`` declares the catalogue keys it may use (a bill refuses others, and a test
checks the catalogue answers each for every region); ``thresholds`` names what it decides with;
``action``/``kind``/``effort``/``restart_needed``/``rollback_possible``/``confidence`` fill its
findings; ``remediation`` is the AWS CLI command the customer runs (FinOps Pack never does);
``rule`` and ``formula`` document it (README catalogue and report).

The runner never lets a check fail a review: a check whose input was not read in a region, that
raises, or that lacks a price, yields a coverage row instead (``check:<id>`` sources; they never
make a review partial, because nothing failed to be read).
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
import logging
import pkgutil
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from finops.checks.context import GLOBAL, CheckContext
from finops.models import (
    ACTIONS,
    CHECK_SOURCE_PREFIX,
    COMMITMENT,
    CONFIDENCES,
    COV_CHECK_ERROR,
    COV_NOT_EVALUATED,
    COV_OK,
    COV_PRICE_UNAVAILABLE,
    EFFORTS,
    NATIVE,
    PRICE_UNAVAILABLE,
    SOURCE_TITLES,
    USAGE,
    Coverage,
    Finding,
)

log = logging.getLogger(__name__)

# Modules in this package that are machinery, not checks.
MACHINERY = {"context", "merge", "thresholds", "costs"}

CheckFn = Callable[[CheckContext], Iterable[Finding]]


@dataclass(frozen=True)
class CheckSpec:
    id: str
    fn: CheckFn
    title: str  # plural noun phrase: "Unattached EBS volumes"
    category: str
    service: str
    resource_type: str
    action: str
    needs: tuple[str, ...]
    kind: str = USAGE
    prices: tuple[str, ...] = ()
    thresholds: tuple[str, ...] = ()
    effort: str = "Low"
    restart_needed: bool = False
    rollback_possible: bool = False
    confidence: str = "High"
    remediation: str = ""
    console: str = ""
    rule: str = ""
    formula: str = ""
    sources: tuple[str, ...] = (NATIVE,)
    global_items: bool = False  # its items may sit in region "global" (Savings Plans, COH commitments)
    coh_comparable: bool = True  # COH's recommendation of the same action means the same change
    module: str = field(default="", compare=False)

    def declares_price(self, key: str) -> bool:
        return _declares(self.prices, key)


@functools.cache
def _declares(patterns: tuple[str, ...], key: str) -> bool:
    return any(fnmatch.fnmatchcase(key, pattern) for pattern in patterns)


CHECKS: dict[str, CheckSpec] = {}


def check(**meta: object) -> Callable[[CheckFn], CheckFn]:
    """Register a check; its id is the function's name. Metadata keys are CheckSpec's fields."""

    def register(fn: CheckFn) -> CheckFn:
        spec = CheckSpec(id=fn.__name__, fn=fn, module=fn.__module__, **meta)  # type: ignore[arg-type]
        _validate(spec)
        if spec.id in CHECKS and CHECKS[spec.id].fn is not fn:
            raise ValueError(f"check id {spec.id!r} registered twice")
        CHECKS[spec.id] = spec
        return fn

    return register


def _validate(spec: CheckSpec) -> None:
    problems = []
    if spec.action not in ACTIONS:
        problems.append(f"action {spec.action!r} is not one of {ACTIONS}")
    if spec.kind not in (USAGE, COMMITMENT):
        problems.append(f"kind {spec.kind!r}")
    if spec.effort not in EFFORTS:
        problems.append(f"effort {spec.effort!r} is not one of {EFFORTS}")
    if spec.confidence not in CONFIDENCES:
        problems.append(f"confidence {spec.confidence!r}")
    if not spec.needs:
        problems.append("needs nothing")
    if problems:
        raise ValueError(f"check {spec.id}: {'; '.join(problems)}")


def discover() -> dict[str, CheckSpec]:
    for info in pkgutil.iter_modules(__path__):
        if info.name not in MACHINERY and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    return dict(sorted(CHECKS.items()))


@dataclass
class CheckRun:
    findings: list[Finding]  # every finding, before the merge
    coverage: list[Coverage]  # check:<id> rows: not evaluated, price unavailable, errors
    evaluated: dict[str, list[str]]  # check id -> regions it ran in


def run_checks(ctx: CheckContext, specs: Iterable[CheckSpec] | None = None) -> CheckRun:
    findings: list[Finding] = []
    coverage: list[Coverage] = []
    evaluated: dict[str, list[str]] = {}
    for spec in specs if specs is not None else discover().values():
        regions = [*ctx.regions, GLOBAL] if spec.global_items else list(ctx.regions)
        blocked: dict[str, list[str]] = defaultdict(list)  # reason -> regions
        ran: list[str] = []
        unpriced: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # region -> reason -> n
        for region in regions:
            reason = _unread_input(ctx, spec, region)
            if reason:
                blocked[reason].append(region)
                continue
            try:
                produced = list(spec.fn(ctx.for_check(spec, (region,))))
            except Exception as error:  # a bug in one check: reported, never a failed review
                log.exception("check=%s region=%s state=error", spec.id, region)
                coverage.append(Coverage(
                    f"{CHECK_SOURCE_PREFIX}{spec.id}", region, COV_CHECK_ERROR,
                    detail=f"{spec.title} in {region} were not evaluated: the check failed "
                    f"({type(error).__name__}); the rest of the review is unaffected.",
                ))
                continue
            ran.append(region)
            for finding in produced:
                if finding.price_status == PRICE_UNAVAILABLE:
                    unpriced[region][finding.price_note] += 1
                elif finding.counted and finding.monthly_savings is not None and finding.monthly_savings <= 0:
                    continue  # no saving: not an opportunity
                findings.append(finding)
        for reason, where in blocked.items():
            coverage.append(Coverage(
                f"{CHECK_SOURCE_PREFIX}{spec.id}", _where(where, ctx.regions), COV_NOT_EVALUATED,
                detail=f"{spec.title} {_in(where, ctx.regions)} were not evaluated: {reason}.",
            ))
        for region, reasons in unpriced.items():
            count = sum(reasons.values())
            coverage.append(Coverage(
                f"{CHECK_SOURCE_PREFIX}{spec.id}", region, COV_PRICE_UNAVAILABLE,
                detail=f"{spec.title} in {region}: {count} finding{'s are' if count != 1 else ' is'} shown without "
                f"a price and left out of the total, because {'; '.join(reasons)}.",
            ))
        evaluated[spec.id] = ran
    return CheckRun(findings, coverage, evaluated)


def _unread_input(ctx: CheckContext, spec: CheckSpec, region: str) -> str | None:
    """Why the check cannot run in ``region`` (an input was not read there), or None."""
    if ctx.coverage is None:
        return None
    for source in spec.needs:
        record = ctx.coverage.get((source, region)) or ctx.coverage.get((source, GLOBAL))
        if record is None and region == GLOBAL:
            continue  # a regional input has no global part: nothing is missing
        if record is None or record.status != COV_OK:
            return f"{SOURCE_TITLES.get(source, source)} could not be read"
    return None


def _where(regions: list[str], scanned: tuple[str, ...]) -> str:
    if len(regions) > 1 and set(regions) >= set(scanned):
        return "all"
    return ", ".join(sorted(regions))


def _in(regions: list[str], scanned: tuple[str, ...]) -> str:
    if len(regions) > 1 and set(regions) >= set(scanned):
        return "in every region scanned"
    return f"in {', '.join(sorted(regions))}"
