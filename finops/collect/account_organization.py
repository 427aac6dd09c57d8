"""The account's AWS Organizations context (global read): organization, role, member accounts.

"Not in an organization" (``AWSOrganizationsNotInUseException``) and "not the management
account" (``AccessDeniedException`` on ListAccounts from a member that is not the management
account) are normal outcomes recorded in the item, not coverage gaps. A denial of
DescribeOrganization, or of ListAccounts from the management account itself, is a real gap.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from finops.collect import CollectContext, collector, iso
from finops.models import InventoryItem

NOT_IN_ORG = "AWSOrganizationsNotInUseException"
DENIED = {"AccessDeniedException", "AccessDenied"}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@collector(
    "account.organization",
    service="organizations",
    resource_type="organizations:account",
    title="AWS Organizations membership",
    operations=("DescribeOrganization", "ListAccounts"),
    iam_actions=("organizations:DescribeOrganization", "organizations:ListAccounts"),
    scope="global",
)
def collect_organization(ctx: CollectContext) -> Iterator[InventoryItem]:
    orgs = ctx.client("organizations")
    # What DescribeOrganization said (once it has) and the accounts listed so far, shared by the two
    # reads below; each offers the management account's list so far (``ctx.partial``) after its step.
    lock = threading.Lock()
    found: dict[str, Any] = {"accounts": [], "offered": 0}

    def offer() -> None:
        with lock:
            org, accounts = found.get("org"), found["accounts"]
            if org is None or org.get("MasterAccountId") != ctx.account_id or len(accounts) == found["offered"]:
                return
            found["offered"] = len(accounts)
            ctx.partial([_item(ctx, org, list(accounts))])

    def describe() -> dict[str, Any] | None:
        try:
            org = orgs.describe_organization()["Organization"]
        except ClientError as error:
            if _code(error) != NOT_IN_ORG:
                raise
            return None
        found["org"] = org
        offer()
        return org

    def list_accounts() -> list[dict[str, Any]] | ClientError:
        try:
            for page in orgs.get_paginator("list_accounts").paginate():
                with lock:
                    found["accounts"].extend(_account(account) for account in page.get("Accounts", []))
                offer()
        except ClientError as error:
            return error  # judged below, once DescribeOrganization has said whose account this is
        return list(found["accounts"])

    # Both at once: an organization review's members are queued as soon as its management account
    # has listed them, one round trip sooner, and page by page: a list of hundreds of accounts takes
    # a round trip per 20. (An account outside any organization is refused ListAccounts with the
    # same AWSOrganizationsNotInUseException as DescribeOrganization.)
    org, accounts = ctx.fan_out(lambda read: read(), [describe, list_accounts])
    if org is not None and isinstance(accounts, ClientError):
        # A member account (not a delegated administrator) may not list accounts: normal.
        if org.get("MasterAccountId") == ctx.account_id or _code(accounts) not in DENIED:
            raise accounts
        accounts = None
    yield _item(ctx, org, accounts if org is not None else None)


def _account(account: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": account.get("Id"),
        "name": account.get("Name"),
        "status": account.get("State") or account.get("Status"),
        "joined": iso(account.get("JoinedTimestamp")),
    }


def _item(ctx: CollectContext, org: dict[str, Any] | None, accounts: list[dict[str, Any]] | None) -> InventoryItem:
    data: dict[str, Any] = {
        "in_organization": False, "organization_id": None, "management_account_id": None,
        "is_management_account": False, "feature_set": None, "accounts": None,
    }
    if org is not None:
        management = org.get("MasterAccountId")
        data.update(
            in_organization=True,
            organization_id=org.get("Id"),
            management_account_id=management,
            is_management_account=management == ctx.account_id,
            feature_set=org.get("FeatureSet"),
            accounts=accounts,
        )
    return InventoryItem(
        collector="account.organization",
        resource_type="organizations:account",
        account_id=ctx.account_id,
        region="global",
        resource_id=ctx.account_id,
        arn=f"arn:aws:organizations::{data['management_account_id'] or ctx.account_id}:account/"
        f"{data['organization_id'] or 'none'}/{ctx.account_id}",
        data=data,
    )
