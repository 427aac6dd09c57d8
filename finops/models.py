"""Plain records passed between layers. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Review statuses. "partial" = finished, but some (source, region) reads failed.
DRAFT, QUEUED, RUNNING, COMPLETE, PARTIAL, FAILED = (
    "draft", "queued", "running", "complete", "partial", "failed",
)
ACTIVE_STATUSES = (QUEUED, RUNNING)
FINISHED_STATUSES = (COMPLETE, PARTIAL, FAILED)

# Coverage statuses of one (source, region) read.
COV_OK = "ok"
COV_DENIED = "access_denied"
COV_REGION_DISABLED = "region_not_enabled"
COV_NOT_ENABLED = "not_enabled"
COV_THROTTLED = "throttled"
COV_ERROR = "error"


@dataclass(frozen=True)
class InventoryItem:
    collector: str
    resource_type: str  # e.g. "ec2:volume"
    account_id: str
    region: str
    resource_id: str
    arn: str
    data: dict[str, Any]

    @property
    def uid(self) -> str:
        return self.arn or f"{self.resource_type}:{self.account_id}:{self.region}:{self.resource_id}"


@dataclass
class Coverage:
    source: str  # collector id
    region: str  # "global" for account-wide reads
    status: str = COV_OK
    api_calls: int = 0  # logical API calls (each page counts)
    attempts: int = 0  # HTTP requests sent, retries included
    detail: str = ""

    @property
    def retries(self) -> int:
        return max(self.attempts - self.api_calls, 0)


@dataclass(frozen=True)
class Finding:
    check_id: str
    title: str
    resource_type: str
    resource_id: str
    region: str
    account_id: str
    monthly_savings: Decimal
    currency: str = "USD"
    confidence: str = "high"
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def uid(self) -> str:
        return f"{self.check_id}:{self.account_id}:{self.region}:{self.resource_id}"


@dataclass(frozen=True)
class MonthlySpend:
    """One Cost Explorer month x service (x linked account) cell. ``service == ""`` is a month with no groups."""

    start: str  # YYYY-MM-DD, inclusive
    end: str  # exclusive
    service: str
    linked_account: str  # "" when the query was not grouped by account
    unblended: Decimal
    net_amortized: Decimal | None  # None when Cost Explorer did not return the metric
    currency: str = "USD"
    estimated: bool = False
    linked_account_name: str = ""


@dataclass(frozen=True)
class DailySpend:
    day: str
    unblended: Decimal
    currency: str = "USD"
    estimated: bool = False


@dataclass(frozen=True)
class ResourceCost:
    """Actual billed cost of one resource over the resource-level window (14 days)."""

    resource_id: str
    service: str
    cost: Decimal
    start: str
    end: str
    days: int  # days with a cost record
    currency: str = "USD"


@dataclass(frozen=True)
class CostRecommendation:
    """One Cost Optimization Hub recommendation (de-duplicated mode: one per resource)."""

    recommendation_id: str
    account_id: str
    region: str
    resource_id: str
    resource_arn: str
    action_type: str
    current_resource_type: str
    recommended_resource_type: str
    current_resource_summary: str
    recommended_resource_summary: str
    estimated_monthly_savings: Decimal
    estimated_monthly_cost: Decimal | None
    estimated_savings_percentage: Decimal | None
    currency: str
    implementation_effort: str
    restart_needed: bool | None
    rollback_possible: bool | None
    lookback_days: int | None
    source: str
    last_refresh: str | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class CostData:
    """What Cost Explorer and Cost Optimization Hub said about the account, plus what reading it cost."""

    monthly: list[MonthlySpend] = field(default_factory=list)
    daily: list[DailySpend] = field(default_factory=list)
    resource_costs: list[ResourceCost] = field(default_factory=list)
    recommendations: list[CostRecommendation] = field(default_factory=list)
    spend_start: str | None = None
    spend_end: str | None = None
    daily_start: str | None = None
    daily_end: str | None = None
    resources_start: str | None = None
    resources_end: str | None = None
    grouped_by_account: bool = False
    coh_enrollment: str | None = None  # "Active", "Inactive" or None when not read
    coh_savings_estimation_mode: str | None = None  # "BeforeDiscounts" / "AfterDiscounts" when readable
    coh_deduped_savings: Decimal | None = None  # estimatedTotalDedupedSavings
    coh_commitment_savings: Decimal | None = None  # Savings Plans / RI purchase groups of the summary
    coh_currency: str = "USD"
    ce_requests: int = 0  # paid Cost Explorer requests sent (each page counts)

    def cost_of(self, resource_id: str) -> ResourceCost | None:
        """The 14-day actual cost of a resource, for checks that cap estimates by what was billed."""
        for item in self.resource_costs:
            if item.resource_id == resource_id or item.resource_id.endswith(("/" + resource_id, ":" + resource_id)):
                return item
        return None


@dataclass
class ScanResult:
    account_id: str
    regions: list[str]
    coverage: list[Coverage]
    inventory: list[InventoryItem]
    findings: list[Finding]
    costs: CostData = field(default_factory=CostData)

    @property
    def partial(self) -> bool:
        return any(c.status != COV_OK for c in self.coverage)
