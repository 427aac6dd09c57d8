"""Cost data for the local AWS: Cost Explorer answers queued in moto, the rest served by the front.

    load_demo_costs(local_aws, "222222222222")

The demo file (``fixtures/demo_costs.json``) is one account with every source enabled: 13 months of
spend by service over two pages, 30 days of daily spend, 14 days of resource-level costs over two
pages and four Cost Optimization Hub recommendations over two pages. Its dates are anchored on one
day; loading moves them to ``today`` (whole months for monthly periods, days for the rest) so
the demo looks current.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

FIXTURES_DIR = Path(__file__).parent / "fixtures"
DEMO_FILE = FIXTURES_DIR / "demo_costs.json"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def demo_costs(account_id: str = "222222222222", today: date | None = None) -> dict[str, Any]:
    """The demo cost data for ``account_id``, dated relative to ``today`` (UTC today by default)."""
    raw = json.loads(DEMO_FILE.read_text())
    text = json.dumps(raw).replace(raw["account_id"], account_id)
    data = json.loads(text)
    anchor = date.fromisoformat(data["anchor"])
    today = today or datetime.now(UTC).date()
    days = (today - anchor).days
    months = (today.year - anchor.year) * 12 + (today.month - anchor.month)
    for entry in data["cost_and_usage"]:
        if entry["kind"] == "monthly":
            _shift(entry["result"], lambda d: _add_months(d, months, anchor, today))
        else:
            _shift(entry["result"], lambda d: d + timedelta(days=days))
    resources = data["fixtures"].get("AWSInsightsIndexService.GetCostAndUsageWithResources")
    if resources:
        _shift(resources, lambda d: d + timedelta(days=days))
    data["anchor"] = today.isoformat()
    data["account_id"] = account_id
    return data


def load_costs(local_aws: Any, account_id: str, data: dict[str, Any]) -> None:
    """Queue the CE answers in moto and load the front's fixtures for ``account_id``."""
    local_aws.queue_cost_and_usage(account_id, [entry["result"] for entry in data["cost_and_usage"]])
    local_aws.load_fixtures(copy.deepcopy(data["fixtures"]), account_id)


def load_demo_costs(local_aws: Any, account_id: str = "222222222222", today: date | None = None) -> dict[str, Any]:
    """Give ``account_id`` the demo's spend, resource costs and COH recommendations; return the data."""
    data = demo_costs(account_id, today)
    load_costs(local_aws, account_id, data)
    return data


def _shift(node: Any, move: Any) -> None:
    """Move every YYYY-MM-DD date inside TimePeriod objects, in place."""
    if isinstance(node, dict):
        period = node.get("TimePeriod")
        if isinstance(period, dict):
            for key in ("Start", "End"):
                if isinstance(period.get(key), str) and _DATE_RE.match(period[key]):
                    period[key] = move(date.fromisoformat(period[key])).isoformat()
        for value in node.values():
            _shift(value, move)
    elif isinstance(node, list):
        for value in node:
            _shift(value, move)


def _add_months(day: date, months: int, anchor: date, today: date) -> date:
    """Month starts move by whole months; the anchor (month to date end) becomes today."""
    if day == anchor:
        return today
    total = day.year * 12 + (day.month - 1) + months
    return date(total // 12, total % 12 + 1, 1) if day.day == 1 else day
