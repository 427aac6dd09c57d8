"""Organization-wide reviews (issue 11, engine and command line) against an organization in the local AWS.

The local AWS holds an organization whose management account is the usual customer account, with
six member accounts created through AWS Organizations: three with the read-only role, one whose
role trusts another External ID, one with no role, one suspended (``finops.sandbox.organization``).
The CLI runs as a real subprocess; the only AWS is the local one.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from finops.config import Settings
from finops.models import COMPLETE, FAILED, PARTIAL, SKIPPED, Coverage, Finding, ScanResult
from finops.organization import AccountScan, OrgAccount, combine
from finops.pricing import CATALOGUE_FILE
from finops.report import md_escape, to_markdown
from finops.sandbox import seed
from finops.sandbox.organization import (
    ROLE_NONE,
    ROLE_WRONG_EXTERNAL_ID,
    SUSPENDED,
    MemberSpec,
    seed_member_waste,
    seed_organization,
)
from tests.helpers import assume_role_calls
from tests.test_cli import run_cli

EXTERNAL_ID = "fp-org-external-id"
REGIONS = ("us-east-1",)  # where every account's waste is: one region keeps the test short
MANAGEMENT = seed.CUSTOMER_ACCOUNT


def catalogue_price(key: str, region: str) -> Decimal:
    return Decimal(json.loads(CATALOGUE_FILE.read_text())["prices"][key]["regions"][region]["usd"])


def in_dollars(waste) -> Decimal:
    """Seeded waste (check, region, priced quantities) in dollars, from the catalogue (not the checks' code)."""
    return sum((catalogue_price(key, region) * quantity
                for _check, region, lines in waste for key, quantity in lines), Decimal(0)).quantize(Decimal("0.01"))


def member_waste(member) -> Decimal:
    return in_dollars(member.waste)


def coh_recommendation(account_id: str, volume_id: str) -> dict:
    """One Cost Optimization Hub recommendation, as the management account's hub lists it for a member."""
    return {
        "recommendationId": f"rec-org-{account_id}", "accountId": account_id, "region": "us-east-1",
        "resourceId": volume_id, "resourceArn": f"arn:aws:ec2:us-east-1:{account_id}:volume/{volume_id}",
        "currentResourceType": "EbsVolume", "recommendedResourceType": "EbsVolume",
        "estimatedMonthlySavings": 12.0, "estimatedSavingsPercentage": 100.0, "estimatedMonthlyCost": 12.0,
        "currencyCode": "USD", "implementationEffort": "VeryLow", "restartNeeded": False,
        "rollbackPossible": False, "actionType": "Delete", "currentResourceSummary": "120 GiB gp2",
        "recommendedResourceSummary": "Delete (unattached 30 days)", "lastRefreshTimestamp": "2026-11-27T06:00:00Z",
        "recommendationLookbackPeriodInDays": 30, "source": "ComputeOptimizer",
    }


def spend_by_linked_account(amounts: dict[str, str]) -> dict:
    """One month of Cost Explorer spend grouped by service and linked account (moto's queued result)."""
    return {
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
        "DimensionValueAttributes": [],
        "ResultsByTime": [{"TimePeriod": {"Start": "2026-10-01", "End": "2026-11-01"}, "Total": {}, "Estimated": False,
                           "Groups": [{"Keys": ["Amazon Elastic Compute Cloud - Compute", account],
                                       "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}
                                      for account, amount in amounts.items()]}],
    }


@pytest.fixture
def organization(local_aws, customer):
    """(management role ARN, the organization, the management account's own waste)."""
    waste = (seed_member_waste(customer, 100),)
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    org = seed_organization(customer, EXTERNAL_ID)
    local_aws.clear_requests()  # seeding assumed OrganizationAccountAccessRole in every member
    return role_arn, org, waste


def issued_keys(local_aws) -> dict[str, str]:
    """Access key id -> the account of the role it was issued for (every successful AssumeRole)."""
    return {call["issued"]["AccessKeyId"]: call["params"]["RoleArn"].split(":")[4]
            for call in assume_role_calls(local_aws) if call.get("issued")}


def test_cli_organization_review_is_partial_names_the_unreadable_and_totals_each_account(
        local_aws, organization, tmp_path):
    role_arn, org, management_waste = organization
    production = org.member("Production")
    volume = next(iter(production.admin.session().client("ec2").describe_volumes()["Volumes"]))["VolumeId"]
    local_aws.load_fixtures({"CostOptimizationHubService.ListRecommendations": {"pages": [
        {"items": [coh_recommendation(production.account_id, volume)]}]}}, MANAGEMENT)
    local_aws.queue_cost_and_usage(MANAGEMENT, [spend_by_linked_account({MANAGEMENT: "40.00",
                                                                        production.account_id: "1234.50"})])
    out = tmp_path / "org.json"

    result = run_cli("scan", "--role-arn", role_arn, "--external-id", EXTERNAL_ID, "--organization",
                     "--regions", ",".join(REGIONS), "--output", str(out),
                     env={"FINOPS_ORG_ACCOUNT_CONCURRENCY": "2"})

    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["status"] == PARTIAL and report["scope"] == "organization"
    assert report["account_id"] == MANAGEMENT and report["organization_id"] == org.organization_id
    accounts = {a["account_id"]: a for a in report["accounts"]}
    assert set(accounts) == {MANAGEMENT, *(m.account_id for m in org.members)}
    assert set(accounts[MANAGEMENT]) >= {"account_id", "name", "status", "monthly_savings", "coverage"}

    # Each account read: its own findings, each carrying its account id, and its total is their sum.
    findings_of: dict[str, list[dict]] = {}
    for finding in report["findings"]:
        findings_of.setdefault(finding["account_id"], []).append(finding)
    for account_id, row in accounts.items():
        mine = findings_of.get(account_id, [])
        assert Decimal(row["monthly_savings"]) == sum((Decimal(f["monthly_savings"]) for f in mine), Decimal(0))
        assert row["findings"] == len(mine)
    assert accounts[MANAGEMENT]["status"] == COMPLETE and accounts[MANAGEMENT]["management"]
    assert Decimal(accounts[MANAGEMENT]["monthly_savings"]) == in_dollars(management_waste) == Decimal("10.00")
    for member in org.readable():
        row = accounts[member.account_id]
        assert (row["status"], row["name"], row["reason"]) == (COMPLETE, member.name, "")
        assert row["coverage"]["complete"] and row["coverage"]["reads"] == row["coverage"]["reads_ok"] > 0
        assert [(f["check_id"], f["region"], f["monthly_savings"]) for f in findings_of[member.account_id]] == [
            ("ec2_ebs_volume_unattached", "us-east-1", str(member_waste(member)))]
    assert Decimal(report["totals"]["monthly_savings"]) == in_dollars(management_waste) + sum(
        member_waste(m) for m in org.readable())
    assert Decimal(report["totals"]["monthly_savings"]) == sum(Decimal(a["monthly_savings"]) for a in accounts.values())

    # Spend per account is Cost Explorer's by linked account, read once from the management account.
    assert (accounts[MANAGEMENT]["spend"], accounts[production.account_id]["spend"]) == ("40.00", "1234.50")
    assert accounts[org.member("Staging").account_id]["spend"] is None

    # The two members that cannot be read are named, with the reason, and leave the review partial.
    for member in (org.member("Sandbox"), org.member("Legacy")):
        row = accounts[member.account_id]
        assert row["status"] == FAILED and row["monthly_savings"] == "0.00"
        assert row["reason"].startswith(f"Account {member.account_id} ({member.name}): AWS refused")
        assert f"arn:aws:iam::{member.account_id}:role/finops-pack-readonly" in row["reason"]
        assert "does not exist in this account" in row["reason"] and "another External ID" in row["reason"]
        assert row["reason"] in report["gaps"]
        assert member.account_id not in findings_of
    assert {m.role for m in (org.member("Sandbox"), org.member("Legacy"))} == {ROLE_WRONG_EXTERNAL_ID, ROLE_NONE}
    closed = org.member("Closed")
    assert closed.role == SUSPENDED
    assert accounts[closed.account_id]["status"] == SKIPPED
    assert accounts[closed.account_id]["reason"] == f"Account {closed.account_id} (Closed) is suspended (closed in " \
                                                    "AWS Organizations), so it was not scanned."

    # AssumeRole: every scan session into a member carries the External ID; the probes are the
    # two refusals run_scan asks for (none, wrong); nothing into the suspended account.
    calls = assume_role_calls(local_aws)
    into = {}
    for call in calls:
        into.setdefault(call["params"]["RoleArn"].split(":")[4], []).append(call)
    assert closed.account_id not in into
    for member in org.members:
        if member.role == SUSPENDED:
            continue
        scans = [c for c in into[member.account_id] if c["params"]["RoleSessionName"] == "finops-pack-scan"]
        probes = [c for c in into[member.account_id] if c["params"]["RoleSessionName"] == "finops-pack-safety-probe"]
        assert scans and all(c["params"].get("ExternalId") == EXTERNAL_ID for c in scans)
        assert len(probes) == 2 and all(c["params"].get("ExternalId") != EXTERNAL_ID for c in probes)
        assert all(c["status"] == 403 for c in probes)

    # Cost Explorer and Cost Optimization Hub: read once, by the management account's session only.
    keys = issued_keys(local_aws)
    cost_calls = [r for r in local_aws.requests() if r["service"] in ("ce", "cost-optimization-hub")]
    assert cost_calls and {keys[r["access_key"]] for r in cost_calls} == {MANAGEMENT}
    ce_calls = [r for r in cost_calls if r["service"] == "ce"]
    assert len(ce_calls) == report["scan_cost"]["requests"] > 0
    # ...and COH's recommendation for a member lands in that member's finding, not "another account".
    (production_finding,) = findings_of[production.account_id]
    assert production_finding["coh"] and "cost-optimization-hub" in production_finding["sources"]
    (placed,) = [r for r in report["cost_recommendations"]["items"] if r["account_id"] == production.account_id]
    assert placed["placement"] == "merged" and placed["finding"] == production_finding["uid"]

    # FINOPS_ORG_ACCOUNT_CONCURRENCY=2: never more than two member accounts read at once.
    spans: dict[str, list[float]] = {}
    for r in local_aws.requests():
        account = keys.get(r["access_key"])
        if account and account != MANAGEMENT:
            spans.setdefault(account, []).append(r["at"])
    assert len(spans) == 3
    moments = sorted({t for ts in spans.values() for t in ts})
    assert max(sum(1 for ts in spans.values() if min(ts) <= t <= max(ts)) for t in moments) <= 2

    # Markdown: the per-account table, with the customer's account names escaped.
    markdown = to_markdown(report)
    data_lake = org.member("Data *lake* | <b>team</b>")
    assert f"| {data_lake.account_id} | {md_escape(data_lake.name)} | read | - |" in markdown
    assert f"| {production.account_id} | Production | read | $1,234\\.50 | $12\\.00 | 1 | " in markdown
    assert "<b>team</b>" not in markdown and "*lake*" not in markdown
    assert f"- {md_escape(accounts[org.member('Sandbox').account_id]['reason'])}" in markdown


def test_cli_markdown_organization_report(local_aws, customer):
    """The Markdown output of a small organization, from the command line (no member has a role)."""
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    org = seed_organization(customer, EXTERNAL_ID, members=(MemberSpec("Ops | <i>x</i>", role=ROLE_NONE),))
    result = run_cli("scan", "--role-arn", role_arn, "--external-id", EXTERNAL_ID, "--organization",
                     "--regions", "us-east-1", "--format", "md")
    assert result.returncode == 0, result.stderr
    member = org.members[0]
    assert result.stdout.startswith(
        f"# AWS savings review for organization {md_escape(org.organization_id)} (management account {MANAGEMENT})")
    assert "- Status: partial" in result.stdout
    assert f"| {member.account_id} | {md_escape(member.name)} | not read | - | $0\\.00 | 0 | - |" in result.stdout
    assert "<i>x</i>" not in result.stdout


def test_organization_flag_on_an_account_outside_any_organization_exits_2_with_a_sentence(local_aws, customer):
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    result = run_cli("scan", "--role-arn", role_arn, "--external-id", EXTERNAL_ID, "--organization",
                     "--regions", "us-east-1")
    assert result.returncode == 2
    assert f"Account {MANAGEMENT} is not in an AWS organization" in result.stderr
    assert "Traceback" not in result.stderr


# -- combine: per-account rows and the organization's status, from records (no AWS, no SQLite) ---------
def _finding(account: str, savings: str | None) -> Finding:
    return Finding("ec2_ebs_volume_unattached", "Unattached EBS volume", "ec2:volume", f"vol-{savings}",
                   "us-east-1", account, None if savings is None else Decimal(savings))


def _result(account: str, *savings: str | None, gaps: int = 0) -> ScanResult:
    coverage = [Coverage("ec2.volumes", "us-east-1"), Coverage("check:x", "us-east-1", "not_evaluated")]
    coverage += [Coverage("ec2.addresses", f"r{n}", "access_denied", detail="denied") for n in range(gaps)]
    return ScanResult(account, ["us-east-1"], coverage, [], [_finding(account, s) for s in savings])


def test_combine_statuses_and_totals():
    management = AccountScan(OrgAccount("111111111111", "Root", "ACTIVE"), "arn", management=True,
                             result=_result("111111111111", "1.005", "2.10", None))
    gapped = AccountScan(OrgAccount("333333333333", "Gapped", "ACTIVE"), "arn",
                         result=_result("333333333333", "4.00", gaps=1))
    closed = AccountScan(OrgAccount("444444444444", "Closed", "SUSPENDED"), "", status=SKIPPED, reason="closed")

    only_skipped = combine("o-1", [management, closed])
    assert only_skipped.status == COMPLETE  # a suspended account is named, never a gap
    rows = {a.account_id: a for a in only_skipped.accounts}
    assert rows["111111111111"].monthly_savings == Decimal("3.11")  # 1.005 shown as 1.01 (half up), as stored
    assert rows["111111111111"].findings == 3 and rows["111111111111"].reads == rows["111111111111"].reads_ok == 1
    assert rows["444444444444"].as_dict()["status"] == SKIPPED

    with_gap = combine("o-1", [management, gapped, closed])
    assert with_gap.status == PARTIAL
    row = next(a for a in with_gap.accounts if a.account_id == "333333333333")
    assert (row.status, row.reads, row.reads_ok) == (PARTIAL, 2, 1)
    assert row.reason == "Account 333333333333 (Gapped): 1 of 2 reads could not be completed (each is named in " \
                         "the coverage)."
    assert row.as_dict()["coverage"] == {"reads": 2, "reads_ok": 1, "complete": False}
    assert with_gap.monthly_savings == Decimal("7.11")
    assert [a.account_id for a in with_gap.accounts][0] == "111111111111"  # management first

    failed = AccountScan(OrgAccount("555555555555", "Denied", "ACTIVE"), "arn", status=FAILED, reason="refused")
    assert combine("o-1", [management, failed]).status == PARTIAL
    with pytest.raises(ValueError):
        combine("o-1", [failed])


def test_member_scans_read_no_cost_source_and_keep_their_account_recommendations(local_aws, customer):
    """run_scan with the organization's cost data (as a member scan gets it) sends no cost request."""
    from finops.models import CostData, CostRecommendation
    from finops.scan import SharedCosts, run_scan

    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    rec = CostRecommendation("r1", MANAGEMENT, "us-east-1", "i-1", "", "Stop", "Ec2Instance", "Ec2Instance", "", "",
                             Decimal("5"), None, None, "USD", "Low", None, None, None, "CostExplorer", None)
    other = CostRecommendation(**{**rec.__dict__, "recommendation_id": "r2", "account_id": "999999999999"})
    shared = SharedCosts(
        CostData(recommendations=[rec, other], ce_requests=7, coh_savings_estimation_mode="AfterDiscounts"),
        (Coverage("coh.recommendations", "global"), Coverage("ce.spend", "global", "access_denied", detail="no")))
    local_aws.clear_requests()
    result = run_scan(role_arn, EXTERNAL_ID, Settings(), regions=["us-east-1"], shared_costs=shared)
    assert not [r for r in local_aws.requests() if r["service"] in ("ce", "cost-optimization-hub")]
    assert [r.recommendation_id for r in result.costs.recommendations] == ["r1"]
    assert result.costs.ce_requests == 0 and result.costs.coh_savings_estimation_mode == "AfterDiscounts"
    assert not {c.source for c in result.coverage} & {"ce.spend", "ce.resources", "coh.recommendations"}
    assert not result.partial  # the management account's Cost Explorer gap stays the management account's


def test_the_accounts_are_listed_beside_who_am_i_and_the_regions_not_after_them(local_aws, customer):
    """finops.scan.FIRST_READS: the organization read starts once the role is assumed (members are
    queued as soon as it is done), and its items and coverage land in the result as any other's."""
    from finops.scan import run_scan

    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    seed_organization(customer, EXTERNAL_ID, members=(MemberSpec("Team", waste_gib=5),))
    local_aws.clear_requests()
    local_aws.set_faults(latency_ms=200)
    read_at: dict[str, int] = {}
    try:
        result = run_scan(role_arn, EXTERNAL_ID, Settings(), regions=["us-east-1"],
                          on_read=lambda record, items: read_at.setdefault(record.source, len(local_aws.requests())))
    finally:
        local_aws.set_faults()
    actions = [r["action"] for r in local_aws.requests()]
    regions = actions.index("DescribeRegions")
    assert actions.index("DescribeOrganization") < regions and actions.index("ListAccounts") < regions, actions
    assert read_at["account.organization"] <= regions + 1, (read_at, actions)  # done before the inventory began
    (item,) = [i for i in result.inventory if i.collector == "account.organization"]
    assert item.data["is_management_account"] and len(item.data["accounts"]) == 2
    (record,) = [c for c in result.coverage if c.source == "account.organization"]
    assert record.status == "ok" and record.api_calls == 2
    assert [c.source for c in result.coverage][:2] == ["account.identity", "account.regions"]


def test_the_accounts_are_offered_page_by_page_as_aws_pages_them(local_aws, customer):
    """The local AWS pages ListAccounts by 20, as AWS (moto alone: by 100); the organization read
    offers the management account's list after each page (finops.scan on_partial), before it ends."""
    from finops.scan import run_scan

    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    seed_organization(customer, EXTERNAL_ID, members=(MemberSpec("Team", waste_gib=5),))
    orgs = customer.session().client("organizations")
    for number in range(25):
        orgs.create_account(Email=f"aws+extra{number}@example.com", AccountName=f"Extra {number}")
    assert len(orgs.list_accounts()["Accounts"]) == 20 and len(orgs.list_accounts(MaxResults=50)["Accounts"]) == 20
    local_aws.clear_requests()
    local_aws.set_faults(latency_ms=150)  # DescribeOrganization answers beside the first page, well before the second
    offered: list[tuple[str, int, bool]] = []
    ended: list[str] = []
    try:
        result = run_scan(
            role_arn, EXTERNAL_ID, Settings(), regions=["us-east-1"],
            on_partial=lambda source, items: offered.append(
                (source, len(items[0].data["accounts"]), items[0].data["is_management_account"] and not ended)),
            on_read=lambda record, items: ended.append(record.source))
    finally:
        local_aws.set_faults()
    assert offered == [("account.organization", 20, True), ("account.organization", 27, True)], offered
    assert [r["action"] for r in local_aws.requests()].count("ListAccounts") == 2
    (item,) = [i for i in result.inventory if i.collector == "account.organization"]
    assert len(item.data["accounts"]) == 27


def test_a_member_role_given_as_the_management_one_is_refused_with_a_sentence(local_aws, customer):
    from finops.organization import OrganizationUnavailable, member_role_arn, scan_organization

    org = seed_organization(customer, EXTERNAL_ID, members=(MemberSpec("Team", waste_gib=5),))
    (member,) = org.members
    member_arn = member_role_arn(f"arn:aws:iam::{MANAGEMENT}:role/finops-pack-readonly", member.account_id)
    with pytest.raises(OrganizationUnavailable) as caught:
        scan_organization(member_arn, EXTERNAL_ID, Settings(), regions=["us-east-1"])
    assert caught.value.customer_message == (
        f"Account {member.account_id} is a member of organization {org.organization_id}, not its management account "
        f"({MANAGEMENT}). An organization review starts from the management account's role: give that role's ARN.")


def test_accounts_that_cannot_be_listed_fail_the_review_with_the_reason(local_aws, customer):
    from finops.organization import OrganizationUnavailable, scan_organization

    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    seed_organization(customer, EXTERNAL_ID, members=(MemberSpec("Team", waste_gib=5),))
    local_aws.clear_requests()
    local_aws.set_faults([{"service": "organizations", "action": "ListAccounts", "error": "AccessDenied"}])
    with pytest.raises(OrganizationUnavailable) as caught:
        scan_organization(role_arn, EXTERNAL_ID, Settings(), regions=["us-east-1"])
    assert caught.value.customer_message.startswith(
        f"The organization's accounts could not be listed from account {MANAGEMENT}: ")
    assert "organizations:ListAccounts" in caught.value.customer_message
    # No member was tried: without the list there is nothing to scan safely.
    assert {c["params"]["RoleArn"].split(":")[4] for c in assume_role_calls(local_aws)} == {MANAGEMENT}


# -- the member role through a StackSet ---------------------------------------------------------------
def test_the_stackset_commands_put_the_role_in_every_member(local_aws, customer, tmp_path):
    """The StackSet commands as the README gives them, run in bash with the AWS CLI as the management
    account's administrator: every member gets finops-pack-readonly trusting the scanner with the
    review's External ID, and the scanner assumes each (safety probe included). Not checked here:
    the removal commands, because moto's DeleteStackInstances ignores --deployment-targets (what a
    service-managed StackSet is deleted by) and would leave the loop that waits for it waiting; and
    moto also deploys into the management account, which AWS never does (only members are checked)."""
    from finops import iam_policy
    from tests.test_iam_deploy import run_as_customer, scanner_can_assume

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert iam_policy.stackset_create_commands("EXTERNAL_ID", "SCANNER_PRINCIPAL_ARN") in readme
    assert iam_policy.stackset_remove_commands() in readme
    organization = seed_organization(customer, EXTERNAL_ID, members=(
        MemberSpec("Production", role=ROLE_NONE), MemberSpec("Staging", role=ROLE_NONE)))
    (tmp_path / iam_policy.TEMPLATE_FILE).write_text(iam_policy.template_path().read_text())
    listed = run_as_customer(iam_policy.stackset_create_commands(EXTERNAL_ID, seed.DEFAULT_SCANNER_PRINCIPAL),
                             tmp_path, customer, local_aws)
    for member in organization.members:
        assert f"{member.account_id}\tSUCCEEDED" in listed
        role_arn = f"arn:aws:iam::{member.account_id}:role/finops-pack-readonly"
        assert scanner_can_assume(role_arn, EXTERNAL_ID) == member.account_id


def test_members_start_once_listed_while_the_management_account_still_reads_cost_explorer(local_aws, customer):
    """``scan_organization`` (the CLI's --organization): Cost Explorer holds the management account's
    first request unanswered, and its members' scans start anyway, as soon as it has listed them; they
    finish once it has the cost data."""
    import threading
    import time

    from finops.organization import scan_organization

    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    org = seed_organization(customer, EXTERNAL_ID, members=(MemberSpec("Team", waste_gib=5),))
    (member,) = org.members
    local_aws.clear_requests()
    local_aws.set_faults([{"service": "ce", "hang": True}])
    outcome: dict = {}
    steps: list[str] = []
    runner = threading.Thread(target=lambda: outcome.update(result=scan_organization(
        role_arn, EXTERNAL_ID, Settings(), regions=REGIONS, on_step=steps.append)))
    runner.start()
    try:
        def member_scanning() -> bool:
            return any(c["params"]["RoleArn"].split(":")[4] == member.account_id
                       and c["params"]["RoleSessionName"] == "finops-pack-scan" for c in assume_role_calls(local_aws))

        def cost_explorer_held() -> bool:
            return any(r["service"] == "ce" and r.get("hung") for r in local_aws.requests())

        deadline = time.monotonic() + 30
        while not (member_scanning() and cost_explorer_held()):
            assert time.monotonic() < deadline and runner.is_alive(), steps
            time.sleep(0.05)
        assert runner.is_alive()  # the management account's scan cannot end while Cost Explorer holds it
    finally:
        local_aws.set_faults()
        runner.join(timeout=60)
    assert not runner.is_alive()
    result = outcome["result"]
    assert result.status == COMPLETE, [a.reason for a in result.accounts]
    assert {a.account_id: a.findings for a in result.accounts} == {MANAGEMENT: 0, member.account_id: 1}
