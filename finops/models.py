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


@dataclass
class ScanResult:
    account_id: str
    regions: list[str]
    coverage: list[Coverage]
    inventory: list[InventoryItem]
    findings: list[Finding]

    @property
    def partial(self) -> bool:
        return any(c.status != COV_OK for c in self.coverage)
