"""Organization reviews in the wizard (issue 11): "Just this account" or "My whole organization",
the StackSet commands filled in for the review, their removal on Remove access, and Test connection
reaching every member account of an organization in the local AWS."""

from __future__ import annotations

import re

import pytest

from finops import iam_policy, review_scope, reviews
from finops.db import connect
from finops.errors import InvalidInput, ReviewStateError
from finops.sandbox import seed
from tests.helpers import app_settings, connect_form, csrf, review_id_of, start_review
from tests.test_wizard import code_block, external_id_of, visible_text


def stored_scope(client, token: str) -> str:  # type: ignore[no-untyped-def]
    db = connect(app_settings(client).db_path)
    return reviews.get_review(db, review_id_of(client, token))["scope"]


def choose(client, token: str, scope: str, query: str = "", htmx: bool = False):  # type: ignore[no-untyped-def]
    page = client.get(f"/reviews/{token}{query}").get_data(as_text=True)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/reviews/{token}/scope{query}", data={"csrf_token": csrf(page), "scope": scope},
                       headers=headers)


def checked_scope(page: str) -> list[str]:
    return re.findall(r'<input type="radio" name="scope" value="(\w+)" id="scope-\w+" checked>', page)


# -- the choice ----------------------------------------------------------------------------------
def test_a_new_review_covers_just_this_account_and_shows_no_stackset(client):
    token = start_review(client)
    page = client.get(f"/reviews/{token}").get_data(as_text=True)
    assert checked_scope(page) == ["account"] and stored_scope(client, token) == "account"
    assert 'id="scope-organization"' in page and "My whole organization" in visible_text(page)
    # The choice comes before the role is created, and is a real form (no script needed).
    assert page.index('id="step-scope"') < page.index('id="step-create-role"')
    assert re.search(r'<form method="post" action="/reviews/[\w-]+/scope" id="scope-form"', page)
    assert "create-stack-set" not in page and 'id="remove-stackset"' not in page


def test_whole_organization_is_stored_and_shows_the_stackset_with_this_reviews_external_id(client):
    token = start_review(client)
    response = choose(client, token, "organization")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/reviews/{token}#step-scope")
    assert stored_scope(client, token) == "organization"

    page = client.get(f"/reviews/{token}").get_data(as_text=True)  # a reload keeps the choice
    external_id = external_id_of(page)
    assert checked_scope(page) == ["organization"]
    stackset = code_block(page, "stackset-create-commands")
    assert stackset == iam_policy.stackset_create_commands(external_id, seed.DEFAULT_SCANNER_PRINCIPAL)
    assert f"ParameterKey=ExternalId,ParameterValue={external_id} " in stackset
    assert "--permission-model SERVICE_MANAGED --auto-deployment Enabled=true" in stackset
    assert "aws cloudformation create-stack-instances --stack-set-name finops-pack-readonly" in stackset
    # The management account's own stack is still there, and the ARN to submit is the management account's.
    assert code_block(page, "cfn-create-commands").startswith("aws cloudformation create-stack ")
    text = visible_text(page)
    assert "The role ARN to connect below is the management account's" in text
    assert "Paste the management account's role ARN" in text
    # Remove access: the member roles (stack instances), then the StackSet, then the management account's stack.
    assert code_block(page, "remove-stackset-commands") == iam_policy.stackset_remove_commands()
    removal = code_block(page, "remove-stackset-commands").splitlines()
    assert removal[0].startswith("aws cloudformation delete-stack-instances --stack-set-name finops-pack-readonly")
    assert removal[-1] == "aws cloudformation delete-stack-set --stack-set-name finops-pack-readonly"
    assert code_block(page, "remove-cfn-commands") == iam_policy.cloudformation_remove_commands()

    assert choose(client, token, "account").status_code == 303  # and back
    page = client.get(f"/reviews/{token}").get_data(as_text=True)
    assert checked_scope(page) == ["account"] and "create-stack-set" not in page
    assert 'id="remove-stackset"' not in page


def test_the_stackset_follows_the_strict_policy_choice(client):
    token = start_review(client)
    response = choose(client, token, "organization", query="?policy=strict")
    assert response.headers["Location"].endswith(f"/reviews/{token}?policy=strict#step-scope")  # the choice stays
    page = client.get(f"/reviews/{token}?policy=strict").get_data(as_text=True)
    stackset = code_block(page, "stackset-create-commands")
    assert stackset == iam_policy.stackset_create_commands(external_id_of(page), seed.DEFAULT_SCANNER_PRINCIPAL,
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

    page = client.get(f"/reviews/{token}").get_data(as_text=True)
    assert 'id="scope-form"' not in page  # nothing to choose once the scan is queued
    assert code_block(page, "remove-stackset-commands") == iam_policy.stackset_remove_commands()
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
