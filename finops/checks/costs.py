"""Formulas several checks share: what an EBS volume, an instance or an address costs a month.

Each adds priced lines to a ``Bill`` (so every figure keeps its unit price, quantity and source)
and never guesses: a configuration the catalogue cannot price leaves the bill incomplete.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from finops.money import HOURS_PER_MONTH
from finops.pricing import Bill

GP3_BASE_IOPS = 3000  # included in the gp3 storage price
GP3_BASE_THROUGHPUT = 125  # MiB/s, included
GP3_MAX_IOPS = 16000
GP3_MAX_THROUGHPUT = 1000
GP2_MIN_IOPS, GP2_MAX_IOPS = 100, 16000
VOLUME_TYPES = ("gp2", "gp3", "io1", "io2", "st1", "sc1", "standard")
LINUX_DETAILS = ("Linux/UNIX", "", None)

# The price keys these formulas may use, for the checks' ``prices`` declarations.
VOLUME_PRICES = ("ebs.*.storage", "ebs.gp3.iops", "ebs.gp3.throughput", "ebs.io1.iops", "ebs.io2.iops")
INSTANCE_PRICES = ("ec2.linux.*",)


def add_volume(
    bill: Bill, region: str, volume_type: str, size_gib: Any, iops: Any = None, throughput: Any = None,
    label: str = "",
) -> Bill:
    """Storage plus provisioned IOPS and throughput above what the volume type includes."""
    size = Decimal(str(size_gib or 0))
    prefix = f"{label}: " if label else ""
    bill.add(f"ebs.{volume_type}.storage", region, size, f"{prefix}{volume_type} storage")
    iops = Decimal(str(iops or 0))
    if volume_type == "gp3":
        bill.add("ebs.gp3.iops", region, max(iops - GP3_BASE_IOPS, 0), f"{prefix}gp3 IOPS above 3,000")
        extra = max(Decimal(str(throughput or 0)) - GP3_BASE_THROUGHPUT, 0)
        bill.add("ebs.gp3.throughput", region, extra, f"{prefix}gp3 throughput above 125 MiB/s")
    elif volume_type in ("io1", "io2"):
        bill.add(f"ebs.{volume_type}.iops", region, iops, f"{prefix}{volume_type} provisioned IOPS")
    return bill


def add_volume_item(bill: Bill, volume: Any, label: str = "") -> Bill:
    data = volume.data
    return add_volume(
        bill, volume.region, data.get("volume_type") or "standard", data.get("size_gib"), data.get("iops"),
        data.get("throughput"), label,
    )


def gp2_baseline(size_gib: Any) -> tuple[int, int]:
    """(IOPS, MiB/s) a gp2 volume of this size delivers, which a gp3 replacement must match.

    gp2: 3 IOPS per GiB (min 100, max 16,000), bursting to 3,000 below 1 TiB; throughput 128 MiB/s
    up to 170 GiB and 250 MiB/s above. gp3 matches with max(3,000, baseline) IOPS and 125 or 250 MiB/s.
    """
    size = int(size_gib or 0)
    iops = min(max(3 * size, GP2_MIN_IOPS, GP3_BASE_IOPS), GP3_MAX_IOPS)
    throughput = GP3_BASE_THROUGHPUT if size <= 170 else 250
    return iops, throughput


def is_linux(instance: Any) -> bool:
    """Billed as Linux/UNIX (the catalogue prices On-Demand Linux only)."""
    data = instance.data
    return (data.get("platform") or "linux") == "linux" and data.get("platform_details") in LINUX_DETAILS


def add_instance_hours(bill: Bill, region: str, instance_type: str, label: str = "") -> Bill:
    prefix = f"{label}: " if label else ""
    bill.add(f"ec2.linux.{instance_type}", region, HOURS_PER_MONTH, f"{prefix}{instance_type} On-Demand, 730 hours")
    return bill
