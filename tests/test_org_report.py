"""The hosted report of an organization review (issue 11): an organization in the local AWS scanned
with ``scan_organization``, each account stored in one review with ``store_account`` exactly as the
store step does, then read through the app: the per-account table, the accounts that could not be
read (named with the reason), findings filtered by account (with and without JavaScript, in
Chromium), the exports, and the removal of the member roles.

The organization is ``finops.sandbox.organization``'s: three readable members (one named with
Markdown and HTML), one whose role trusts another External ID, one without the role, one suspended.
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from html import unescape

import pytest

from finops import iam_policy, reviews
from finops.db import connect
from finops.money import display
from finops.organization import scan_organization, summarize
from finops.report import md_escape
from finops.sandbox import seed
from finops.sandbox.organization import DEFAULT_MEMBERS, MemberSpec, seed_member_waste, seed_organization
from tests.helpers import report_token_of
from tests.test_browser import ARTIFACTS, live_server, page  # noqa: F401 - the browser fixtures, reused
from tests.test_organization import (
    EXTERNAL_ID,
    MANAGEMENT,
    REGIONS,
    coh_recommendation,
    in_dollars,
    spend_by_linked_account,
)
from tests.test_workspace import operator, sign_in  # noqa: F401 - the operator fixture, reused

HOSTILE = "Data *lake* | <b>team</b>"  # DEFAULT_MEMBERS' name full of Markdown and HTML
FORMULA = '=HYPERLINK("https://evil.example","<i>open</i>")'  # a member named as a spreadsheet formula
EXTRA_VOLUMES = 11  # more unattached volumes in Production: its group then outgrows the page's preview
WORDS = {"readonly": "read", "wrong-external-id": "not read", "none": "not read", "suspended": "not scanned"}


@pytest.fixture
def org_review(settings, local_aws, customer):  # type: ignore[no-untyped-def]
    """A finished organization review, stored account by account: (review id, report token, org, waste by account)."""
    waste = {MANAGEMENT: in_dollars((seed_member_waste(customer, 100),))}
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    org = seed_organization(customer, EXTERNAL_ID, members=(*DEFAULT_MEMBERS, MemberSpec(FORMULA, waste_gib=5)))
    for member in org.readable():
        waste[member.account_id] = in_dollars(member.waste)
    production = org.member("Production")
    volume = production.admin.session("us-east-1").client("ec2").describe_volumes()["Volumes"][0]["VolumeId"]
    waste[production.account_id] += in_dollars([seed_member_waste(production.admin, 2) for _ in range(EXTRA_VOLUMES)])
    local_aws.load_fixtures({"CostOptimizationHubService.ListRecommendations": {"pages": [
        {"items": [coh_recommendation(production.account_id, volume)]}]}}, MANAGEMENT)
    local_aws.queue_cost_and_usage(MANAGEMENT, [spend_by_linked_account({MANAGEMENT: "40.00",
                                                                        production.account_id: "1234.50"})])
    db = connect(settings.db_path)
    review_id = reviews.create_review(db, settings.with_secret_key())["id"]
    db.execute("update reviews set scope = 'organization', organization_id = ?, status = 'running', attempt = 1, "
               "role_arn = ? where id = ?", [org.organization_id, role_arn, review_id])

    result = scan_organization(role_arn, EXTERNAL_ID, settings, regions=REGIONS)

    for scan in result.scans:  # as the store step does: one account at a time, failed ones without a scan
        row = reviews.account_row(summarize(scan), scan.role_arn)
        assert reviews.store_account(db, review_id, 1, row, scan.result, with_costs=scan.management)
    assert reviews.finish_review(db, review_id, 1, settings.retention_days) == "partial"
    return review_id, report_token_of(settings, review_id), org, waste


def rows_of(html: str, table_id: str) -> list[list[str]]:
    """A table's body rows as the text of their cells."""
    body = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S)
    assert body, f"no table #{table_id}"
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)]


def finding_accounts(html: str) -> list[str]:
    return re.findall(r'<tr class="finding[^"]*"[^>]*data-account="([^"]*)"', html)


def more_links(html: str) -> list[str]:
    return [unescape(link) for link in re.findall(r'<a class="button" href="[^"]*" hx-get="([^"]+)"', html)]


def expected_rows(org, report: dict, waste: dict) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """The per-account table as the customer must read it: the organization seeded, not the report's own rows."""
    management = next(a for a in report["accounts"] if a["management"])
    spend = {MANAGEMENT: "$40.00", org.member("Production").account_id: "$1,234.50"}
    rows = [[f"{MANAGEMENT} management", management["name"], "read", "$40.00", display(waste[MANAGEMENT]), "1"]]
    for member in sorted(org.members, key=lambda m: (m.name.lower(), m.account_id)):
        read = member.account_id in waste
        findings = (1 + EXTRA_VOLUMES) if member.name == "Production" else int(read)
        rows.append([member.account_id, member.name, WORDS[member.role], spend.get(member.account_id, "-"),
                     display(waste.get(member.account_id, Decimal(0))), str(findings)])
    return rows


def test_the_organization_report_names_every_account_and_filters_findings_by_account(client, org_review):
    review_id, token, org, waste = org_review
    path = f"/r/{token}"
    html = client.get(path).get_data(as_text=True)
    report = json.loads(client.get(f"{path}.json").get_data(as_text=True))
    production, staging = org.member("Production"), org.member("Staging")

    # The per-account table: every account of the organization, what it spends (Cost Explorer, by
    # linked account), what it can save, its findings and its reads.
    table = rows_of(html, "accounts-table")
    assert [row[:6] for row in table] == expected_rows(org, report, waste)
    for row in table:
        if row[2] == "read":
            reads_ok, reads = re.fullmatch(r"(\d+) of (\d+)", row[6]).groups()
            assert reads_ok == reads and int(reads) > 0
        else:
            assert row[6] == "-"
    # Totals: the organization's is the sum of every finding, and of every account's.
    total = sum((Decimal(f["monthly_savings"]) for f in report["findings"]), Decimal(0))
    assert Decimal(report["totals"]["monthly_savings"]) == total == sum(waste.values())
    assert total == sum(Decimal(a["monthly_savings"]) for a in report["accounts"])
    assert f'<strong id="organization-total">{display(total)}</strong>' in html
    assert f'<strong id="total-monthly">{display(total)}</strong>' in html
    for account in report["accounts"]:
        mine = [f for f in report["findings"] if f["account_id"] == account["account_id"]]
        assert Decimal(account["monthly_savings"]) == sum((Decimal(f["monthly_savings"]) for f in mine), Decimal(0))
        assert account["findings"] == len(mine)

    # Every account that could not be read is named, with the reason; the others are not listed.
    unread = re.search(r'<div class="alert" role="alert" id="accounts-unread">(.*?)</div>', html, re.S).group(1)
    listed = dict(re.findall(r'<li data-account="(\d+)"[^>]*>(.*?)</li>', unread, re.S))
    not_read = [m for m in org.members if m.account_id not in waste]
    assert set(listed) == {m.account_id for m in not_read}
    for member in not_read:
        reason = unescape(listed[member.account_id])
        assert reason.startswith(f"Account {member.account_id} ({member.name})")
        assert ("is suspended" in reason) if member.role == "suspended" else ("AWS refused" in reason)

    # The customer's account names stay text: escaped in HTML, JSON keeps them exactly.
    assert "<b>team</b>" not in html and "<i>open</i>" not in html
    assert "Data *lake* | &lt;b&gt;team&lt;/b&gt;" in html
    assert {a["name"] for a in report["accounts"]} >= {HOSTILE, FORMULA}

    # JSON: accounts[] as AccountSummary.as_dict (plus spend), and every finding carries its account.
    assert report["scope"] == "organization" and report["organization_id"] == org.organization_id
    assert report["account_id"] == MANAGEMENT
    assert {a["account_id"] for a in report["accounts"]} == {MANAGEMENT, *(m.account_id for m in org.members)}
    assert all(set(a) == {"account_id", "name", "state", "management", "status", "reason", "monthly_savings",
                          "commitment_monthly_savings", "findings", "coverage", "spend"} for a in report["accounts"])
    assert sorted(f["account_id"] for f in report["findings"]) == sorted(
        [MANAGEMENT, *(m.account_id for m in org.readable() for _ in range(1 + EXTRA_VOLUMES * (m == production)))])
    assert {c["account_id"] for c in report["coverage"]} == {MANAGEMENT, *(m.account_id for m in org.readable())}

    # The top actions say whose they are (Production's 120 GiB volume saves the most).
    top = re.search(r'<ol class="top-actions">(.*?)</ol>', html, re.S).group(1)
    assert f"account {production.account_id} (Production) · us-east-1" in unescape(re.sub(r"<[^>]+>", "", top))
    assert "What the organization spends" in html

    # Each finding on the page says its account; the account filter narrows them to one account.
    everything = finding_accounts(html)
    assert len(everything) == min(len(report["findings"]), 10) and len(set(everything)) > 1
    filtered = client.get(f"{path}?account={production.account_id}").get_data(as_text=True)
    assert finding_accounts(filtered) == [production.account_id] * 10
    assert f"Account {production.account_id} (Production)" in filtered
    assert re.search(rf'<option value="{production.account_id}" selected>', filtered)
    assert f"Usage savings in account {production.account_id} (Production): <strong>" \
           f"{display(waste[production.account_id])}</strong>" in filtered
    # "Show more" keeps the filter: the rest of Production's findings, and no other account's.
    (link,) = more_links(filtered)
    assert f"account={production.account_id}" in link
    rows = client.get(link, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert finding_accounts(rows) == [production.account_id] * (1 + EXTRA_VOLUMES - 10)
    # Unfiltered, the same group pages through every account's findings.
    (link,) = more_links(html)
    assert "account=" not in link
    rest = finding_accounts(client.get(link, headers={"HX-Request": "true"}).get_data(as_text=True))
    assert sorted(everything + rest) == sorted(f["account_id"] for f in report["findings"])
    staging_page = client.get(f"{path}?account={staging.account_id}").get_data(as_text=True)
    assert finding_accounts(staging_page) == [staging.account_id]
    assert "coh-rec" not in staging_page  # COH's recommendation is Production's, not Staging's
    # An account not in the organization filters nothing.
    assert finding_accounts(client.get(f"{path}?account=999999999999").get_data(as_text=True)) == everything

    # Cost Optimization Hub's recommendation sits in the account it belongs to, beside its finding.
    coh = rows_of(filtered, "coh-recommendations")
    assert [(row[1], row[-1]) for row in coh] == [(f"{production.account_id} (Production)",
                                                   "beside our own finding on the same resource")]
    (placed,) = report["cost_recommendations"]["items"]
    assert placed["account_id"] == production.account_id and placed["placement"] == "merged"

    # Remove access: the management account's stack, and the StackSet's member roles.
    code = re.search(r'<code id="remove-stackset-commands">(.*?)</code>', html, re.S).group(1)
    assert unescape(re.sub(r"<[^>]+>", "", code)) == iam_policy.stackset_remove_commands()
    assert 'id="remove-cfn-commands"' in html


def test_the_organization_exports_carry_each_account_escaped(client, org_review):
    _, token, org, waste = org_review
    hostile = org.member(HOSTILE)
    formula = org.member(FORMULA)
    report = json.loads(client.get(f"/r/{token}.json").get_data(as_text=True))

    markdown = client.get(f"/r/{token}.md").get_data(as_text=True)
    savings = md_escape(display(waste[hostile.account_id]))
    assert f"| {hostile.account_id} | {md_escape(HOSTILE)} | read | - | {savings} |" in markdown
    assert f"| {formula.account_id} | {md_escape(FORMULA)} | read |" in markdown
    assert "<b>team</b>" not in markdown and "*lake*" not in markdown and "<i>open</i>" not in markdown
    for finding in report["findings"]:  # the findings table has an account column
        assert re.search(rf"^\| [^|]+ \| {finding['account_id']} \| {re.escape(md_escape(finding['resource_id']))}",
                         markdown, re.M), finding["uid"]

    rows = list(csv.DictReader(io.StringIO(client.get(f"/r/{token}.csv").get_data(as_text=True))))
    assert sorted(r["account_id"] for r in rows) == sorted(f["account_id"] for f in report["findings"])
    names = {r["account_id"]: r["account_name"] for r in rows}
    assert names[hostile.account_id] == HOSTILE  # text, kept as it is
    assert names[formula.account_id] == "'" + FORMULA  # a spreadsheet shows it, never runs it
    total = sum((Decimal(r["monthly_savings"]) for r in rows), Decimal(0))
    assert total == Decimal(report["totals"]["monthly_savings"])


def test_the_operator_review_page_lists_the_accounts(client, settings, operator, org_review):  # noqa: F811
    review_id, _, org, waste = org_review
    sign_in(client)
    html = client.get(f"/dashboard/reviews/{review_id}").get_data(as_text=True)
    table = rows_of(html, "review-accounts")
    ids = [MANAGEMENT, *(m.account_id for m in sorted(org.members, key=lambda m: (m.name.lower(), m.account_id)))]
    assert [row[0].split()[0] for row in table] == ids
    by_id = {row[0].split()[0]: row for row in table}
    assert by_id[org.member(HOSTILE).account_id][1] == HOSTILE and "<b>team</b>" not in html
    for member in org.members:
        row = by_id[member.account_id]
        assert row[2].startswith(WORDS[member.role])
        assert row[3] == display(waste.get(member.account_id, Decimal(0)))
        if member.account_id not in waste:
            assert f"Account {member.account_id} ({member.name})" in row[2]
    # The operator's view of the report filters by account too, and its "Show more" keeps the filter.
    production = org.member("Production").account_id
    report = client.get(f"/dashboard/reviews/{review_id}/report?account={production}").get_data(as_text=True)
    assert finding_accounts(report) == [production] * 10
    (link,) = more_links(report)
    assert finding_accounts(client.get(link).get_data(as_text=True)) == [production] * (1 + EXTRA_VOLUMES - 10)


@pytest.mark.browser
def test_the_account_filter_in_chromium_with_and_without_javascript(org_review, live_server, page):  # noqa: F811
    from playwright.sync_api import expect

    _, token, org, _ = org_review
    production = org.member("Production").account_id
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_server}/r/{token}")
    # The hostile name is shown as text, and makes no element.
    assert page.locator("#accounts-table b, #accounts-table i").count() == 0
    assert page.locator("#accounts-table tr", has_text=HOSTILE).count() == 1
    assert page.locator("#accounts-table tr", has_text=FORMULA).count() == 1
    page.locator("#accounts").screenshot(path=str(ARTIFACTS / "organization-accounts.png"))
    everything = page.locator("tr.finding").count()
    assert len({page.locator("tr.finding").nth(i).get_attribute("data-account") for i in range(everything)}) > 1

    # With JavaScript: htmx swaps the findings in place (the page is not reloaded) and keeps the address.
    page.evaluate("window.stillHere = true")
    page.select_option("#account-select", production)
    page.wait_for_url(f"**account={production}**")
    expect(page.locator(f"tr.finding:not([data-account='{production}'])")).to_have_count(0)  # (the CSP forbids eval)
    expect(page.locator("tr.finding")).to_have_count(10)
    assert page.evaluate("window.stillHere === true")
    page.locator("tr.more-row a.button").first.click()
    expect(page.locator("tr.finding")).to_have_count(1 + EXTRA_VOLUMES)
    accounts = page.eval_on_selector_all("tr.finding", "rows => rows.map(r => r.dataset.account)")
    assert accounts == [production] * (1 + EXTRA_VOLUMES)
    assert page.locator("#coh-recommendations tr.coh-rec").count() == 1
    page.locator("#findings").screenshot(path=str(ARTIFACTS / "organization-findings-one-account.png"))
    page.reload()  # the pushed address opens the same filter
    assert page.locator("#account-select").input_value() == production
    assert page.locator("tr.finding").count() == 10

    # Without JavaScript: the same control is a plain form.
    context = page.context.browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    plain.goto(f"{live_server}/r/{token}")
    assert plain.locator("tr.finding").count() == everything
    plain.select_option("#account-select", org.member("Staging").account_id)
    plain.click("#account-apply")
    plain.wait_for_url(f"**account={org.member('Staging').account_id}**")
    assert plain.eval_on_selector_all("tr.finding", "rows => rows.map(r => r.dataset.account)") == [
        org.member("Staging").account_id]
    context.close()
    assert dialogs == []


def test_a_many_account_report_reads_each_table_once_and_pages_in_its_own_order(tmp_path):
    """30 accounts stored as the store step stores them (no AWS needed): the report reads each table
    once whatever the number of accounts, and "Show more" (per account or not) pages through each
    group in exactly the page's order, also where two savings differ below the cent."""
    import itertools
    import random
    from dataclasses import replace

    from finops.config import Settings
    from finops.models import Coverage, Finding, ScanResult
    from finops.organization import AccountScan, OrgAccount
    from finops.report import build_report, groups
    from finops.report.loader import group_findings

    settings = replace(Settings(), db_path=tmp_path / "finops.db", secret_key="k" * 32)
    db = connect(settings.db_path)
    review_id = reviews.create_review(db, settings)["id"]
    db.execute("update reviews set scope = 'organization', organization_id = 'o-many', status = 'running', "
               "attempt = 1 where id = ?", [review_id])
    rng = random.Random(11)
    ids = [f"{100000000000 + n * 7919}" for n in range(30)]
    serial = itertools.count()
    for n, account_id in enumerate(ids):
        findings = [
            Finding(check, "Idle thing", "ec2:volume", f"vol-{rng.randint(0, 40):03d}-{next(serial)}", "us-east-1",
                    account_id, None if micros is None else Decimal(micros) / 1_000_000, action=action,
                    category=category)
            for check, action, category in (("ec2_ebs_volume_unattached", "Delete", "Storage"),
                                            ("ec2_instance_stopped", "Stop", "Compute"))
            # savings that tie to the cent (1.001 and 1.004 both show 1.00) and unpriced ones
            for micros in rng.sample([1_001_000, 1_004_000, 995_000, 2_000_000, 7_250_000, None], rng.randint(0, 4))
        ]
        scan = AccountScan(OrgAccount(account_id, f"Team {n}", "ACTIVE"), f"arn:aws:iam::{account_id}:role/r",
                           management=n == 0,
                           result=ScanResult(account_id, ["us-east-1"], [Coverage("ec2.volumes", "us-east-1")], [],
                                             findings))
        assert reviews.store_account(db, review_id, 1, reviews.account_row(summarize(scan), scan.role_arn),
                                     scan.result, with_costs=scan.management)
    assert reviews.finish_review(db, review_id, 1) == "complete"
    review = reviews.get_review(db, review_id)

    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    model = build_report(db, review)
    db.conn.set_trace_callback(None)
    for table in ("findings", "coverage", "inventory", "cost_recommendations", "spend_monthly", "finding_notes"):
        assert sum(1 for s in statements if re.search(rf"\bfrom {table}\b", s)) == 1, table
    selects = [s for s in statements if s.lstrip().lower().startswith("select")]
    assert len(selects) < 20, selects  # not one round of queries per account

    by_name = sorted(ids[1:], key=lambda account_id: f"team {ids.index(account_id)}")  # "Team 10" < "Team 2"
    assert [a["account_id"] for a in model["accounts"]] == [ids[0], *by_name]  # management first, then by name
    assert len(model["findings"]) == sum(a["findings"] for a in model["accounts"]) > 30
    total = sum((Decimal(f["monthly_savings"]) for f in model["findings"] if f["monthly_savings"]), Decimal(0))
    assert Decimal(model["totals"]["monthly_savings"]) == total == sum(
        Decimal(a["monthly_savings"]) for a in model["accounts"])
    for group in groups(model["findings"]):
        rows, count = group_findings(db, review_id, group["category"], group["action"], 0, 10_000, organization=True)
        assert [f["uid"] for f in rows] == [f["uid"] for f in group["findings"]] and count == len(rows)
        for account_id in ids[:6]:
            rows, _ = group_findings(db, review_id, group["category"], group["action"], 0, 10_000,
                                     organization=True, account_id=account_id)
            assert [f["uid"] for f in rows] == [f["uid"] for f in group["findings"] if f["account_id"] == account_id]


def test_each_account_gets_the_spend_cost_explorer_gave_even_when_it_names_the_management_account_alone(
        client, settings, local_aws, customer):
    """Cost Explorer, by linked account, names only the management account (its members spend
    nothing yet): the per-account table still gives the management account its spend, and a member
    Cost Explorer did not name shows none ("-"), never a share of the total."""
    from finops.models import FAILED
    from finops.organization import AccountScan, OrgAccount
    from finops.scan import run_scan

    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    local_aws.queue_cost_and_usage(MANAGEMENT, [spend_by_linked_account({MANAGEMENT: "40.00"})])
    db = connect(settings.db_path)
    review_id = reviews.create_review(db, settings.with_secret_key())["id"]
    db.execute("update reviews set scope = 'organization', organization_id = 'o-alone', status = 'running', "
               "attempt = 1, role_arn = ? where id = ?", [role_arn, review_id])
    management = AccountScan(OrgAccount(MANAGEMENT, "Payer", "ACTIVE"), role_arn, management=True,
                             result=run_scan(role_arn, EXTERNAL_ID, settings, regions=REGIONS))
    member = AccountScan(OrgAccount("333333333333", "New team", "ACTIVE"), "arn:aws:iam::333333333333:role/r",
                         status=FAILED, reason="Account 333333333333 (New team): AWS refused.")
    for scan in (management, member):
        assert reviews.store_account(db, review_id, 1, reviews.account_row(summarize(scan), scan.role_arn),
                                     scan.result, with_costs=scan.management)
    assert reviews.finish_review(db, review_id, 1) == "partial"
    token = report_token_of(settings, review_id)
    report = json.loads(client.get(f"/r/{token}.json").get_data(as_text=True))
    assert {a["account_id"]: a["spend"] for a in report["accounts"]} == {MANAGEMENT: "40.00", "333333333333": None}
    table = rows_of(client.get(f"/r/{token}").get_data(as_text=True), "accounts-table")
    assert [row[3] for row in table] == ["$40.00", "-"]
