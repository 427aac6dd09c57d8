"""Organization reviews in the wizard (issue 11): "Just this account" or "My whole organization",
the StackSet commands filled in for the review, their removal on Remove access, and Test connection
reaching every member account of an organization in the local AWS."""

from __future__ import annotations

import html
import json
import re
import time

import pytest

from finops import iam_policy, review_scope, reviews
from finops.aws.connection import check_organization_connection
from finops.db import connect
from finops.errors import InvalidInput, ReviewStateError
from finops.sandbox import seed
from finops.sandbox.demo_organization import offer_organization_review
from finops.sandbox.organization import MemberSpec, seed_organization
from tests.helpers import (
    app_settings,
    assume_role_calls,
    connect_form,
    csrf,
    review_id_of,
    run_quick_jobs,
    start_review,
)
from tests.test_browser import live_server, page, wizard_shot, worker  # noqa: F401 - fixtures
from tests.test_wizard import POLL_RE, code_block, external_id_of, visible_text


def stored_scope(client, token: str) -> str:  # type: ignore[no-untyped-def]
    db = connect(app_settings(client).db_path)
    return reviews.get_review(db, review_id_of(client, token))["scope"]


def choose(client, token: str, scope: str, query: str = "", htmx: bool = False):  # type: ignore[no-untyped-def]
    wizard = client.get(f"/reviews/{token}{query}").get_data(as_text=True)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/reviews/{token}/scope{query}", data={"csrf_token": csrf(wizard), "scope": scope},
                       headers=headers)


def checked_scope(wizard: str) -> list[str]:
    return re.findall(r'<input type="radio" name="scope" value="(\w+)" id="scope-\w+" checked>', wizard)


# -- the choice ----------------------------------------------------------------------------------
def test_a_new_review_covers_just_this_account_and_shows_no_stackset(client):
    token = start_review(client)
    wizard = client.get(f"/reviews/{token}").get_data(as_text=True)
    assert checked_scope(wizard) == ["account"] and stored_scope(client, token) == "account"
    assert 'id="scope-organization"' in wizard and "My whole organization" in visible_text(wizard)
    # The choice comes before the role is created, and is a real form (no script needed).
    assert wizard.index('id="step-scope"') < wizard.index('id="step-create-role"')
    assert re.search(r'<form method="post" action="/reviews/[\w-]+/scope" id="scope-form"', wizard)
    assert "create-stack-set" not in wizard and 'id="remove-stackset"' not in wizard
    ids = re.findall(r'\bid="([^"]+)"', wizard)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []  # two forms, each its own CSRF field id


def test_whole_organization_is_stored_and_shows_the_stackset_with_this_reviews_external_id(client):
    token = start_review(client)
    response = choose(client, token, "organization")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/reviews/{token}#step-scope")
    assert stored_scope(client, token) == "organization"

    wizard = client.get(f"/reviews/{token}").get_data(as_text=True)  # a reload keeps the choice
    external_id = external_id_of(wizard)
    assert checked_scope(wizard) == ["organization"]
    stackset = code_block(wizard, "stackset-create-commands")
    assert stackset == iam_policy.stackset_create_commands(external_id, seed.DEFAULT_SCANNER_PRINCIPAL)
    assert f"ParameterKey=ExternalId,ParameterValue={external_id} " in stackset
    assert "--permission-model SERVICE_MANAGED --auto-deployment Enabled=true" in stackset
    assert "aws cloudformation create-stack-instances --stack-set-name finops-pack-readonly" in stackset
    # The management account's own stack is still there, and the ARN to submit is the management account's.
    assert code_block(wizard, "cfn-create-commands").startswith("aws cloudformation create-stack ")
    text = visible_text(wizard)
    assert "The role ARN to connect below is the management account's" in text
    assert "Paste the management account's role ARN" in text
    # Remove access: the member roles (stack instances), then the StackSet, then the management account's stack.
    assert code_block(wizard, "remove-stackset-commands") == iam_policy.stackset_remove_commands()
    removal = code_block(wizard, "remove-stackset-commands").splitlines()
    assert removal[0].startswith("aws cloudformation delete-stack-instances --stack-set-name finops-pack-readonly")
    assert removal[-1] == "aws cloudformation delete-stack-set --stack-set-name finops-pack-readonly"
    assert code_block(wizard, "remove-cfn-commands") == iam_policy.cloudformation_remove_commands()

    assert choose(client, token, "account").status_code == 303  # and back
    wizard = client.get(f"/reviews/{token}").get_data(as_text=True)
    assert checked_scope(wizard) == ["account"] and "create-stack-set" not in wizard
    assert 'id="remove-stackset"' not in wizard


def test_the_stackset_follows_the_strict_policy_choice(client):
    token = start_review(client)
    response = choose(client, token, "organization", query="?policy=strict")
    assert response.headers["Location"].endswith(f"/reviews/{token}?policy=strict#step-scope")  # the choice stays
    wizard = client.get(f"/reviews/{token}?policy=strict").get_data(as_text=True)
    stackset = code_block(wizard, "stackset-create-commands")
    assert stackset == iam_policy.stackset_create_commands(external_id_of(wizard), seed.DEFAULT_SCANNER_PRINCIPAL,
                                                           "strict")
    assert "ParameterKey=PolicyVariant,ParameterValue=strict" in stackset.splitlines()[1]


def test_an_unknown_scope_is_refused_with_a_sentence(client):
    token = start_review(client)
    response = choose(client, token, "everything")
    assert response.status_code == 400
    assert review_scope.CHOOSE in visible_text(response.get_data(as_text=True))
    assert stored_scope(client, token) == "account"


def test_the_submitted_review_carries_its_scope_which_can_no_longer_change(client, settings):
    token = start_review(client)
    choose(client, token, "organization")
    role_arn = f"arn:aws:iam::{seed.CUSTOMER_ACCOUNT}:role/finops-pack-readonly"
    response = client.post(f"/reviews/{token}/scan", data=connect_form(client, token, role_arn=role_arn))
    assert response.status_code == 303
    db = connect(settings.db_path)
    review = reviews.get_review(db, review_id_of(client, token))
    assert (review["status"], review["scope"], review["role_arn"]) == ("queued", "organization", role_arn)

    wizard = client.get(f"/reviews/{token}").get_data(as_text=True)
    assert 'id="scope-form"' not in wizard  # nothing to choose once the scan is queued
    assert code_block(wizard, "remove-stackset-commands") == iam_policy.stackset_remove_commands()
    token_of_session = csrf(client.get(f"/reviews/{start_review(client)}").get_data(as_text=True))
    refused = client.post(f"/reviews/{token}/scope", data={"csrf_token": token_of_session, "scope": "account"})
    assert refused.status_code == 400 and "can no longer be changed" in visible_text(refused.get_data(as_text=True))
    assert reviews.get_review(db, review["id"])["scope"] == "organization"


def test_set_scope_validates_the_value_and_the_reviews_state(settings):
    db = connect(settings.db_path)
    review = reviews.create_review(db, settings)
    assert review_scope.set_scope(db, review["id"], "organization") == "organization"
    for bad in ("", "Organization", "org", None):
        with pytest.raises(InvalidInput):
            review_scope.set_scope(db, review["id"], bad)  # type: ignore[arg-type]
    for status, changeable in (("failed", True), ("queued", False), ("running", False), ("complete", False)):
        db.execute("update reviews set status = ?, scope = 'organization' where id = ?", [status, review["id"]])
        if changeable:
            review_scope.set_scope(db, review["id"], "account")
        else:
            with pytest.raises(ReviewStateError):
                review_scope.set_scope(db, review["id"], "account")
        assert reviews.get_review(db, review["id"])["scope"] == ("account" if changeable else "organization")


def test_the_choice_needs_the_forms_csrf_token(client):
    token = start_review(client)
    response = client.post(f"/reviews/{token}/scope", data={"scope": "organization"})
    assert response.status_code == 400 and stored_scope(client, token) == "account"


# -- Test connection for an organization ---------------------------------------------------------
def organization_connection_test(client, token: str, role_arn: str) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """Click "Test connection" on an organization review: (data-code, the sentence, the whole answer fragment)."""
    wizard = client.get(f"/reviews/{token}").get_data(as_text=True)
    data = {"csrf_token": csrf(wizard), "role_arn": role_arn, "external_id": external_id_of(wizard)}
    body = client.post(f"/reviews/{token}/test-connection", data=data, headers={"HX-Request": "true"}).get_data(
        as_text=True)
    poll = POLL_RE.search(body)
    assert poll, body  # queued: a worker runs the test, never the web tier
    run_quick_jobs(app_settings(client))
    body = client.get(html.unescape(poll.group(1)), headers={"HX-Request": "true"}).get_data(as_text=True)
    match = re.search(r'<p id="connection-message" class="connection-message result-(?:ok|bad)" '
                      r'data-code="([a-z_]+)">(.*?)</p>', body, re.S)
    assert match, body
    return match.group(1), html.unescape(match.group(2)), body


@pytest.fixture
def organization_review(client, local_aws, customer):  # type: ignore[no-untyped-def]
    """An organization review, its management role, and the local organization (6 members: 3 readable,
    one trusting another External ID, one without the role, one suspended)."""
    token = start_review(client)
    choose(client, token, "organization")
    external_id = external_id_of(client.get(f"/reviews/{token}").get_data(as_text=True))
    role_arn = seed.create_scanner_role(customer, external_id)
    org = seed_organization(customer, external_id)
    local_aws.clear_requests()  # seeding assumed OrganizationAccountAccessRole in every member
    return token, role_arn, external_id, org


def test_organization_connection_counts_reachable_members_and_names_each_unreachable_one(
        client, settings, local_aws, organization_review):
    token, role_arn, external_id, org = organization_review
    code, message, body = organization_connection_test(client, token, role_arn)

    assert code == "members_unreachable"
    assert message.startswith(f"Connected to management account {seed.CUSTOMER_ACCOUNT} of organization "
                              f"{org.organization_id}: 3 of 5 member accounts reachable.")
    assert "1 suspended or closing account is listed, not scanned." in message
    fragment = visible_text(body)
    assert "3 of 5 member account" in fragment
    for name in ("Sandbox", "Legacy"):  # AWS answers alike for both: the sentence names each possibility
        member = org.member(name)
        item = re.search(rf'<li data-account="{member.account_id}" data-status="unreachable">(.*?)</li>', body, re.S)
        assert item, body
        sentence = html.unescape(item.group(1))
        assert sentence.startswith(f"Account {member.account_id} ({name}): AWS refused")
        assert f"arn:aws:iam::{member.account_id}:role/finops-pack-readonly" in sentence
        assert "does not exist in this account" in sentence and "another External ID" in sentence
    closed = org.member("Closed")
    assert re.search(rf'<li data-account="{closed.account_id}" data-status="not_scanned">Account '
                     rf'{closed.account_id} \(Closed\) is suspended \(closed in AWS Organizations\), so it was not '
                     r"scanned\.</li>", body)
    # The hostile member name is shown as text, never as markup.
    hostile = org.member("Data *lake* | <b>team</b>")
    assert "<b>team</b>" not in body and "Data *lake* | &lt;b&gt;team&lt;/b&gt;" in body
    assert f'data-account="{hostile.account_id}" data-status="reachable"' in body

    # Each active member's role was tried with this review's External ID (after its safety probe); the
    # suspended one was not tried.
    tried = {(c["params"]["RoleArn"].split(":")[4], c["params"].get("ExternalId"), c["status"])
             for c in assume_role_calls(local_aws) if c["params"]["RoleSessionName"] == "finops-pack-scan"}
    for member in org.members:
        if member.name == "Closed":
            assert not any(account == member.account_id for account, _, _ in tried)
        else:
            status = 200 if member.role == "readonly" else 403
            assert (member.account_id, external_id, status) in tried

    # The per-member outcome is stored with the test, as JSON.
    db = connect(settings.db_path)
    stored = json.loads(next(db.query("select details from connection_checks where review_id = ?",
                                      [review_id_of(client, token)]))["details"])
    assert (stored["organization_id"], stored["reachable"], stored["active"]) == (org.organization_id, 3, 5)
    assert {m["account_id"]: m["status"] for m in stored["members"]} == {
        m.account_id: {"readonly": "reachable", "suspended": "not_scanned"}.get(m.role, "unreachable")
        for m in org.members}


def test_organization_connection_with_every_member_reachable_is_ok(client, local_aws, customer):
    token = start_review(client)
    choose(client, token, "organization")
    external_id = external_id_of(client.get(f"/reviews/{token}").get_data(as_text=True))
    role_arn = seed.create_scanner_role(customer, external_id)
    seed_organization(customer, external_id, members=(MemberSpec("Production"), MemberSpec("Staging")))
    code, message, body = organization_connection_test(client, token, role_arn)
    assert code == "connected" and 'result-ok' in body
    assert message == (f"Connected to management account {seed.CUSTOMER_ACCOUNT} of organization "
                       f"{message.split('organization ')[1].split(':')[0]}: 2 of 2 member accounts reachable.")
    assert 'id="members-not-reachable"' not in body


def test_organization_connection_says_when_the_account_is_not_the_management_account(
        client, organization_review):
    token, _role_arn, _external_id, org = organization_review
    production = org.member("Production")
    member_role = f"arn:aws:iam::{production.account_id}:role/finops-pack-readonly"
    code, message, body = organization_connection_test(client, token, member_role)
    assert code == "organization_unavailable" and "result-bad" in body
    assert message == (f"Account {production.account_id} is a member of organization {org.organization_id}, not its "
                       f"management account ({seed.CUSTOMER_ACCOUNT}). An organization review starts from the "
                       "management account's role: create the role there and give its ARN.")


def test_organization_connection_says_when_the_account_is_in_no_organization(client, local_aws, customer):
    token = start_review(client)
    choose(client, token, "organization")
    role_arn = seed.create_scanner_role(customer, external_id_of(client.get(f"/reviews/{token}").get_data(
        as_text=True)))
    code, message, _body = organization_connection_test(client, token, role_arn)
    assert code == "organization_unavailable"
    assert message.startswith(f"Connected to account {seed.CUSTOMER_ACCOUNT}, but it is not in an AWS organization")
    assert 'Choose "Just this account" above' in message


# -- in Chromium: the choice by keyboard, swapped in place by htmx, kept on reload ----------------------
@pytest.mark.browser
def test_customer_chooses_the_whole_organization_by_keyboard_and_tests_every_member(
        app, live_server, worker, page, local_aws, customer):  # noqa: F811 - the browser fixtures
    token = start_review(app.test_client())
    page.goto(f"{live_server}/reviews/{token}")
    external_id = page.inner_text("#external-id").strip()
    assert page.is_checked("#scope-account") and page.locator("#stackset-create-commands").count() == 0

    page.focus("#scope-account")
    page.keyboard.press("ArrowDown")  # a radio group: the arrow key moves the choice, and htmx posts it
    page.wait_for_selector("#stackset-create-commands")
    assert page.url.endswith(f"/reviews/{token}")  # swapped in place, no navigation
    assert page.text_content("#stackset-create-commands") == iam_policy.stackset_create_commands(
        external_id, seed.DEFAULT_SCANNER_PRINCIPAL)
    assert "My whole organization" in page.inner_text("#scope-chosen")
    assert page.text_content("#remove-stackset-commands") == iam_policy.stackset_remove_commands()
    assert "management account's" in page.inner_text("#connect-intro")
    wizard_shot(page, "09-what-to-review", "#step-scope")
    wizard_shot(page, "10-organization-stackset", "#step-create-role")

    page.reload()
    assert page.is_checked("#scope-organization") and page.locator("#stackset-create-commands").count() == 1

    role_arn = seed.create_scanner_role(customer, external_id)
    org = seed_organization(customer, external_id)
    page.fill("#role_arn", role_arn)
    page.click("#test-connection")
    page.wait_for_selector("#members-reachable", timeout=60_000)
    assert page.inner_text("#members-reachable") == "3 of 5 member accounts reachable."
    listed = page.inner_text("#members-not-reachable")
    for name in ("Sandbox", "Legacy", "Closed"):
        assert f"Account {org.member(name).account_id} ({name})" in listed
    page.click("#members-ok summary")
    assert "(Data *lake* | <b>team</b>)" in page.inner_text("#members-ok")  # the name as text, not markup
    wizard_shot(page, "11-organization-connection", "#step-connect")


# -- the demo's organization review --------------------------------------------------------------------
def test_the_demo_offers_an_organization_review_whose_connection_names_the_missing_member(
        client, settings, local_aws, customer):
    offer = offer_organization_review(connect(settings.db_path), settings, customer)
    token = offer.invitation.rsplit("/", 1)[1]
    assert offer.review["scope"] == "organization" and offer.review["status"] == "draft"
    assert offer.role_arn == f"arn:aws:iam::{seed.CUSTOMER_ACCOUNT}:role/finops-pack-demo-org-readonly"
    printed = offer.announcement()
    assert offer.invitation in printed and offer.role_arn in printed
    assert offer.organization.organization_id in printed

    wizard = client.get(f"/reviews/{token}").get_data(as_text=True)
    assert checked_scope(wizard) == ["organization"]
    assert f"ParameterValue={offer.review['external_id']} " in code_block(wizard, "stackset-create-commands")

    local_aws.clear_requests()
    code, message, body = organization_connection_test(client, token, offer.role_arn)
    assert code == "members_unreachable" and ": 2 of 3 member accounts reachable." in message
    legacy, closed = offer.organization.member("Legacy"), offer.organization.member("Closed")
    assert f'data-account="{legacy.account_id}" data-status="unreachable">Account {legacy.account_id} (Legacy): ' \
           "AWS refused" in body
    assert f'data-account="{closed.account_id}" data-status="not_scanned"' in body
    assert "Data *lake* | &lt;b&gt;team&lt;/b&gt;" in body and "<b>team</b>" not in body


def test_a_single_account_review_tests_only_its_own_account(client, settings, local_aws, organization_review):
    token, role_arn, _external_id, org = organization_review
    choose(client, token, "account")  # the same management role, reviewed alone
    code, message, body = organization_connection_test(client, token, role_arn)
    assert (code, message) == ("connected", f"Connected to account {seed.CUSTOMER_ACCOUNT}: the role accepts this "
                                            "review's External ID and refuses any other value or none.")
    assert 'id="connection-members"' not in body
    assert not any(c["params"]["RoleArn"].split(":")[4] in {m.account_id for m in org.members}
                   for c in assume_role_calls(local_aws))
    db = connect(settings.db_path)
    assert [r["details"] for r in db.query("select details from connection_checks")] == [None]


def test_members_not_answered_within_the_budget_are_named_as_not_checked(organization_review, local_aws):
    _token, role_arn, external_id, org = organization_review
    # Every call takes 300 ms: no member's AssumeRole can answer within a budget of 0 (without it, a
    # member of the local AWS sometimes answered before the budget was looked at).
    local_aws.set_faults(latency_ms=300)
    started = time.monotonic()
    try:
        result, organization = check_organization_connection(role_arn, external_id, review_external_id=external_id,
                                                             members_budget=0)
    finally:
        local_aws.set_faults()
    assert time.monotonic() - started < 10  # the management account's calls only: no member is waited for
    assert result.code == "members_unreachable" and ": 0 of 5 member accounts reachable." in result.message
    assert organization is not None
    statuses = {m.account_id: m.status for m in organization.members}
    assert statuses == {m.account_id: "not_scanned" if m.role == "suspended" else "not_checked" for m in org.members}
    production = next(m for m in organization.members if m.name == "Production")
    assert production.reason == (f"Account {production.account_id} (Production): AWS did not answer in time, so this "
                                 "account's role was not checked. Test the connection again.")
