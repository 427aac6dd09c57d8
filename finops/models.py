"""Plain records passed between layers. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Review statuses. "partial" = finished, but some (source, region) reads failed.
DRAFT, QUEUED, RUNNING, COMPLETE, PARTIAL, FAILED = (
    "draft", "queued", "running", "complete", "partial", "failed",
)
# An account of an organization review that AWS Organizations does not list ACTIVE (suspended,
# closing): named in the report, not scanned, and not a gap.
SKIPPED = "skipped"
ACTIVE_STATUSES = (QUEUED, RUNNING)
FINISHED_STATUSES = (COMPLETE, PARTIAL, FAILED)

# Coverage statuses of one (source, region) read.
COV_OK = "ok"
COV_DENIED = "access_denied"
COV_REGION_DISABLED = "region_not_enabled"
COV_NOT_ENABLED = "not_enabled"
COV_THROTTLED = "throttled"
COV_ERROR = "error"
# Coverage statuses of a check (never make a review partial: the reads did not fail).
COV_NOT_EVALUATED = "not_evaluated"  # its input could not be read in that region
COV_PRICE_UNAVAILABLE = "price_unavailable"  # the catalogue has no price for a finding there
COV_CHECK_ERROR = "check_error"  # the check raised: a bug, reported, never a failed review
CHECK_SOURCE_PREFIX = "check:"

# What each read is called in reports and coverage sentences. The report imports these (and not
# the collectors or cost readers, which load botocore); a test keeps them equal to the registry.
SPEND_SOURCE = "ce.spend"
RESOURCES_SOURCE = "ce.resources"
COH_SOURCE = "coh.recommendations"
CE_SOURCES = (SPEND_SOURCE, RESOURCES_SOURCE)


@dataclass(frozen=True)
class Reads:
    """What one source (outside the collector registry) sends to AWS, declared beside its code:
    the guard's allow-list and the read-only policy are checked against these and the collectors'."""

    service: str  # botocore service name
    operations: tuple[str, ...]
    iam_actions: tuple[str, ...]  # () for an operation that needs no permission (sts:GetCallerIdentity)
SOURCE_TITLES = {
    "account.identity": "Account identity",
    "account.regions": "Enabled regions",
    SPEND_SOURCE: "Cost Explorer spend",
    RESOURCES_SOURCE: "Resource-level Cost Explorer data",
    COH_SOURCE: "Cost Optimization Hub recommendations",
    # collectors: id -> title (tests/test_units.py checks this against finops.collect.discover())
    "account.organization": "AWS Organizations membership",
    "cloudwatch.metrics": "CloudWatch usage metrics",
    "ec2.addresses": "Elastic IPs",
    "ec2.instances": "EC2 instances",
    "ec2.nat_gateways": "NAT gateways",
    "ec2.snapshots": "EBS snapshots",
    "ec2.volumes": "EBS volumes",
    "ecs.clusters": "ECS clusters",
    "ecs.services": "ECS services",
    "lambda.functions": "Lambda functions",
    "rds.cluster_snapshots": "RDS manual DB cluster snapshots",
    "rds.clusters": "RDS DB clusters",
    "rds.instances": "RDS DB instances",
    "rds.snapshots": "RDS manual DB snapshots",
    "s3.buckets": "S3 buckets",
    "ec2.images": "AMIs",
    "ecs.container_instances": "ECS container instances",
    "lambda.provisioned_concurrency": "Lambda provisioned concurrency",
    "ec2.reserved_instances": "EC2 Reserved Instances",
    "rds.reserved_instances": "RDS reserved DB instances",
    "savingsplans.plans": "Savings Plans",
}


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


# Finding vocabulary. Actions are Cost Optimization Hub's actionType values, plus one extension
# where none fits (an S3 lifecycle rule is neither a delete nor a rightsize).
ACTIONS = (
    "Delete", "Stop", "Rightsize", "Upgrade", "MigrateToGraviton", "ScaleIn",
    "PurchaseSavingsPlans", "PurchaseReservedInstances", "SetLifecyclePolicy",
)
COMMITMENT_ACTIONS = ("PurchaseSavingsPlans", "PurchaseReservedInstances")
USAGE, COMMITMENT = "usage", "commitment"
CONFIDENCES = ("High", "Medium", "Low")
EFFORTS = ("VeryLow", "Low", "Medium", "High", "VeryHigh")  # COH's implementationEffort values
NATIVE, COH = "native", "cost-optimization-hub"
# price_status of a finding: priced; a price the catalogue lacks ("unavailable", never counted);
# or no defensible estimate exists for this kind of finding ("not_estimated", never counted).
PRICED, PRICE_UNAVAILABLE, NOT_ESTIMATED = "priced", "unavailable", "not_estimated"


@dataclass(frozen=True)
class PriceLine:
    """One priced quantity of a finding's formula, with where its unit price came from.

    ``role`` says which side of the formula it is on: "current" (what the resource costs now),
    "recommended" (what it would cost after the change), or "note" (shown, never in the
    savings: e.g. the upper-bound cost of the final snapshot a deletion suggests).
    """

    item: str
    role: str
    price_key: str
    usage_type: str
    unit_price: Decimal
    unit: str
    quantity: Decimal
    region: str
    effective_date: str
    source: str  # the catalogue's source id
    source_title: str = ""
    source_url: str = ""
    sku: str = ""

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: decimals as strings, exactly as priced."""
        return {
            "item": self.item, "role": self.role, "price_key": self.price_key, "usage_type": self.usage_type,
            "sku": self.sku, "unit_price": str(self.unit_price), "unit": self.unit, "quantity": str(self.quantity),
            "amount": str(self.amount), "region": self.region, "effective_date": self.effective_date,
            "source": self.source, "source_title": self.source_title, "source_url": self.source_url,
        }


@dataclass(frozen=True)
class Finding:
    """One savings opportunity on one resource (or one commitment to buy or renew).

    ``monthly_savings`` is None when the finding is not priced (``price_status`` says why):
    such a finding is shown, never added to a total. ``alternatives`` are other findings on the
    same resource that the merge did not count (same shape, as dicts). ``covers`` names other
    resources whose cost this finding includes (a stopped instance's volumes), so their own
    findings are not counted twice.
    """

    check_id: str
    title: str
    resource_type: str
    resource_id: str
    region: str
    account_id: str
    monthly_savings: Decimal | None
    action: str = "Delete"
    kind: str = USAGE
    category: str = ""
    resource_arn: str = ""
    resource_name: str | None = None
    current_monthly_cost: Decimal | None = None
    recommended: str = ""
    confidence: str = "High"
    effort: str = "Low"
    restart_needed: bool = False
    rollback_possible: bool = False
    evidence: dict[str, Any] = field(default_factory=dict)
    price_lines: tuple[PriceLine, ...] = ()
    formula: str = ""
    remediation: str = ""
    console_url: str = ""
    sources: tuple[str, ...] = (NATIVE,)
    alternatives: tuple[dict[str, Any], ...] = ()
    price_status: str = PRICED
    price_note: str = ""
    covers: tuple[str, ...] = ()
    coh: dict[str, Any] | None = None  # Cost Optimization Hub's own figure for this resource
    capped: dict[str, Any] | None = None  # set when capped at the resource's actual run rate
    currency: str = "USD"
    # False when COH's action of the same name means something else (an engine-version Upgrade is
    # not COH's instance-class Upgrade): COH's figure is then never shown beside this finding.
    coh_comparable: bool = True

    @property
    def uid(self) -> str:
        return f"{self.check_id}:{self.account_id}:{self.region}:{self.resource_id}"

    @property
    def counted(self) -> bool:
        return self.monthly_savings is not None and self.price_status == PRICED


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
class CheckSummary:
    """What the checks decided with: for the report's "thresholds used" and "price basis"."""

    evaluated_at: str = ""
    thresholds: list[dict[str, Any]] = field(default_factory=list)
    checks: dict[str, list[str]] = field(default_factory=dict)  # check id -> regions evaluated
    catalogue_generated_at: str = ""
    catalogue_generator: str = ""
    catalogue_sources: list[dict[str, str]] = field(default_factory=list)
    cpu_seconds: float = 0.0  # CPU time of building the context, running every check and the merge


@dataclass
class ScanResult:
    account_id: str
    regions: list[str]
    coverage: list[Coverage]
    inventory: list[InventoryItem]
    findings: list[Finding]  # usage findings after the merge: one per resource
    costs: CostData = field(default_factory=CostData)
    commitments: list[Finding] = field(default_factory=list)
    checks: CheckSummary = field(default_factory=CheckSummary)

    @property
    def partial(self) -> bool:
        """Some read failed. A check's own coverage rows never make a review partial."""
        return any(c.status != COV_OK and not c.source.startswith(CHECK_SOURCE_PREFIX) for c in self.coverage)
