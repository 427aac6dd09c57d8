"""Cost Optimization Hub: enrollment first, then de-duplicated recommendations and their total.

The scanner never enrolls anyone (UpdateEnrollmentStatus is a write and is not on the read-only
guard's allow-list). The client is pinned to us-east-1, the service's only endpoint.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from finops.cost import COH_NOT_ENROLLED, SourceUnavailable, error_code, error_message, permission_denied
from finops.models import COMMITMENT_ACTIONS, CostData, CostRecommendation, Coverage

log = logging.getLogger(__name__)


def number(value: Any) -> Decimal | None:
    """A JSON double as Decimal, through its shortest repr (12.34 stays 12.34)."""
    if value is None:
        return None
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(value, "strftime") else str(value)


def read_recommendations(hub: Any, data: CostData, account_id: str, record: Coverage) -> None:
    statuses = [
        item
        for page in hub.get_paginator("list_enrollment_statuses").paginate()
        for item in page.get("items", [])
    ]
    mine = [s for s in statuses if s.get("accountId") in (None, account_id)] or statuses
    data.coh_enrollment = "Active" if any(s.get("status") == "Active" for s in mine) else "Inactive"
    if data.coh_enrollment != "Active":
        raise SourceUnavailable(COH_NOT_ENROLLED)

    try:
        data.coh_savings_estimation_mode = hub.get_preferences().get("savingsEstimationMode")
    except ClientError:
        # Optional: the amounts are still right, only the label of how they were computed is missing.
        record.detail = "savings estimation mode (before/after discounts) could not be read"

    try:
        _read_enrolled(hub, data)
    except ClientError as error:
        # Not modeled by AWS: an AccessDenied that is no IAM refusal, once enrollment read fine,
        # means the hub has nothing to give this account (enrollment still in progress).
        if error_code(error) in ("AccessDenied", "AccessDeniedException") and not permission_denied(error):
            log.info("source=coh.recommendations state=not_enabled aws_message=%s", error_message(error))
            raise SourceUnavailable(COH_NOT_ENROLLED) from None
        raise


def _read_enrolled(hub: Any, data: CostData) -> None:
    items = []
    for page in hub.get_paginator("list_recommendations").paginate(includeAllRecommendations=False):
        items.extend(page.get("items", []))
    data.recommendations = sorted(
        (_recommendation(item) for item in items),
        key=lambda r: (-r.estimated_monthly_savings, r.resource_id, r.recommendation_id),
    )

    deduped: Decimal | None = None
    commitments = Decimal(0)
    currency = None
    for page in hub.get_paginator("list_recommendation_summaries").paginate(groupBy="ActionType"):
        if deduped is None and page.get("estimatedTotalDedupedSavings") is not None:
            deduped = number(page["estimatedTotalDedupedSavings"])
        currency = currency or page.get("currencyCode")
        for summary in page.get("items", []):
            if summary.get("group") in COMMITMENT_ACTIONS:
                commitments += number(summary.get("estimatedMonthlySavings")) or Decimal(0)
    data.coh_deduped_savings = deduped if deduped is not None else Decimal(0)
    data.coh_commitment_savings = commitments
    data.coh_currency = currency or (data.recommendations[0].currency if data.recommendations else "USD")


def _recommendation(item: dict) -> CostRecommendation:
    return CostRecommendation(
        recommendation_id=item.get("recommendationId", ""),
        account_id=item.get("accountId", ""),
        region=item.get("region", ""),
        resource_id=item.get("resourceId", ""),
        resource_arn=item.get("resourceArn", ""),
        action_type=item.get("actionType", ""),
        current_resource_type=item.get("currentResourceType", ""),
        recommended_resource_type=item.get("recommendedResourceType", ""),
        current_resource_summary=item.get("currentResourceSummary", ""),
        recommended_resource_summary=item.get("recommendedResourceSummary", ""),
        estimated_monthly_savings=number(item.get("estimatedMonthlySavings")) or Decimal(0),
        estimated_monthly_cost=number(item.get("estimatedMonthlyCost")),
        estimated_savings_percentage=number(item.get("estimatedSavingsPercentage")),
        currency=item.get("currencyCode") or "USD",
        implementation_effort=item.get("implementationEffort", ""),
        restart_needed=item.get("restartNeeded"),
        rollback_possible=item.get("rollbackPossible"),
        lookback_days=item.get("recommendationLookbackPeriodInDays"),
        source=item.get("source", ""),
        last_refresh=iso(item.get("lastRefreshTimestamp")),
        tags={t.get("key", ""): t.get("value", "") for t in item.get("tags") or []},
    )
