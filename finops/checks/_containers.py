"""What the ECS checks share: which services run on Fargate On-Demand, their task size, their price.

Fargate bills each running task per second for the vCPU and memory its task definition asks for
(task-level ``cpu`` and ``memory``), at a rate that depends on the CPU architecture (x86 or
Graviton/ARM) and the operating system. The catalogue holds the Linux On-Demand rates
(``fargate.{x86,arm}.{vcpu,memory}``): Fargate Spot and Windows tasks are billed otherwise.
Ephemeral storage above the free 20 GB is billed apart and is never in these figures (it is
not in the inventory), so a figure here can only understate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from finops.money import HOURS_PER_MONTH
from finops.pricing import Bill

FARGATE = "FARGATE"
FARGATE_SPOT = "FARGATE_SPOT"
FARGATE_PRICES = ("fargate.*.vcpu", "fargate.*.memory")
CPU_UNITS_PER_VCPU = Decimal(1024)
MIB_PER_GB = Decimal(1024)
LINUX_FAMILIES = (None, "", "LINUX")

_VCPU = re.compile(r"^\s*([0-9.]+)\s*v?cpu\s*$", re.IGNORECASE)
_GB = re.compile(r"^\s*([0-9.]+)\s*gb\s*$", re.IGNORECASE)


def on_fargate(data: Mapping[str, Any]) -> bool:
    """The service's tasks run on Fargate On-Demand: launch type FARGATE, or a capacity provider
    strategy naming FARGATE only. FARGATE_SPOT anywhere (priced differently) and a service that
    names no launch type and no strategy (the cluster default decides: unknown here) are not."""
    providers = [p for p in data.get("capacity_providers") or [] if p]
    if FARGATE_SPOT in providers:
        return False
    if data.get("launch_type") == FARGATE:
        return True
    return bool(providers) and set(providers) == {FARGATE}


def cluster_name(data: Mapping[str, Any], resource_id: str) -> str:
    """The cluster's name, from its ARN, else from the "cluster/service" resource id."""
    arn = data.get("cluster_arn") or data.get("cluster_name") or ""
    if arn:
        return str(arn).rsplit("/", 1)[-1]
    return resource_id.split("/", 1)[0]


def _number(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and number > 0 else None


def task_vcpu(data: Mapping[str, Any]) -> Decimal | None:
    """Task-level vCPU: CPU units / 1024 ("1024" -> 1); the "1 vCPU" form is read too."""
    raw = data.get("task_cpu")
    if raw is None or raw == "":
        return None
    match = _VCPU.match(str(raw))
    if match:
        return _number(match.group(1))
    units = _number(raw)
    return None if units is None else units / CPU_UNITS_PER_VCPU


def task_gb(data: Mapping[str, Any]) -> Decimal | None:
    """Task-level memory in GB: MiB / 1024 ("2048" -> 2); the "2 GB" form is read too."""
    raw = data.get("task_memory")
    if raw is None or raw == "":
        return None
    match = _GB.match(str(raw))
    if match:
        return _number(match.group(1))
    mib = _number(raw)
    return None if mib is None else mib / MIB_PER_GB


def arch(data: Mapping[str, Any]) -> str:
    """The catalogue's architecture name: "arm" for ARM64 task definitions, else "x86"."""
    return "arm" if str(data.get("cpu_architecture") or "").upper() == "ARM64" else "x86"


def runs_linux(data: Mapping[str, Any]) -> bool:
    family = data.get("os_family")
    return (str(family).upper() if family else family) in LINUX_FAMILIES


def add_tasks(bill: Bill, region: str, architecture: str, tasks: int, vcpu: Decimal, gb: Decimal) -> Bill:
    """``tasks`` tasks of ``vcpu`` vCPU and ``gb`` GB running 730 hours on Fargate Linux."""
    label = f"{tasks} task{'s' if tasks != 1 else ''} x {fmt(vcpu)} vCPU x 730 h ({architecture})"
    bill.add(f"fargate.{architecture}.vcpu", region, tasks * vcpu * HOURS_PER_MONTH, label)
    label = f"{tasks} task{'s' if tasks != 1 else ''} x {fmt(gb)} GB x 730 h ({architecture})"
    bill.add(f"fargate.{architecture}.memory", region, tasks * gb * HOURS_PER_MONTH, label)
    return bill


def fmt(number: Decimal) -> str:
    """A size for a title: 0.25, 1, 2.5 (no trailing zeros, no exponent)."""
    return format(number.normalize(), "f")


def sizing_unavailable(data: Mapping[str, Any]) -> str:
    """The sentence for a service whose task definition has no task-level size, or ""."""
    if task_vcpu(data) is None or task_gb(data) is None:
        return (
            f"its task definition sets no task-level CPU and memory (cpu={data.get('task_cpu')!r}, "
            f"memory={data.get('task_memory')!r}), which Fargate bills by"
        )
    return ""
