"""Money is Decimal in code and integer micro-dollars in SQLite; floats are never summed."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MICROS = Decimal("1000000")
CENT = Decimal("0.01")
HOURS_PER_MONTH = Decimal("730")  # AWS's own convention for monthly estimates


def to_micros(amount: Decimal) -> int:
    return int((amount * MICROS).to_integral_value(rounding=ROUND_HALF_UP))


def from_micros(micros: int) -> Decimal:
    return Decimal(micros) / MICROS


def dollars(amount: Decimal) -> str:
    """Two-decimal string for reports and JSON: Decimal('3.65') -> '3.65'."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def display(amount: Decimal | str | None, currency: str = "USD") -> str:
    """For people: Decimal('1273.8') -> '$1,273.80'; None -> '-'."""
    if amount is None or amount == "":
        return "-"
    value = Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)
    symbol = "$" if currency == "USD" else f"{currency} "
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{abs(value):,}"


def decimal_text(value: float | int | str | Decimal | None) -> str | None:
    """A price as AWS sent it, as a plain decimal string: 0.062 -> "0.062", "1.5" -> "1.5".

    botocore parses some prices as floats (EC2/RDS reservations); ``str(float)`` is the shortest
    text that reads back as the same float, so no binary noise reaches the inventory. Never an
    exponent ("1E-5"), so the checks can read it back with ``Decimal``.
    """
    if value is None or value == "":
        return None
    return format(Decimal(str(value)), "f")
