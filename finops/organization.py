"""Organization-wide reviews: the management account and every active member account.

    result = scan_organization(MANAGEMENT_ROLE_ARN, EXTERNAL_ID, settings)

1. The management account is scanned exactly as one account is (``run_scan``: the safety probe,
   the role assumed with the External ID, every collector, Cost Explorer and Cost Optimization
   Hub read once). Its ``account.organization`` collector lists the organization's accounts
   (``organizations:ListAccounts``, every page), so listing needs no call of its own.
2. Every ACTIVE member account is scanned by ``run_scan`` too, through
   ``arn:aws:iam::<member>:role/finops-pack-readonly`` with the same External ID, after that
   role's own safety probe, at most ``FINOPS_ORG_ACCOUNT_CONCURRENCY`` accounts at once. Members
   get the management account's cost data (``shared_costs``): no member sends a Cost Explorer
   request, and each Cost Optimization Hub recommendation lands in the account it belongs to.
3. ``combine`` (pure: scan results in, no I/O) gives each account its status, its sentence when
   it could not be read, its savings (from its priced findings) and its coverage. A member that
   cannot be read leaves the organization ``partial``, never failed; a failure of the management
   account fails the review (without it there is no account list and no cost data).

The member scans start as soon as the management account's scan has listed them (its first read),
while it still reads Cost Explorer, Cost Optimization Hub and its own inventory: each reads its
inventory, then waits for that cost data for its checks (and fails with ``ManagementUnavailable``
if the management account's scan does). STS sessions are per account (each ``run_scan`` keeps its
own refreshable one).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from finops.aws.arn import parse_role_arn
from finops.checks.thresholds import Thresholds, load_thresholds
from finops.config import Settings
from finops.errors import AssumeRoleDenied, FinopsError, ManagementUnavailable, ReadOnlyViolation
from finops.iam_policy import ROLE_NAME
from finops.models import (
    CHECK_SOURCE_PREFIX,
    COMPLETE,
    COV_OK,
    FAILED,
    PARTIAL,
    SKIPPED,
    Coverage,
    Finding,
    InventoryItem,
    ScanResult,
)
from finops.money import dollars, from_micros, to_micros
from finops.pricing import PriceCatalogue, load_catalogue

log = logging.getLogger(__name__)

ORGANIZATION_SOURCE = "account.organization"
ACTIVE = "ACTIVE"
StepFn = Callable[[str], None]


class OrganizationUnavailable(FinopsError):
    """The management role's account cannot list an organization's accounts."""

    code = "organization_unavailable"


@dataclass(frozen=True)
class OrgAccount:
    """One account as organizations:ListAccounts gives it (the name is the customer's text)."""

    account_id: str
    name: str
    state: str  # ACTIVE, SUSPENDED, PENDING_CLOSURE, ...

    def label(self) -> str:
        return f"Account {self.account_id} ({self.name})" if self.name else f"Account {self.account_id}"


@dataclass
class AccountScan:
    """What happened to one account: its scan result, or why there is none."""

    account: OrgAccount
    role_arn: str
    management: bool = False
    result: ScanResult | None = None
    status: str = ""  # FAILED or SKIPPED when there is no result
    reason: str = ""


@dataclass(frozen=True)
class AccountSummary:
    """One row of the per-account table (``accounts[]`` in JSON)."""

    account_id: str
    name: str
    state: str
    management: bool
    status: str  # complete / partial / failed / skipped
    reason: str  # the customer's sentence when the account was not (fully) read; "" otherwise
    monthly_savings: Decimal
    commitment_monthly_savings: Decimal
    findings: int
    reads: int
    reads_ok: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id, "name": self.name, "state": self.state, "management": self.management,
            "status": self.status, "reason": self.reason, "monthly_savings": dollars(self.monthly_savings),
            "commitment_monthly_savings": dollars(self.commitment_monthly_savings), "findings": self.findings,
            "coverage": {"reads": self.reads, "reads_ok": self.reads_ok,
                         "complete": self.status == COMPLETE and self.reads == self.reads_ok},
        }


@dataclass
class OrganizationResult:
    organization_id: str
    management_account_id: str
    status: str  # complete or partial
    accounts: list[AccountSummary]
    scans: list[AccountScan] = field(default_factory=list)

    @property
    def management(self) -> ScanResult:
        return next(s.result for s in self.scans if s.management and s.result is not None)

    @property
    def monthly_savings(self) -> Decimal:
        return sum((a.monthly_savings for a in self.accounts), Decimal(0))


def _as_stored(amount: Decimal) -> Decimal:
    """A finding's savings as the report shows it (micro-dollars stored, cents shown), so an
    account's total here equals the sum of its findings in any export, to the cent."""
    return Decimal(dollars(from_micros(to_micros(amount))))


def savings_of(findings: Sequence[Finding]) -> Decimal:
    return sum((_as_stored(f.monthly_savings) for f in findings if f.monthly_savings is not None), Decimal(0))


def member_role_arn(management_role_arn: str, account_id: str, role_name: str = ROLE_NAME) -> str:
    partition = parse_role_arn(management_role_arn).partition
    return f"arn:{partition}:iam::{account_id}:role/{role_name}"


def organization_accounts(management: ScanResult) -> tuple[str, list[OrgAccount]]:
    """(organization id, its accounts) from the management account's ``account.organization`` read."""
    read = next((c for c in management.coverage if c.source == ORGANIZATION_SOURCE), None)
    return listed_accounts(management.account_id, read,
                           [i for i in management.inventory if i.collector == ORGANIZATION_SOURCE])


def listed_accounts(me: str, read: Coverage | None, items: Sequence[InventoryItem]) -> tuple[str, list[OrgAccount]]:
    """(organization id, its accounts) from account ``me``'s ``account.organization`` read (its
    coverage and items), as soon as it is done; raises ``OrganizationUnavailable`` with the
    customer's sentence when ``me`` cannot list an organization's accounts."""
    if read is not None and read.status != COV_OK:
        raise OrganizationUnavailable(
            f"ListAccounts failed: {read.status}",
            customer_message=f"The organization's accounts could not be listed from account {me}: {read.detail}.",
        )
    item = next((i for i in items if i.collector == ORGANIZATION_SOURCE), None)
    data = item.data if item is not None else {}
    if not data.get("in_organization"):
        raise OrganizationUnavailable(
            "not in an organization",
            customer_message=(f"Account {me} is not in an AWS organization, so there are no member accounts to "
                              "review. Run the scan without --organization."),
        )
    if not data.get("is_management_account"):
        raise OrganizationUnavailable(
            "not the management account",
            customer_message=(
                f"Account {me} is a member of organization {data.get('organization_id')}, not its management "
                f"account ({data.get('management_account_id')}). An organization review starts from the "
                "management account's role: give that role's ARN."
            ),
        )
    accounts = [
        OrgAccount(str(a.get("id") or ""), str(a.get("name") or ""), str(a.get("status") or "").upper())
        for a in data.get("accounts") or []
        if a.get("id")
    ]
    return str(data.get("organization_id") or ""), accounts


def refusal_sentence(account: OrgAccount, role_arn: str, error: FinopsError) -> str:
    """Why a member account could not be read, in words its owner can act on."""
    if isinstance(error, AssumeRoleDenied):
        # AWS answers AccessDenied alike for a missing role and for a trust policy that names another
        # External ID or principal: the sentence names each, and claims neither.
        return (
            f"{account.label()}: AWS refused to let the scanner assume {role_arn} with this review's External ID. "
            f"Either the role {role_arn.rsplit('/', 1)[-1]} does not exist in this account (deploy the "
            "finops-pack-readonly stack or StackSet there), or its trust policy names another External ID or "
            "another scanner principal. AWS gives the same answer for each."
        )
    return f"{account.label()}: {error.customer_message}"


def not_active_sentence(account: OrgAccount) -> str:
    state = account.state.lower().replace("_", " ") or "not active"
    closed = " (closed in AWS Organizations)" if account.state == "SUSPENDED" else ""
    return f"{account.label()} is {state}{closed}, so it was not scanned."


def summarize(scan: AccountScan) -> AccountSummary:
    """One account's row of the per-account table, from its outcome (pure)."""
    result = scan.result
    if result is None:
        return AccountSummary(
            scan.account.account_id, scan.account.name, scan.account.state, scan.management,
            scan.status or FAILED, scan.reason, Decimal(0), Decimal(0), 0, 0, 0,
        )
    reads = [c for c in result.coverage if not c.source.startswith(CHECK_SOURCE_PREFIX)]
    gaps = [c for c in reads if c.status != COV_OK]
    status, reason = COMPLETE, ""
    if gaps:
        status = PARTIAL
        reason = (f"{scan.account.label()}: {len(gaps)} of {len(reads)} reads could not be completed "
                  "(each is named in the coverage).")
    return AccountSummary(
        scan.account.account_id, scan.account.name, scan.account.state, scan.management, status, reason,
        savings_of(result.findings), savings_of(result.commitments), len(result.findings),
        len(reads), len(reads) - len(gaps),
    )


def combine(organization_id: str, scans: Sequence[AccountScan]) -> OrganizationResult:
    """Per-account rows and the organization's status from the accounts' outcomes (pure)."""
    management = next((s for s in scans if s.management), None)
    if management is None or management.result is None:
        raise ValueError("an organization result needs the management account's scan")
    ordered = sorted(scans, key=lambda s: (not s.management, s.account.name.lower(), s.account.account_id))
    summaries = [summarize(scan) for scan in ordered]
    status = PARTIAL if any(a.status in (PARTIAL, FAILED) for a in summaries) else COMPLETE
    return OrganizationResult(organization_id, management.result.account_id, status, summaries, list(scans))


def scan_organization(
    role_arn: str,
    external_id: str,
    settings: Settings,
    *,
    regions: Sequence[str] = (),
    base_session: Any = None,
    prices: PriceCatalogue | None = None,
    thresholds: Thresholds | None = None,
    threshold_overrides: Mapping[str, Any] | None = None,
    on_step: StepFn = lambda _m: None,
    member_role_name: str = ROLE_NAME,
) -> OrganizationResult:
    """Scan the management account behind ``role_arn`` and every active member account."""
    from finops.scan import run_scan

    thresholds = thresholds or load_thresholds(settings.thresholds_file, threshold_overrides)
    prices = prices or load_catalogue(settings.price_catalogue)
    common: dict[str, Any] = {"regions": regions, "base_session": base_session, "prices": prices,
                              "thresholds": thresholds}

    # The management account's scan runs on its own thread; its members start as soon as it has
    # listed them (its ``account.organization`` read, done first: ``finops.scan.FIRST_READS``), while
    # it still reads Cost Explorer and its inventory. They wait for its cost data only for their checks.
    me_id = parse_role_arn(role_arn).account_id
    listing: dict[str, Any] = {}
    listed = threading.Event()

    def on_read(read: Coverage, items: list[InventoryItem]) -> None:
        if read.source != ORGANIZATION_SOURCE:
            return
        try:
            listing["accounts"] = listed_accounts(me_id, read, items)
        except OrganizationUnavailable:
            pass  # raised again, with the scan's outcome, once it ends (below)
        listed.set()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="org-management") as runner:
        management_scan = runner.submit(
            run_scan, role_arn, external_id, settings, on_step=lambda m: on_step(f"[management] {m}"),
            on_read=on_read, **common)
        management_scan.add_done_callback(lambda _future: listed.set())
        listed.wait()
        if "accounts" not in listing:  # its scan failed first, or the list did: nothing to scan safely
            listing["accounts"] = organization_accounts(management_scan.result())  # raises why
        organization_id, accounts = listing["accounts"]
        scans = _scan_members(
            role_arn, external_id, settings, organization_id, accounts, me_id, management_scan,
            on_step=on_step, member_role_name=member_role_name, common=common)
        management = management_scan.result()
    me = next((a for a in accounts if a.account_id == management.account_id),
              OrgAccount(management.account_id, "", ACTIVE))
    scans.insert(0, AccountScan(me, role_arn, management=True, result=management))
    for scan in scans:
        if scan.reason and scan.status in (FAILED, SKIPPED):
            on_step(scan.reason)
    return combine(organization_id, scans)


def _scan_members(role_arn: str, external_id: str, settings: Settings, organization_id: str,
                  accounts: list[OrgAccount], me_id: str, management_scan: Future[ScanResult], *,
                  on_step: StepFn, member_role_name: str, common: dict[str, Any]) -> list[AccountScan]:
    """Every member's outcome (the inactive ones skipped with the sentence), each active one
    scanned at most ``FINOPS_ORG_ACCOUNT_CONCURRENCY`` at a time with the management account's
    cost data, once its scan has it (a member whose wait ends with that scan's failure fails)."""
    from finops.scan import SharedCosts, run_scan

    members = [a for a in accounts if a.account_id != me_id]
    active = [a for a in members if a.state == ACTIVE]
    scans = [AccountScan(a, "", status=SKIPPED, reason=not_active_sentence(a)) for a in members if a.state != ACTIVE]
    on_step(f"Organization {organization_id}: {len(accounts)} accounts, {len(active)} active member accounts to scan "
            f"({settings.org_account_concurrency} at a time)")

    def shared_costs() -> SharedCosts:
        try:
            return SharedCosts.of(management_scan.result())
        except FinopsError as error:
            raise ManagementUnavailable(f"the management account's scan failed: {error.code}") from None

    def scan_member(account: OrgAccount) -> AccountScan:
        member_arn = member_role_arn(role_arn, account.account_id, member_role_name)
        try:
            result = run_scan(
                member_arn, external_id, settings, shared_costs=shared_costs,
                on_step=lambda m: on_step(f"[{account.account_id}] {m}"), **common,
            )
        except ReadOnlyViolation:
            raise  # the guard stopped a call: a bug, never one account's gap
        except FinopsError as error:
            log.info("account=%s state=failed code=%s", account.account_id, error.code)
            return AccountScan(account, member_arn, status=FAILED, reason=refusal_sentence(account, member_arn, error))
        except Exception as error:  # recorded as this account's failure; the other accounts go on
            log.exception("account=%s state=failed error=%s", account.account_id, type(error).__name__)
            return AccountScan(account, member_arn, status=FAILED, reason=(
                f"{account.label()}: the scan of this account stopped on an internal error "
                f"({type(error).__name__}); the other accounts were scanned. Run the review again, and if it "
                "happens twice, tell your FinOps Pack contact."))
        on_step(f"[{account.account_id}] scanned: {len(result.findings)} opportunities")
        return AccountScan(account, member_arn, result=result)

    with ThreadPoolExecutor(max_workers=settings.org_account_concurrency, thread_name_prefix="org-account") as pool:
        futures = [pool.submit(scan_member, account) for account in active]
        try:
            scans.extend(future.result() for future in futures)
        except BaseException:  # the read-only guard stopped a call: start no other account
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return scans
