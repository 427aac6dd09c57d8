"""Resource-level costs: GetCostAndUsageWithResources, 14 days, daily, grouped by resource.

Only for the services where an actual per-resource cost sharpens a finding: EC2 compute, EBS and
NAT gateways (both billed under "EC2 - Other"), RDS and Lambda. The feature is opt-in in Cost
Management preferences and AWS does not document the error it gives when it is off, so
ValidationException, DataUnavailableException and an AccessDeniedException that is not an IAM
refusal all mean "not enabled" (the AWS message is kept in the coverage detail).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from finops.cost import RESOURCES_NOT_ENABLED, SourceUnavailable, error_code, error_message, permission_denied
from finops.cost.spend import amount, pages
from finops.models import CostData, ResourceCost

log = logging.getLogger(__name__)

RESOURCE_DAYS = 14  # the API refuses a start earlier than 14 days ago
SERVICES = (
    "Amazon Elastic Compute Cloud - Compute",
    "EC2 - Other",  # EBS volumes and snapshots, NAT gateways, Elastic IPs
    "Amazon Relational Database Service",
    "AWS Lambda",
)
UNAVAILABLE_CODES = {"ValidationException", "DataUnavailableException", "AccessDeniedException", "AccessDenied"}


def resource_window(today: date) -> tuple[str, str]:
    return (today - timedelta(days=RESOURCE_DAYS)).isoformat(), today.isoformat()


def read_resource_costs(ce: Any, data: CostData, today: date, record: Any = None) -> None:
    start, end = resource_window(today)
    data.resources_start, data.resources_end = start, end
    try:
        totals = _query(ce, start, end, SERVICES)
    except Exception as error:
        if error_code(error) != "ValidationException" or permission_denied(error):
            _raise_unavailable(error)
        # The API reference still says the filter must be "SERVICE = EC2 - Compute": if AWS refuses
        # the wider filter, ask once more with exactly that (one more paid request, never a repeat).
        log.info("source=ce.resources state=retry-ec2-only aws_message=%s", error_message(error))
        try:
            totals = _query(ce, start, end, SERVICES[:1])
        except Exception as second:
            _raise_unavailable(second)
        if record is not None:
            record.detail = (
                f"EC2 compute only: AWS refused resource-level data for {', '.join(SERVICES[1:])} "
                f"({error_message(error).rstrip('.') or 'ValidationException'})"
            )
    data.resource_costs = sorted(
        (
            ResourceCost(resource_id=rid, service=svc, cost=v["cost"], start=start, end=end,
                         days=len(v["days"]), currency=v["currency"])
            for (svc, rid), v in totals.items()
        ),
        key=lambda r: (-r.cost, r.resource_id),
    )


def _raise_unavailable(error: Exception) -> None:
    if error_code(error) in UNAVAILABLE_CODES and not permission_denied(error):
        log.info("source=ce.resources state=not_enabled code=%s aws_message=%s",
                 error_code(error), error_message(error))
        raise SourceUnavailable(RESOURCES_NOT_ENABLED) from None
    raise error


def _query(ce: Any, start: str, end: str, services: tuple[str, ...]) -> dict[tuple[str, str], dict[str, Any]]:
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    group_keys: list[str] = []
    for page in pages(
        ce, "get_cost_and_usage_with_resources",
        TimePeriod={"Start": start, "End": end},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
        Filter={"Dimensions": {"Key": "SERVICE", "Values": list(services)}},
        GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "RESOURCE_ID"}],
    ):
        group_keys = [g.get("Key", "") for g in page.get("GroupDefinitions", [])] or group_keys
        for period in page.get("ResultsByTime", []):
            day = period["TimePeriod"]["Start"]
            for group in period.get("Groups") or []:
                keys = dict(zip(group_keys or ["SERVICE", "RESOURCE_ID"], group.get("Keys", []), strict=False))
                resource_id = keys.get("RESOURCE_ID", "")
                if not resource_id or resource_id.startswith("NoResourceId"):
                    continue
                value, currency = amount(group.get("Metrics") or {}, "UnblendedCost")
                cell = totals.setdefault((keys.get("SERVICE", ""), resource_id),
                                         {"cost": Decimal(0), "days": set(), "currency": currency})
                cell["cost"] += value or Decimal(0)
                cell["days"].add(day)
    return totals
