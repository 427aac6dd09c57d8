"""Shared by the expiring-commitment checks: a reservation's effective hourly rate, from its own terms.

A Reserved Instance's price is in its own record (DescribeReservedInstances /
DescribeReservedDBInstances): an upfront fee spread over its term, plus an hourly usage price and
recurring hourly charges. That rate, against the On-Demand price from the catalogue, is what
renewing on the same terms keeps saving once the reservation ends.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from finops.checks.context import CheckContext, parse_time
from finops.models import PriceLine
from finops.money import HOURS_PER_MONTH

TERMS_SOURCE = "reservation-terms"
TERMS_TITLE = "the reservation's own terms, as AWS returned them"


def effective_hourly(data: dict[str, Any]) -> Decimal | None:
    """Upfront / term hours + usage price + recurring hourly charges (None if the terms are incomplete)."""
    try:
        hours = Decimal(str(data.get("duration_s") or 0)) / Decimal(3600)
        fixed = Decimal(str(data.get("fixed_price") or 0))
        usage = Decimal(str(data.get("usage_price") or 0))
        recurring = sum(
            (Decimal(str(c.get("amount") or 0)) for c in data.get("recurring_charges") or []
             if (c.get("frequency") or "Hourly") == "Hourly"),
            Decimal(0),
        )
    except (ArithmeticError, ValueError):
        return None
    if hours <= 0:
        return None
    return fixed / hours + usage + recurring


def terms_line(rate: Decimal, count: int, region: str, item: str) -> PriceLine:
    return PriceLine(
        item=item, role="recommended", price_key="", usage_type="reservation", unit_price=rate, unit="Hrs",
        quantity=HOURS_PER_MONTH * count, region=region, effective_date="", source=TERMS_SOURCE,
        source_title=TERMS_TITLE,
    )


def expiring(ctx: CheckContext, data: dict[str, Any]) -> tuple[datetime, float] | None:
    """(end, days left) when an active commitment ends within ``commitment_expiry_days``; else None."""
    end = parse_time(data.get("end"))
    if end is None or str(data.get("state") or "").lower() not in ("active", "payment-pending"):
        return None
    left = (end - ctx.now).total_seconds() / 86400
    if left < 0 or left > ctx.thresholds["commitment_expiry_days"]:
        return None
    return end, left
