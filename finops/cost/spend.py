"""Cost Explorer spend baseline: 12 full months plus month to date, and the last 30 days.

Two GetCostAndUsage queries (plus their pages), each sent once:

- monthly, UnblendedCost and NetAmortizedCost, grouped by SERVICE and LINKED_ACCOUNT. For a
  single account the second group costs nothing (one value); for a management account it gives
  the per-account split without a second paid query.
- daily total for the last 30 days, for the trend line.

Amounts arrive as strings and are parsed with Decimal, never float.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from finops.cost import CE_NO_DATA, CE_NOT_ENABLED, SourceUnavailable, error_code, error_message, permission_denied
from finops.models import CostData, DailySpend, MonthlySpend

MONTHS = 12  # full months before the current one
DAILY_DAYS = 30
MONTHLY_METRICS = ("UnblendedCost", "NetAmortizedCost")


def monthly_window(today: date) -> tuple[str, str]:
    """First day of the month 12 months ago .. today (exclusive end: month to date)."""
    year, month = today.year, today.month - MONTHS
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1).isoformat(), today.isoformat()


def daily_window(today: date) -> tuple[str, str]:
    return (today - timedelta(days=DAILY_DAYS)).isoformat(), today.isoformat()


def pages(ce: Any, operation: str, **params: Any) -> Iterator[dict]:
    """Every page of a Cost Explorer query (botocore has no paginator for these; each page is paid)."""
    call = getattr(ce, operation)
    token = None
    seen: set[str] = set()
    while True:
        page = call(**params, **({"NextPageToken": token} if token else {}))
        yield page
        token = page.get("NextPageToken")
        if not token or token in seen:  # a repeated token would be paying twice for one page
            return
        seen.add(token)


def amount(metrics: dict, name: str) -> tuple[Decimal | None, str]:
    value = metrics.get(name)
    if not value or value.get("Amount") in (None, ""):
        return None, "USD"
    return Decimal(value["Amount"]), value.get("Unit") or "USD"


def ce_unavailable(error: Exception) -> SourceUnavailable | None:
    """The "not enabled" answers of GetCostAndUsage, as opposed to a permission refusal."""
    code, message = error_code(error), error_message(error).lower()
    denied = code in ("AccessDenied", "AccessDeniedException")
    if denied and "not enabled for cost explorer" in message:
        return SourceUnavailable(CE_NOT_ENABLED)
    if denied and not permission_denied(error) and "cost explorer" in message:
        return SourceUnavailable(CE_NOT_ENABLED)
    if code == "DataUnavailableException":
        return SourceUnavailable(CE_NO_DATA)
    return None


def read_spend(ce: Any, data: CostData, today: date) -> None:
    try:
        _read_monthly(ce, data, today)
        _read_daily(ce, data, today)
    except Exception as error:
        unavailable = ce_unavailable(error)
        if unavailable:
            raise unavailable from None
        raise


def _read_monthly(ce: Any, data: CostData, today: date) -> None:
    start, end = monthly_window(today)
    data.spend_start, data.spend_end = start, end
    cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    names: dict[str, str] = {}
    group_keys: list[str] = []
    for page in pages(
        ce, "get_cost_and_usage",
        TimePeriod={"Start": start, "End": end},
        Granularity="MONTHLY",
        Metrics=list(MONTHLY_METRICS),
        GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
    ):
        group_keys = [g.get("Key", "") for g in page.get("GroupDefinitions", [])] or group_keys
        for attr in page.get("DimensionValueAttributes", []):
            names[attr.get("Value", "")] = (attr.get("Attributes") or {}).get("description", "")
        for period in page.get("ResultsByTime", []):
            p_start, p_end = period["TimePeriod"]["Start"], period["TimePeriod"]["End"]
            estimated = bool(period.get("Estimated"))
            groups = period.get("Groups") or []
            if not groups:
                _add(cells, (p_start, p_end, "", ""), period.get("Total") or {}, estimated)
            for group in groups:
                keys = dict(zip(group_keys or ["SERVICE", "LINKED_ACCOUNT"], group.get("Keys", []), strict=False))
                _add(cells, (p_start, p_end, keys.get("SERVICE", ""), keys.get("LINKED_ACCOUNT", "")),
                     group.get("Metrics") or {}, estimated)
    accounts = {key[3] for key in cells if key[3]}
    data.grouped_by_account = len(accounts) > 1
    data.monthly = sorted(
        (
            MonthlySpend(
                start=k[0], end=k[1], service=k[2], linked_account=k[3],
                unblended=v["unblended"], net_amortized=v["net_amortized"], currency=v["currency"],
                estimated=v["estimated"], linked_account_name=names.get(k[3], ""),
            )
            for k, v in cells.items()
        ),
        key=lambda m: (m.start, m.service, m.linked_account),
    )


def _add(cells: dict, key: tuple[str, str, str, str], metrics: dict, estimated: bool) -> None:
    """Sum one group into its cell (a cell can be split across pages)."""
    unblended, currency = amount(metrics, "UnblendedCost")
    net, _ = amount(metrics, "NetAmortizedCost")
    cell = cells.setdefault(key, {"unblended": Decimal(0), "net_amortized": None, "currency": currency,
                                  "estimated": False})
    cell["unblended"] += unblended or Decimal(0)
    if net is not None:
        cell["net_amortized"] = (cell["net_amortized"] or Decimal(0)) + net
    cell["estimated"] = cell["estimated"] or estimated


def _read_daily(ce: Any, data: CostData, today: date) -> None:
    start, end = daily_window(today)
    data.daily_start, data.daily_end = start, end
    days: dict[str, DailySpend] = {}
    for page in pages(
        ce, "get_cost_and_usage",
        TimePeriod={"Start": start, "End": end}, Granularity="DAILY", Metrics=["UnblendedCost"],
    ):
        for period in page.get("ResultsByTime", []):
            day = period["TimePeriod"]["Start"]
            value, currency = amount(period.get("Total") or {}, "UnblendedCost")
            for group in period.get("Groups") or []:  # tolerate a grouped answer
                extra, currency = amount(group.get("Metrics") or {}, "UnblendedCost")
                value = (value or Decimal(0)) + (extra or Decimal(0))
            prior = days.get(day)
            total = (prior.unblended if prior else Decimal(0)) + (value or Decimal(0))
            estimated = bool(period.get("Estimated")) or bool(prior and prior.estimated)
            days[day] = DailySpend(day, total, currency, estimated)
    data.daily = [days[d] for d in sorted(days)]
