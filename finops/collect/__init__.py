"""Collector registry: one collector per AWS read, each declaring its IAM actions.

    @collector("ec2.volumes", service="ec2", resource_type="ec2:volume",
               title="EBS volumes", operations=("DescribeVolumes",),
               iam_actions=("ec2:DescribeVolumes",))
    def collect_volumes(ctx): ...

A collector is a generator of ``InventoryItem``s for one (account, region). It always paginates
and never catches AWS errors itself: the runner records every failure as coverage.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from finops.models import InventoryItem

# Modules in this package that are machinery, not collectors.
_NOT_COLLECTORS = {"runner"}


@dataclass(frozen=True)
class CollectContext:
    account_id: str
    region: str
    clients: dict[str, Any]

    def client(self, service: str) -> Any:
        return self.clients[service]


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
) -> Callable[[CollectFn], CollectFn]:
    def register(fn: CollectFn) -> CollectFn:
        if collector_id in COLLECTORS and COLLECTORS[collector_id].fn is not fn:
            raise ValueError(f"collector id {collector_id!r} registered twice")
        COLLECTORS[collector_id] = CollectorSpec(
            collector_id, fn, service, resource_type, title, operations, iam_actions, scope,
            fn.__module__,
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
