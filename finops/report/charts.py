"""Chart geometry for the report's inline SVG (no script, no charting library: the CSP allows neither).

Pure functions of the report model: they return numbers and labels, the template draws them.
Colours are SVG presentation attributes (``fill``), which the CSP's ``style-src 'self'`` allows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

PALETTE = ("#0b6e4f", "#2f7fc1", "#e0a526", "#b4503c", "#7a5cb8", "#9aa5b1")
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 10, 28


def _nice_ceiling(value: Decimal) -> Decimal:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return Decimal(1)
    exponent = len(str(int(value))) - 1
    base = Decimal(10) ** exponent
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= base * step:
            return base * step
    return base * 10


def _label(amount: Decimal) -> str:
    if amount >= 1000:
        return f"${amount / 1000:,.0f}k" if amount % 1000 == 0 else f"${amount / 1000:,.1f}k"
    return f"${amount:,.0f}"


def spend_chart(spend: dict[str, Any]) -> dict[str, Any] | None:
    """Stacked monthly bars of the top services over (up to) the last 12 full months."""
    trend = spend.get("trend") or {}
    months = trend.get("months") or []
    series = trend.get("series") or []
    if not months or not series:
        return None
    totals = [sum((Decimal(s["values"][i] or 0) for s in series), Decimal(0)) for i in range(len(months))]
    top = _nice_ceiling(max(totals))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(months)
    bar_w = max(4.0, slot * 0.68)
    bars = []
    for i, month in enumerate(months):
        x = LEFT + i * slot + (slot - bar_w) / 2
        y_base = float(TOP + plot_h)
        segments = []
        for index, s in enumerate(series):
            value = Decimal(s["values"][i] or 0)
            height = float(value / top) * plot_h
            if height <= 0:
                continue
            y_base -= height
            segments.append({"x": round(x, 1), "y": round(y_base, 1), "w": round(bar_w, 1), "h": round(height, 1),
                             "fill": PALETTE[index % len(PALETTE)], "title": f"{month} {s['service']}: ${value:,.2f}"})
        bars.append({"month": month, "label": month[2:].replace("-", "/"), "x_mid": round(x + bar_w / 2, 1),
                     "segments": segments, "total": f"${totals[i]:,.2f}"})
    ticks = [{"y": round(TOP + plot_h - plot_h * f, 1), "label": _label(top * Decimal(str(f)))}
             for f in (0, 0.25, 0.5, 0.75, 1)]
    legend = [{"service": s["service"], "fill": PALETTE[index % len(PALETTE)]} for index, s in enumerate(series)]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "bottom": TOP + plot_h,
            "bars": bars, "ticks": ticks, "legend": legend, "months": len(months),
            "first": months[0], "last": months[-1]}


def category_bars(by_category: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Savings by category as horizontal bar widths (percent of the largest)."""
    largest = max((Decimal(c["monthly_savings"]) for c in by_category), default=Decimal(0))
    out = []
    for index, c in enumerate(by_category):
        amount = Decimal(c["monthly_savings"])
        width = float(amount / largest * 100) if largest > 0 else 0.0
        out.append({**c, "width": round(width, 1), "fill": PALETTE[index % len(PALETTE)]})
    return out
