"""Cost data: Cost Explorer spend, resource-level costs and Cost Optimization Hub recommendations.

    costs, coverage = collect_costs(session, account_id, settings, config, calls, on_step)

Cost Explorer charges $0.01 per request, each page included, so every query here is sent once
per review, sequentially, and counted: ``CostData.ce_requests`` is what the review cost. Cost
Optimization Hub is free. Each source is one coverage record (region "global"); a source that is
not enabled or not permitted is recorded with the sentence telling the customer how to enable it,
and nothing else fails.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from finops.config import Settings
from finops.errors import ReadOnlyViolation
from finops.models import (  # noqa: F401 - the source ids are re-exported for the cost readers
    CE_SOURCES,
    COH_SOURCE,
    COV_DENIED,
    COV_ERROR,
    COV_NOT_ENABLED,
    COV_OK,
    COV_THROTTLED,
    RESOURCES_SOURCE,
    SPEND_SOURCE,
    CostData,
    Coverage,
    Reads,
)

log = logging.getLogger(__name__)

CE_REQUEST_PRICE = Decimal("0.01")  # USD per Cost Explorer API request, each page included
CE_REGION = "us-east-1"  # Cost Explorer's only endpoint
COH_REGION = "us-east-1"  # Cost Optimization Hub's only endpoint; botocore does not pin it

# The remedies, in the words the report shows after "could not be read: ".
CE_NOT_ENABLED = (
    "Cost Explorer is not enabled for this account; open Cost Explorer once in the AWS Billing and Cost "
    "Management console (from the management account if this is a member account), and the data "
    "appears within 24 hours"
)
CE_NO_DATA = (
    "Cost Explorer has no data for this account yet; it appears within 24 hours of Cost Explorer being "
    "enabled in the AWS Billing and Cost Management console"
)
RESOURCES_NOT_ENABLED = (
    "it is not enabled; enable 'Resource-level data at daily granularity' in Cost Management "
    "preferences (management account)"
)
RESOURCES_TURNED_OFF = (
    "resource-level costs are turned off on this FinOps Pack server (FINOPS_RESOURCE_COSTS=false)"
)
COH_NOT_ENROLLED = (
    "the account is not enrolled in Cost Optimization Hub; opt in from the Cost Optimization Hub page "
    "of the AWS Billing and Cost Management console (from the management account to include member "
    "accounts), and recommendations appear within 24 hours. FinOps Pack never enrolls an account itself"
)
UPDATE_ROLE = "update the finops-pack-readonly stack to the current template, which allows it"

# What each cost source sends (spend.py, resources.py, coh.py): tests/test_iam.py checks these
# against the code's calls, the read-only guard's allow-list and the policy in iam/.
COST_READS: dict[str, Reads] = {
    SPEND_SOURCE: Reads("ce", ("GetCostAndUsage",), ("ce:GetCostAndUsage",)),
    RESOURCES_SOURCE: Reads("ce", ("GetCostAndUsageWithResources",), ("ce:GetCostAndUsageWithResources",)),
    COH_SOURCE: Reads(
        "cost-optimization-hub",
        ("ListEnrollmentStatuses", "GetPreferences", "ListRecommendations", "ListRecommendationSummaries"),
        ("cost-optimization-hub:ListEnrollmentStatuses", "cost-optimization-hub:GetPreferences",
         "cost-optimization-hub:ListRecommendations", "cost-optimization-hub:ListRecommendationSummaries"),
    ),
}

StepFn = Callable[[str], None]


class SourceUnavailable(Exception):
    """A cost source answered in a way that means "not enabled": carries the coverage sentence."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def error_code(error: Exception) -> str:
    return error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""


def error_message(error: Exception) -> str:
    return error.response.get("Error", {}).get("Message", "") if isinstance(error, ClientError) else ""


def permission_denied(error: Exception) -> bool:
    """AccessDenied because IAM refused the action (as opposed to a feature that is switched off)."""
    message = error_message(error).lower()
    return error_code(error) in ("AccessDenied", "AccessDeniedException") and (
        "not authorized" in message or "no identity-based policy" in message or "explicit deny" in message
    )


def classify_cost_error(error: Exception, iam_action: str) -> tuple[str, str]:
    """Map a failed cost read to a coverage status and the remedy sentence."""
    if isinstance(error, SourceUnavailable):
        return COV_NOT_ENABLED, error.detail
    code = error_code(error)
    if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
        return COV_DENIED, f"the role lacks {iam_action}; {UPDATE_ROLE}"
    if code in ("LimitExceededException", "ThrottlingException", "Throttling", "TooManyRequestsException"):
        return COV_THROTTLED, f"AWS kept throttling the calls ({code}) after every retry; run the review again later"
    if isinstance(error, ClientError):
        return COV_ERROR, f"AWS answered {code or 'an error'}"
    if isinstance(error, BotoCoreError):
        return COV_ERROR, f"the call failed before AWS answered ({type(error).__name__})"
    return COV_ERROR, f"an internal error ({type(error).__name__})"


def read_source(
    calls: threading.local, source: str, iam_action: str, read: Callable[[Coverage], None]
) -> Coverage:
    """Run one source's reads with its calls counted into its coverage record; record any failure."""
    record = Coverage(source=source, region="global")
    calls.record = record
    try:
        read(record)
    except ReadOnlyViolation:
        raise  # a bug, never a coverage gap
    except Exception as error:  # every failure becomes recorded coverage, with the remedy
        record.status, record.detail = classify_cost_error(error, iam_action)
        log.info("source=%s state=%s code=%s detail=%s", source, record.status, error_code(error), record.detail)
    finally:
        calls.record = None
    return record


def cost_clients(session: Any, config: Any) -> tuple[Any, Any]:
    """Cost Explorer and Cost Optimization Hub clients, both pinned to us-east-1."""
    return (
        session.client("ce", region_name=CE_REGION, config=config),
        session.client("cost-optimization-hub", region_name=COH_REGION, config=config),
    )


def collect_costs(
    session: Any,
    account_id: str,
    settings: Settings,
    config: Any,
    calls: threading.local,
    on_step: StepFn = lambda _m: None,
    *,
    today: date | None = None,
    clients: tuple[Any, Any] | None = None,
) -> tuple[CostData, list[Coverage]]:
    """Read spend, resource-level costs and COH recommendations; never raises for AWS answers.

    ``clients`` (Cost Explorer, Cost Optimization Hub) lets a caller build them beforehand, so
    this can run on its own thread while the inventory is read (boto3 sessions must not build
    clients from two threads at once).

    Cost Optimization Hub is read on a thread of its own while Cost Explorer's requests (each
    paid for, so one after the other) go on: the two sources fill different fields of the
    result, and neither waits for the other's round trips. The steps keep their order.
    """
    from finops.cost import coh

    today = today or datetime.now(UTC).date()
    data = CostData()
    ce, hub_client = clients or cost_clients(session, config)
    with ThreadPoolExecutor(1, thread_name_prefix="cost-optimization-hub") as pool:
        hub = pool.submit(
            read_source, calls, COH_SOURCE,
            "cost-optimization-hub:ListEnrollmentStatuses, ListRecommendations or ListRecommendationSummaries",
            lambda record: coh.read_recommendations(hub_client, data, account_id, record),
        )
        spend_cov, resources_cov = _read_cost_explorer(ce, data, today, settings, calls, on_step)
        coh_cov = hub.result()  # a ReadOnlyViolation on that thread is raised here
    on_step(
        f"Read {len(data.recommendations)} Cost Optimization Hub recommendations"
        if coh_cov.status == COV_OK
        else f"Cost Optimization Hub: {coh_cov.status.replace('_', ' ')}, {coh_cov.detail}"
    )
    coverage = [spend_cov, resources_cov, coh_cov]
    data.ce_requests = sum(c.api_calls for c in coverage if c.source in CE_SOURCES)
    return data, coverage


def _read_cost_explorer(ce: Any, data: CostData, today: date, settings: Settings, calls: threading.local,
                        on_step: StepFn) -> tuple[Coverage, Coverage]:
    """Spend, then (unless it is turned off, or Cost Explorer is not enabled) resource-level costs."""
    from finops.cost import resources, spend

    spend_cov = read_source(calls, SPEND_SOURCE, "ce:GetCostAndUsage", lambda _r: spend.read_spend(ce, data, today))
    on_step(
        f"Read {len({m.start for m in data.monthly})} months of Cost Explorer spend"
        if spend_cov.status == COV_OK
        else f"Cost Explorer spend: {spend_cov.status.replace('_', ' ')}, {spend_cov.detail}"
    )

    if not settings.resource_costs:
        resources_cov = Coverage(RESOURCES_SOURCE, "global", COV_NOT_ENABLED, detail=RESOURCES_TURNED_OFF)
    elif spend_cov.status == COV_NOT_ENABLED:
        # Resource-level data is part of Cost Explorer: do not pay for a request bound to fail.
        resources_cov = Coverage(RESOURCES_SOURCE, "global", COV_NOT_ENABLED, detail=spend_cov.detail)
    else:
        resources_cov = read_source(
            calls, RESOURCES_SOURCE, "ce:GetCostAndUsageWithResources",
            lambda record: resources.read_resource_costs(ce, data, today, record),
        )
    if resources_cov.status == COV_OK:
        on_step(f"Read the 14-day cost of {len(data.resource_costs)} resources")
    return spend_cov, resources_cov
