"""The wizard's "Test connection": the scanner's real assume path, answered in one sentence.

It runs ``assume_customer_role`` exactly as a scan does (safety probe first: AssumeRole must fail
without the External ID and with a wrong one), then asks STS who it is. Nothing is stored: the
session and its credentials go out of scope when this returns.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from finops import __version__
from finops.aws.arn import parse_role_arn
from finops.aws.session import STS_REGION, assume_customer_role
from finops.errors import AssumeRoleDenied, AssumeRoleError, ExternalIdMismatch, FinopsError

log = logging.getLogger(__name__)

CONNECTED = "connected"


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    code: str  # "connected" or the FinopsError code (external_id_mismatch, assume_role_denied, role_unsafe, ...)
    message: str
    account_id: str | None = None


def web_config() -> Config:
    """A person is waiting on the answer: few retries, short timeouts."""
    return Config(
        retries={"mode": "standard", "max_attempts": 2},
        connect_timeout=5,
        read_timeout=15,
        user_agent_appid=f"finops-pack-{__version__}",
    )


def not_trusted_message(scanner_principal_arn: str | None) -> str:
    # AWS answers AccessDenied alike for a missing role, a trust policy naming another principal
    # and a different sts:ExternalId, so the sentence names all three.
    principal = f" ({scanner_principal_arn})" if scanner_principal_arn else ""
    return (
        "Role not found, or it does not trust the FinOps Pack scanner with this review's External ID: check "
        f"the role ARN, that the trust policy names the scanner principal{principal}, and that its "
        "sts:ExternalId condition is exactly this review's External ID."
    )


def check_connection(
    role_arn: str,
    external_id: str,
    *,
    review_external_id: str,
    scanner_principal_arn: str | None = None,
    base: boto3.Session | None = None,
) -> ConnectionResult:
    """Assume the customer's role as the scanner would, and say what happened in one sentence."""
    try:
        role = parse_role_arn(role_arn)
        if external_id.strip() != review_external_id:
            raise ExternalIdMismatch("submitted External ID differs from the review's")
        config = web_config()
        session = assume_customer_role(role, review_external_id, base=base, config=config)
        try:
            account_id = session.client("sts", region_name=STS_REGION, config=config).get_caller_identity()["Account"]
        except (ClientError, BotoCoreError) as error:
            raise AssumeRoleError(f"GetCallerIdentity failed: {type(error).__name__}") from None
    except AssumeRoleDenied as error:
        log.info("test-connection role=%r result=%s", role_arn[:160], error.code)
        return ConnectionResult(False, error.code, not_trusted_message(scanner_principal_arn))
    except FinopsError as error:
        log.info("test-connection role=%r result=%s", role_arn[:160], error.code)
        return ConnectionResult(False, error.code, error.customer_message)
    log.info("test-connection role=%s result=connected account=%s", role.arn, account_id)
    return ConnectionResult(
        True, CONNECTED,
        f"Connected to account {account_id}: the role accepts this review's External ID and refuses any other "
        "value or none.",
        account_id,
    )


# -- an organization review: the management account, then every member account's role ----------------
MEMBER_CONCURRENCY = 8  # member roles tried at once
MEMBERS_BUDGET_SECONDS = 45.0  # the members' share of the connection job's 90 s
REACHABLE, UNREACHABLE, NOT_SCANNED, NOT_CHECKED = "reachable", "unreachable", "not_scanned", "not_checked"
MEMBERS_UNREACHABLE = "members_unreachable"
_NOT_IN_ORG = "AWSOrganizationsNotInUseException"


@dataclass(frozen=True)
class MemberCheck:
    """One member account's answer (``name`` is the customer's own text: escape it when shown)."""

    account_id: str
    name: str
    state: str
    status: str  # reachable / unreachable / not_scanned (suspended, ...) / not_checked (out of time)
    reason: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"account_id": self.account_id, "name": self.name, "state": self.state, "status": self.status,
                "reason": self.reason}


@dataclass(frozen=True)
class OrganizationConnection:
    """What the organization's Test connection found, beside the management account's ConnectionResult."""

    organization_id: str
    management_account_id: str
    members: tuple[MemberCheck, ...]

    @property
    def active(self) -> list[MemberCheck]:
        return [m for m in self.members if m.status != NOT_SCANNED]

    @property
    def reachable(self) -> list[MemberCheck]:
        return [m for m in self.members if m.status == REACHABLE]

    def as_dict(self) -> dict[str, Any]:
        return {"organization_id": self.organization_id, "management_account_id": self.management_account_id,
                "reachable": len(self.reachable), "active": len(self.active),
                "members": [m.as_dict() for m in self.members]}


def _organization_accounts(session: Any, account_id: str, config: Config) -> tuple[str, list[Any]]:
    """(organization id, its accounts) through the management role's session, or
    OrganizationUnavailable with a sentence the customer can act on."""
    from finops.organization import OrgAccount, OrganizationUnavailable

    orgs = session.client("organizations", region_name=STS_REGION, config=config)
    try:
        organization = orgs.describe_organization()["Organization"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == _NOT_IN_ORG:
            raise OrganizationUnavailable("not in an organization", customer_message=(
                f"Connected to account {account_id}, but it is not in an AWS organization, so there are no member "
                "accounts to review. Choose \"Just this account\" above, or give the role of your organization's "
                "management account.")) from None
        raise OrganizationUnavailable(f"DescribeOrganization failed: {error}", customer_message=(
            f"Connected to account {account_id}, but its organization could not be read "
            f"(organizations:DescribeOrganization answered {error.response.get('Error', {}).get('Code', 'an error')})"
            ". Check that the role was created from this review's template or policy.")) from None
    except BotoCoreError as error:
        raise OrganizationUnavailable(f"DescribeOrganization failed: {type(error).__name__}") from None
    management = str(organization.get("MasterAccountId") or "")
    organization_id = str(organization.get("Id") or "")
    if management != account_id:
        raise OrganizationUnavailable("not the management account", customer_message=(
            f"Account {account_id} is a member of organization {organization_id}, not its management account "
            f"({management}). An organization review starts from the management account's role: create the role "
            "there and give its ARN."))
    try:
        accounts = [
            OrgAccount(str(a.get("Id") or ""), str(a.get("Name") or ""), str(a.get("State") or a.get("Status") or "")
                       .upper())
            for page in orgs.get_paginator("list_accounts").paginate() for a in page.get("Accounts", [])
            if a.get("Id")
        ]
    except ClientError as error:
        raise OrganizationUnavailable(f"ListAccounts failed: {error}", customer_message=(
            f"Connected to management account {account_id}, but the organization's accounts could not be listed "
            f"(organizations:ListAccounts answered {error.response.get('Error', {}).get('Code', 'an error')}). "
            "Check that the role was created from this review's template or policy.")) from None
    except BotoCoreError as error:
        raise OrganizationUnavailable(f"ListAccounts failed: {type(error).__name__}") from None
    return organization_id, accounts


def _check_member(account: Any, member_arn: str, external_id: str, base: Any, config: Config) -> MemberCheck:
    """Assume one member's role exactly as its scan will (safety probe first); keep nothing."""
    from finops.organization import refusal_sentence

    try:
        assume_customer_role(parse_role_arn(member_arn), external_id, base=base, config=config)
    except FinopsError as error:
        log.info("test-connection account=%s result=%s", account.account_id, error.code)
        return MemberCheck(account.account_id, account.name, account.state, UNREACHABLE,
                           refusal_sentence(account, member_arn, error))
    return MemberCheck(account.account_id, account.name, account.state, REACHABLE)


def check_organization_connection(
    role_arn: str,
    external_id: str,
    *,
    review_external_id: str,
    scanner_principal_arn: str | None = None,
    base: Any = None,
    concurrency: int = MEMBER_CONCURRENCY,
    members_budget: float = MEMBERS_BUDGET_SECONDS,
) -> tuple[ConnectionResult, OrganizationConnection | None]:
    """The management account as ``check_connection`` tests it, then its organization's accounts
    (organizations:ListAccounts through the management role) and each ACTIVE member's
    finops-pack-readonly role with the review's External ID, ``concurrency`` at a time. Members
    still unanswered after ``members_budget`` seconds are reported as not checked."""
    from finops.aws.session import scanner_session
    from finops.organization import ACTIVE, OrganizationUnavailable, member_role_arn, not_active_sentence

    base = base or scanner_session()
    management = check_connection(role_arn, external_id, review_external_id=review_external_id,
                                  scanner_principal_arn=scanner_principal_arn, base=base)
    if not management.ok or management.account_id is None:
        return management, None
    config = web_config()
    account_id = management.account_id
    try:
        session = assume_customer_role(parse_role_arn(role_arn), review_external_id, base=base, config=config,
                                       probe=False)  # proven safe a moment ago by check_connection
        organization_id, accounts = _organization_accounts(session, account_id, config)
    except OrganizationUnavailable as error:
        log.info("test-connection role=%s result=%s", role_arn[:160], error.code)
        return ConnectionResult(False, error.code, error.customer_message, account_id), None
    except FinopsError as error:
        return ConnectionResult(False, error.code, error.customer_message, account_id), None

    members = [a for a in accounts if a.account_id != account_id]
    checks: dict[str, MemberCheck] = {
        a.account_id: MemberCheck(a.account_id, a.name, a.state, NOT_SCANNED, not_active_sentence(a))
        for a in members if a.state != ACTIVE
    }
    active = [a for a in members if a.state == ACTIVE]
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="test-member")
    futures = {pool.submit(_check_member, a, member_role_arn(role_arn, a.account_id), review_external_id, base,
                           config): a for a in active}
    done, _late = wait(futures, timeout=members_budget)
    pool.shutdown(wait=False, cancel_futures=True)  # a member STS has not answered yet is not waited for
    for future, account in futures.items():
        if future in done and future.exception() is None:
            checks[account.account_id] = future.result()
        elif future in done:
            log.warning("test-connection account=%s error=%s", account.account_id,
                        type(future.exception()).__name__)
            checks[account.account_id] = MemberCheck(
                account.account_id, account.name, account.state, UNREACHABLE,
                f"{account.label()}: this account's role could not be checked (an internal error on our side). "
                "Test the connection again; if it happens twice, tell your FinOps Pack contact.")
        else:
            checks[account.account_id] = MemberCheck(
                account.account_id, account.name, account.state, NOT_CHECKED,
                f"{account.label()}: AWS did not answer in time, so this account's role was not checked. "
                "Test the connection again.")
    ordered = tuple(sorted(checks.values(), key=lambda m: (m.status == REACHABLE, m.status == NOT_SCANNED,
                                                           m.name.lower(), m.account_id)))
    organization = OrganizationConnection(organization_id, account_id, ordered)
    reachable, total = len(organization.reachable), len(organization.active)
    skipped = len(ordered) - total
    not_scanned = (f" {skipped} suspended or closing account{'s are' if skipped != 1 else ' is'} listed, "
                   "not scanned.") if skipped else ""
    everyone = reachable == total
    message = (
        f"Connected to management account {account_id} of organization {organization_id}: {reachable} of {total} "
        f"member account{'s' if total != 1 else ''} reachable."
        + ("" if everyone else " The scan would leave the others out, each named in the report; fix them below "
           "first if you can.")
        + not_scanned
    )
    log.info("test-connection role=%s result=organization reachable=%d active=%d", role_arn[:160], reachable, total)
    return ConnectionResult(everyone, CONNECTED if everyone else MEMBERS_UNREACHABLE, message, account_id), \
        organization
