"""Collector registry: one collector per AWS read, each declaring its IAM actions.

    @collector("ec2.volumes", service="ec2", resource_type="ec2:volume",
               title="EBS volumes", operations=("DescribeVolumes",),
               iam_actions=("ec2:DescribeVolumes",))
    def collect_volumes(ctx): ...

A collector is a generator of ``InventoryItem``s for one (account, region). It always paginates
and never catches AWS errors itself (except documented normal outcomes, such as "this bucket has
no lifecycle configuration"): the runner records every failure as coverage.

Phases: collectors declaring ``after=(...)`` (e.g. CloudWatch metrics, which need resource ids)
run once every collector they name has finished in every region, and see that inventory through
``CollectContext.inventory`` (only the items of their own region; all items when global). A
dependency whose read failed is named in ``CollectContext.unavailable``: a collector that cannot
do without it raises ``DependencyUnavailable`` (recorded as a gap of its own, never an empty
"ok"); one that can, says in its data what it could not know (e.g. snapshots' ``ami_ids``).

Nothing resembling a secret is stored: collectors keep only named fields (never Lambda
``Environment`` or ECS container ``environment``/``secrets``), and the runner passes every item
through ``redact`` as a second line of defence.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from finops.models import InventoryItem

# Modules in this package that are machinery, not collectors.
_NOT_COLLECTORS = {"runner"}


@dataclass(frozen=True)
class CollectContext:
    account_id: str
    region: str
    clients: dict[str, Any]
    # Phase 2 only: phase-1 inventory of this region (every region for a global collector).
    inventory: tuple[InventoryItem, ...] = ()
    lookback_days: int = 30
    now: datetime | None = None  # fixed per review, so every metric window is the same
    regions: tuple[str, ...] = ()  # every region this review scans
    # Global collectors declaring ``regional_clients``: region -> service -> client.
    regional: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Map a function over items on a bounded pool whose calls count into this read's coverage
    # (set by the runner; sequential by default). For per-resource calls, e.g. S3 per bucket.
    fan_out: Callable[[Callable[[Any], Any], list[Any]], list[Any]] = field(
        default=lambda fn, items: [fn(item) for item in items]
    )
    # Collector ids named in ``after`` whose read of this region (or global read) failed or never ran.
    unavailable: frozenset[str] = frozenset()
    # What a read has found so far, for a caller that acts on it before the read ends (the runner's
    # ``on_partial``; the organization's accounts, page by page). Items as the read would yield them.
    partial: Callable[[list[InventoryItem]], None] = field(default=lambda items: None)

    def client(self, service: str) -> Any:
        return self.clients[service]

    def client_in(self, region: str, service: str) -> Any:
        """A client in ``region`` when one was built, else this context's own."""
        return self.regional.get(region, {}).get(service) or self.clients[service]

    def of(self, collector_id: str) -> list[InventoryItem]:
        return [item for item in self.inventory if item.collector == collector_id]


CollectFn = Callable[[CollectContext], Iterator[InventoryItem]]


@dataclass(frozen=True)
class CollectorSpec:
    id: str
    fn: CollectFn
    service: str
    resource_type: str
    title: str
    operations: tuple[str, ...]
    iam_actions: tuple[str, ...]
    scope: str = "regional"  # or "global": read once, from us-east-1
    module: str = ""
    after: tuple[str, ...] = field(default=())  # collector ids whose inventory this one reads
    regional_clients: bool = False  # global, but also needs a client in every scanned region


COLLECTORS: dict[str, CollectorSpec] = {}


def collector(
    collector_id: str,
    *,
    service: str,
    resource_type: str,
    title: str,
    operations: tuple[str, ...],
    iam_actions: tuple[str, ...],
    scope: str = "regional",
    after: tuple[str, ...] = (),
    regional_clients: bool = False,
) -> Callable[[CollectFn], CollectFn]:
    def register(fn: CollectFn) -> CollectFn:
        if collector_id in COLLECTORS and COLLECTORS[collector_id].fn is not fn:
            raise ValueError(f"collector id {collector_id!r} registered twice")
        COLLECTORS[collector_id] = CollectorSpec(
            collector_id, fn, service, resource_type, title, operations, iam_actions, scope,
            fn.__module__, tuple(after), regional_clients,
        )
        return fn

    return register


def discover() -> dict[str, CollectorSpec]:
    """Import every collector module in this package; return the registry."""
    for info in pkgutil.iter_modules(__path__):
        if info.name not in _NOT_COLLECTORS and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    return dict(sorted(COLLECTORS.items()))


def paginate(client: Any, operation: str, key: str, **params: Any) -> Iterator[dict]:
    """Yield every item of ``key`` over all pages of ``operation``."""
    for page in client.get_paginator(operation).paginate(**params):
        yield from page.get(key, [])


def tags_dict(tags: list[dict] | None) -> dict[str, str]:
    return {t.get("Key", ""): t.get("Value", "") for t in tags or []}


def iso(value: datetime | str | None) -> str | None:
    """ISO 8601 text; AWS's own timestamp strings (EC2 ``CreationDate``) in the same form."""
    if not value:
        return None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).isoformat()
        except ValueError:
            return value
    return value.isoformat()


def paginate_tokens(call: Callable[..., dict], key: str, token: str, **params: Any) -> Iterator[dict]:
    """Yield every item of ``key``, following ``token`` by hand (for calls botocore has no
    paginator for, e.g. Savings Plans' DescribeSavingsPlans)."""
    while True:
        page = call(**params)
        yield from page.get(key, [])
        next_token = page.get(token)
        if not next_token:
            return
        params[token] = next_token


def arn(service: str, region: str, account_id: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{account_id}:{resource}"


# Keys whose values may hold application secrets. Matched on the key name, case-insensitively,
# with separators ignored ("DB_PASSWORD", "secretArn", "environment", "userData" ...).
_SECRET_KEY = re.compile(
    r"(environment|envvar|variables|secret|passw|passphrase|token|credential|privatekey|"
    r"userdata|connectionstring|apikey|accesskey|authorization)",
    re.IGNORECASE,
)
# Values that look like AWS access keys, or a private key block, whatever key holds them.
_SECRET_VALUE = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|-----BEGIN [A-Z ]*PRIVATE KEY-----")
REDACTED = "[redacted]"


def redact(value: Any, *, tags: bool = False) -> Any:
    """Drop secret-looking keys and mask secret-looking values, recursively.

    Collectors keep only the fields they name; this is the second line of defence for what
    they copy verbatim (tags, descriptions). Tag names are kept ("Environment: prod" is a
    cost-allocation tag, not a secret) but their values are still masked when they look secret.
    """
    if isinstance(value, dict):
        return {
            key: redact(item, tags=key == "tags")
            for key, item in value.items()
            if tags or not _SECRET_KEY.search(re.sub(r"[^a-z]", "", str(key).lower()))
        }
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    if isinstance(value, str) and _SECRET_VALUE.search(value):
        return REDACTED
    return value
