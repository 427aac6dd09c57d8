"""The customer wizard: the security page's promises, the role setup filled in for one review,
and "Test connection" answering each outcome in one sentence through the scanner's real path."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace

import pytest

from finops import iam_policy
from finops.sandbox import seed
from finops.web import create_app
from tests.helpers import assume_role_calls, csrf, run_quick_jobs, start_review

# The public security page (reference/security-model-page.txt), line by line: each is a promise the
# app must show. "{}" (the policy placeholder) is checked separately against iam/.
SECURITY_PAGE_LINES = [
    "FP FinOps Pack",
    "Security model",
    "Read-only AWS access, designed for fast review and easy removal.",
    "FinOps Pack cannot modify, stop, start, delete, deploy, or reconfigure AWS resources. It only reads "
    "billing, inventory, and optimization metadata required to generate the review.",
    "Your AWS Account read-only role FinOps Pack Scanner AWS Savings Review",
    "Allowed",
    "Read billing, inventory, and optimization metadata.",
    "Not allowed",
    "Modify, delete, deploy, stop, start, or access application data.",
    "What FinOps Pack can read",
    "AWS account and organization inventory metadata when permitted",
    "EC2, EBS, RDS, ECS, Lambda, S3, and NAT inventory metadata where applicable",
    "Cost Explorer spend baseline",
    "Resource-level Cost Explorer data if enabled and permitted",
    "Cost Optimization Hub recommendation data",
    "What FinOps Pack cannot do",
    "Cannot modify infrastructure",
    "Cannot stop, start, or delete resources",
    "Cannot deploy resources",
    "Cannot access application data or AWS passwords",
    "Cannot log into the AWS console or create long-term access keys",
    "External ID",
    "Why the External ID exists",
    "External ID is AWS's confused-deputy safeguard for cross-account roles. FinOps Pack generates one "
    "value per review. The value in your trust policy and the value submitted in the review form must "
    "match exactly.",
    "Remove access",
    "Delete access whenever you want.",
    "If you used CloudFormation, delete the finops-pack-readonly stack. If you created the role manually,"
    " delete the IAM role and attached policy.",
    "aws cloudformation delete-stack --stack-name finops-pack-readonly",
    "aws cloudformation wait stack-delete-complete --stack-name finops-pack-readonly",
    "Default permissions",
    "Exact read-only permissions used by the default policy",
    "Data handling",
    "Report artifacts may contain account IDs, resource IDs, regions, recommendations, and contact information.",
    "Hosted reports are retained for the configured number of days, default 7.",
    "Anyone with the hosted report link can access it until expiration or deletion.",
    "Request deletion by replying to a report email or booking a savings triage call.",
    "Unsupported regions",
    "GovCloud and China are not included in public v1.",
    "The public review flow covers commercial AWS regions. GovCloud and China need a separate deployment "
    "and trust model.",
    "Next step",
    "Ready to review your AWS account?",
]


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def code_block(page: str, element_id: str) -> str:
    match = re.search(rf'<code id="{element_id}">(.*?)</code>', page, re.S)
    assert match, f"no #{element_id}"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))  # its textContent, what Copy copies


def external_id_of(page: str) -> str:
    return re.search(r'<code id="external-id" class="big">([^<]+)</code>', page).group(1)


def client_with(settings, **changes):  # type: ignore[no-untyped-def]
    app = create_app(replace(settings, **changes))
    app.config.update(TESTING=True)
    return app.test_client()


# -- security page -------------------------------------------------------------------------------
def test_security_page_shows_every_line_of_the_security_model(client):
    text = visible_text(client.get("/security").get_data(as_text=True))
    missing = [line for line in SECURITY_PAGE_LINES if " ".join(line.split()) not in text]
    assert missing == []


def test_security_page_check_can_fail():
    assert "Cannot modify infrastructure" not in visible_text("<p>Cannot modify <b>infra</b>structure</p>x")


def test_security_page_shows_the_exact_default_policy_from_iam(client):
    page = client.get("/security").get_data(as_text=True)
    shown = code_block(page, "default-policy")
    assert shown == iam_policy.policy_text() == (iam_policy.IAM_DIR / "finops-pack-readonly-policy.json").read_text()
    assert json.loads(shown)["Statement"], "a real policy, never a placeholder"
    assert "{}" not in visible_text(page)
    download = client.get("/iam/finops-pack-readonly-policy.json")
    assert download.data.decode() == iam_policy.policy_text()


def test_security_page_states_the_configured_retention(settings):
    page = client_with(settings, retention_days=3).get("/security").get_data(as_text=True)
    assert "This deployment keeps them for 3 days." in visible_text(page)


def test_security_page_offers_both_removal_paths_and_says_reviews_start_from_an_invitation(client):
    page = client.get("/security").get_data(as_text=True)
    assert code_block(page, "remove-manual-commands") == (
        "aws iam delete-role-policy --role-name finops-pack-readonly --policy-name finops-pack-readonly\n"
        "aws iam delete-role --role-name finops-pack-readonly"
    )
    assert 'id="start-review"' not in page  # FINOPS_PUBLIC_SIGNUP is off by default
    assert "Reviews start from an invitation" in visible_text(page)
    refused = client.post("/reviews", data={"csrf_token": csrf(client.get("/sign-in").get_data(as_text=True))})
    assert refused.status_code == 403 and b"start from an invitation" in refused.data


def test_public_signup_keeps_the_start_button_and_opens_the_wizard(settings):
    client = client_with(settings, public_signup=True)
    page = client.get("/security").get_data(as_text=True)
    response = client.post("/reviews", data={"csrf_token": csrf(page)})  # "Start a review" from this page
    assert response.status_code == 303 and "/reviews/" in response.headers["Location"]
    wizard = client.get(response.headers["Location"])
    assert wizard.status_code == 200 and 'id="external-id"' in wizard.get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert 'id="start-review"' in home and 'href="/security"' in home


def test_home_sends_visitors_to_the_security_model(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/security")


# -- the role setup, filled in for this review ---------------------------------------------------
def test_review_page_fills_in_both_paths_with_this_reviews_values(client):
    review_id = start_review(client)
    page = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    external_id = external_id_of(page)
    assert 'data-copy="#external-id"' in page

    cfn = code_block(page, "cfn-create-commands").splitlines()
    assert cfn[0].startswith("aws cloudformation create-stack --stack-name finops-pack-readonly ")
    assert "--capabilities CAPABILITY_NAMED_IAM --parameters" in cfn[0]
    assert f"ParameterKey=ExternalId,ParameterValue={external_id} " in cfn[0]
    assert cfn[0].endswith(f"ParameterKey=ScannerPrincipalArn,ParameterValue={seed.DEFAULT_SCANNER_PRINCIPAL}")
    assert cfn[1] == "aws cloudformation wait stack-create-complete --stack-name finops-pack-readonly"
    assert cfn[2].startswith("aws cloudformation describe-stacks --stack-name finops-pack-readonly --query")

    trust = json.loads(code_block(page, "trust-policy"))
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": external_id}}
    assert trust["Statement"][0]["Principal"] == {"AWS": seed.DEFAULT_SCANNER_PRINCIPAL}
    assert code_block(page, "permissions-policy") == iam_policy.policy_text()
    manual = code_block(page, "manual-create-commands")
    assert "aws iam create-role --role-name finops-pack-readonly" in manual
    assert "aws iam put-role-policy --role-name finops-pack-readonly --policy-name finops-pack-readonly" in manual
    assert code_block(page, "remove-cfn-commands") == iam_policy.cloudformation_remove_commands()
    assert code_block(page, "remove-manual-commands") == iam_policy.manual_remove_commands()
    assert 'id="quick-create"' not in page  # no FINOPS_TEMPLATE_URL configured


def test_quick_create_link_appears_for_an_https_s3_template_url(settings):
    url = "https://finops-templates.s3.amazonaws.com/finops-pack-readonly.yaml"
    client = client_with(settings, template_url=url)
    page = client.get(f"/reviews/{start_review(client)}").get_data(as_text=True)
    link = html.unescape(re.search(r'id="quick-create" href="([^"]+)"', page).group(1))
    assert link == iam_policy.quick_create_url(url, external_id_of(page), seed.DEFAULT_SCANNER_PRINCIPAL)
    assert "param_ExternalId=" + external_id_of(page) in link

    not_s3 = client_with(settings, template_url="https://example.com/finops-pack-readonly.yaml")
    assert 'id="quick-create"' not in not_s3.get(f"/reviews/{start_review(not_s3)}").get_data(as_text=True)


@pytest.mark.parametrize("principal", [None, "arn:aws-cn:iam::123456789012:root"])
def test_missing_scanner_principal_shows_an_operator_notice_not_a_broken_command(settings, principal):
    client = client_with(settings, scanner_principal_arn=principal)
    review_id = start_review(client)
    page = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert 'id="principal-missing"' in page
    assert "FINOPS_SCANNER_PRINCIPAL_ARN" in visible_text(page)
    assert "create-stack" not in page and "ParameterValue=None" not in page and 'id="trust-policy"' not in page
    assert external_id_of(page) and 'id="step-connect"' in page  # the rest of the wizard still works
    response = client.get(f"/reviews/{review_id}/finops-pack-trust-policy.json")
    assert response.status_code == 400 and b"no scanner principal configured" in response.data


def test_security_page_says_which_reads_can_return_secrets_and_offers_the_strict_policy(client):
    page = client.get("/security").get_data(as_text=True)
    section = visible_text(re.search(r'<section class="card" id="secret-bearing-reads">(.*?)</section>', page,
                                     re.S).group(1))
    named = set(re.findall(r"<code>([a-z0-9-]+:[A-Za-z]+)</code>", page.split('id="secret-bearing-reads"')[1]
                           .split("</ul>")[0]))
    assert named == set(iam_policy.SECRET_BEARING_READS) == {"lambda:ListFunctions", "ecs:DescribeTaskDefinition"}
    assert "environment variables" in iam_policy.SECRET_BEARING_READS["lambda:ListFunctions"]
    assert "drops environment variables in memory as each answer arrives, before anything is stored" in section
    assert "AWS's own advice is not to keep secrets in environment variables" in section
    assert "PolicyVariant=strict" in section
    assert "Lambda and ECS then come from Cost Optimization Hub and Cost Explorer only" in section
    strict = client.get("/iam/finops-pack-readonly-strict-policy.json")
    assert strict.status_code == 200 and strict.data.decode() == iam_policy.policy_text("strict")
    assert "finops-pack-readonly-strict-policy.json" in strict.headers["Content-Disposition"]


def test_review_page_offers_the_strict_policy_and_every_command_follows_the_choice(settings):
    url = "https://finops-templates.s3.amazonaws.com/finops-pack-readonly.yaml"
    client = client_with(settings, template_url=url)
    review_id = start_review(client)
    standard = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert "Standard (chosen)" in visible_text(standard) and 'id="policy-strict"' in standard
    assert "PolicyVariant" not in code_block(standard, "cfn-create-commands")  # the template's default
    assert code_block(standard, "permissions-policy") == iam_policy.policy_text()

    strict = client.get(f"/reviews/{review_id}?policy=strict").get_data(as_text=True)
    external_id = external_id_of(strict)
    assert "Strict (chosen)" in visible_text(strict)
    cfn = code_block(strict, "cfn-create-commands").splitlines()[0]
    assert cfn.endswith(f"ParameterKey=ScannerPrincipalArn,ParameterValue={seed.DEFAULT_SCANNER_PRINCIPAL} "
                        "ParameterKey=PolicyVariant,ParameterValue=strict")
    assert code_block(strict, "permissions-policy") == iam_policy.policy_text("strict")
    assert "--policy-document file://finops-pack-readonly-strict-policy.json" in code_block(
        strict, "manual-create-commands")
    assert re.search(r'id="download-policy" href="/iam/finops-pack-readonly-strict-policy.json"', strict)
    link = html.unescape(re.search(r'id="quick-create" href="([^"]+)"', strict).group(1))
    assert link == iam_policy.quick_create_url(url, external_id, seed.DEFAULT_SCANNER_PRINCIPAL, "strict")
    assert "param_PolicyVariant=strict" in link
    explained = visible_text(strict.split('id="policy-variant"')[1].split("</div>")[0])
    for action in iam_policy.SECRET_BEARING_READS:  # the choice is explained where it is made
        assert action in explained
    assert "drops environment variables in memory, before anything is stored" in explained
    assert "AWS's own advice is to keep secrets in Secrets Manager or Parameter Store" in explained
    # Anything else is the standard policy.
    assert code_block(client.get(f"/reviews/{review_id}?policy=bogus").get_data(as_text=True),
                      "permissions-policy") == iam_policy.policy_text()


def test_template_download_is_the_committed_template(client):
    response = client.get("/iam/finops-pack-readonly.yaml")
    assert response.status_code == 200
    assert response.data == iam_policy.template_path().read_bytes()
    assert 'filename=finops-pack-readonly.yaml' in response.headers["Content-Disposition"]


# -- Test connection ---------------------------------------------------------------------------
POLL_RE = re.compile(r'<div id="connection-check"[^>]*hx-get="([^"]+)"[^>]*hx-trigger="every 700ms"')


def connection_test(client, review_id: str, **overrides: str):  # type: ignore[no-untyped-def]
    """Click "Test connection": the web tier queues the test; a worker runs it; the fragment polls the answer."""
    page = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    data = {"csrf_token": csrf(page), "role_arn": "", "external_id": external_id_of(page), **overrides}
    response = client.post(f"/reviews/{review_id}/test-connection", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body  # a fragment, swapped into the page
    poll = POLL_RE.search(body)
    if poll:  # queued: the web tier made no AWS call; a worker assumes the role
        run_quick_jobs(client.application.extensions["finops.settings"])
        response = client.get(html.unescape(poll.group(1)), headers={"HX-Request": "true"})
        assert response.status_code == 200
        body = response.get_data(as_text=True)
    match = re.search(r'<p id="connection-message" class="connection-message result-(ok|bad)" '
                      r'data-code="([a-z_]+)">(.*?)</p>', body, re.S)
    assert match, body
    return match.group(1) == "ok", match.group(2), html.unescape(match.group(3))


def review_with_page(client):  # type: ignore[no-untyped-def]
    review_id = start_review(client)
    return review_id, external_id_of(client.get(f"/reviews/{review_id}").get_data(as_text=True))


def test_connection_connected_runs_the_scanners_path_with_the_safety_probe(client, local_aws, customer):
    review_id, external_id = review_with_page(client)
    role_arn = seed.create_scanner_role(customer, external_id)
    local_aws.clear_requests()
    ok, code, message = connection_test(client, review_id, role_arn=role_arn)
    assert (ok, code) == (True, "connected")
    assert message == ("Connected to account 222222222222: the role accepts this review's External ID and "
                       "refuses any other value or none.")
    calls = assume_role_calls(local_aws)
    assert [(c["params"]["RoleSessionName"], c["status"]) for c in calls] == [
        ("finops-pack-safety-probe", 403), ("finops-pack-safety-probe", 403), ("finops-pack-scan", 200)]
    assert "ExternalId" not in calls[0]["params"] and calls[1]["params"]["ExternalId"] != external_id
    assert calls[2]["params"]["ExternalId"] == external_id
    assert [r["action"] for r in local_aws.requests()][-1] == "GetCallerIdentity"


def test_connection_credentials_never_reach_the_browser_or_the_database(client, settings, local_aws, customer):
    review_id, external_id = review_with_page(client)
    role_arn = seed.create_scanner_role(customer, external_id)
    page = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    queued = client.post(f"/reviews/{review_id}/test-connection", headers={"HX-Request": "true"},
                         data={"csrf_token": csrf(page), "role_arn": role_arn, "external_id": external_id})
    poll = html.unescape(POLL_RE.search(queued.get_data(as_text=True)).group(1))
    run_quick_jobs(settings)
    answer = client.get(poll, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Connected to account 222222222222" in answer
    issued = [c["issued"] for c in assume_role_calls(local_aws) if c.get("issued")]
    database = settings.db_path.read_bytes() + settings.db_path.with_name("finops.db-wal").read_bytes()
    for creds in issued:
        for value in creds.values():
            assert value not in queued.get_data(as_text=True) + answer
            assert value.encode() not in database


def test_connection_test_runs_on_a_worker_never_in_the_web_tier(client, settings, local_aws, customer):
    """The internet-facing web tier holds no AWS identity: it queues the test and polls for its sentence."""
    review_id, external_id = review_with_page(client)
    role_arn = seed.create_scanner_role(customer, external_id)
    local_aws.clear_requests()
    page = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    queued = client.post(f"/reviews/{review_id}/test-connection", headers={"HX-Request": "true"},
                         data={"csrf_token": csrf(page), "role_arn": role_arn, "external_id": external_id})
    body = queued.get_data(as_text=True)
    assert "Testing the connection" in body and local_aws.requests() == []  # nothing sent yet
    from finops.queue import quick_queue

    jobs = quick_queue(settings).jobs
    assert [(j.func_name, j.timeout) for j in jobs] == [("jobs.connection.run_connection_check", 90)]
    assert len(jobs[0].args) == 1 and role_arn not in repr(jobs[0].args)  # an id, nothing else (JSON: a list)
    poll = html.unescape(POLL_RE.search(body).group(1))
    still = client.get(poll, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="every 700ms"' in still  # polling until a worker answers
    run_quick_jobs(settings)
    done = client.get(poll, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "result-ok" in done and "hx-trigger" not in done  # the answer stops the poll
    assert [r["action"] for r in local_aws.requests()][-1] == "GetCallerIdentity"


def test_connection_test_and_scan_are_refused_on_a_finished_review(client, settings, local_aws):
    from finops.db import connect
    from tests.helpers import review_id_of

    token, external_id = review_with_page(client)
    page = client.get(f"/reviews/{token}").get_data(as_text=True)  # the form, as the customer had it open
    connect(settings.db_path).execute("update reviews set status = 'complete' where id = ?",
                                      [review_id_of(client, token)])
    local_aws.clear_requests()
    data = {"csrf_token": csrf(page), "role_arn": "arn:aws:iam::222222222222:role/finops-pack-readonly",
            "external_id": external_id, "contact_name": "Dana", "contact_email": "dana@example.com"}
    answer = client.post(f"/reviews/{token}/test-connection", data=data, headers={"HX-Request": "true"})
    assert 'data-code="review_state">This review has already finished.' in answer.get_data(as_text=True)
    scan = client.post(f"/reviews/{token}/scan", data=data)
    assert scan.status_code == 400 and "This review has already finished" in scan.get_data(as_text=True)
    assert local_aws.requests() == []


def test_connection_external_id_mismatch_is_said_plainly_before_any_call(client, local_aws, customer):
    review_id, external_id = review_with_page(client)
    role_arn = seed.create_scanner_role(customer, external_id)
    local_aws.clear_requests()
    ok, code, message = connection_test(client, review_id, role_arn=role_arn, external_id=external_id + "x")
    assert (ok, code) == (False, "external_id_mismatch")
    assert message.startswith("The External ID does not match this review's.")
    assert assume_role_calls(local_aws) == []


@pytest.mark.parametrize("make_role", ["missing", "other-principal", "other-external-id"])
def test_connection_role_not_found_or_not_trusting_the_scanner(client, local_aws, customer, make_role):
    review_id, external_id = review_with_page(client)
    role_arn = "arn:aws:iam::222222222222:role/finops-pack-readonly"
    if make_role == "other-principal":
        seed.create_role(customer, iam_policy.trust_policy("arn:aws:iam::999999999999:root", external_id))
    elif make_role == "other-external-id":
        seed.create_scanner_role(customer, "fp-another-reviews-id")
    ok, code, message = connection_test(client, review_id, role_arn=role_arn)
    assert (ok, code) == (False, "assume_role_denied")
    assert message.startswith("Role not found, or it does not trust the FinOps Pack scanner with this review's "
                              "External ID")
    assert seed.DEFAULT_SCANNER_PRINCIPAL in message


@pytest.mark.parametrize("condition", [None, {"StringLike": {"sts:ExternalId": "*"}}])
def test_connection_role_unsafe(client, local_aws, customer, condition):
    """Assumable without the External ID (no condition) or with a wrong one (a wildcard)."""
    review_id, external_id = review_with_page(client)
    policy = iam_policy.trust_policy(seed.DEFAULT_SCANNER_PRINCIPAL, external_id)
    if condition is None:
        del policy["Statement"][0]["Condition"]
    else:
        policy["Statement"][0]["Condition"] = condition
    role_arn = seed.create_role(customer, policy)
    local_aws.clear_requests()
    ok, code, message = connection_test(client, review_id, role_arn=role_arn)
    assert (ok, code) == (False, "role_unsafe")
    assert message.startswith("Role unsafe: it can be assumed without the External ID or with a wrong one.")
    assert [c["params"]["RoleSessionName"] for c in assume_role_calls(local_aws)] == \
        ["finops-pack-safety-probe"] * (1 if condition is None else 2)  # stopped at the probe that got in


@pytest.mark.parametrize("role_arn, code, start", [
    ("arn:aws-cn:iam::222222222222:role/finops-pack-readonly", "unsupported_partition",
     "GovCloud and China are not included in public v1"),
    ("arn:aws-us-gov:iam::222222222222:role/finops-pack-readonly", "unsupported_partition",
     "GovCloud and China are not included in public v1"),
    ("arn:aws:iam::222222222222:user/admin", "invalid_role_arn", "That is an IAM user ARN, not a role ARN."),
    ("finops-pack-readonly", "invalid_role_arn", "That is not an IAM role ARN."),
    ("", "invalid_input", "Paste the role ARN first."),
])
def test_connection_refuses_bad_arns_before_any_call(client, local_aws, role_arn, code, start):
    review_id, _ = review_with_page(client)
    local_aws.clear_requests()
    ok, got_code, message = connection_test(client, review_id, role_arn=role_arn)
    assert (ok, got_code) == (False, code) and message.startswith(start)
    assert local_aws.requests() == []


def test_connection_needs_the_forms_csrf_token(client, local_aws):
    review_id, external_id = review_with_page(client)
    response = client.post(f"/reviews/{review_id}/test-connection", headers={"HX-Request": "true"},
                           data={"role_arn": "arn:aws:iam::222222222222:role/x", "external_id": external_id})
    assert response.status_code == 400
    assert local_aws.requests() == []


def test_connection_escapes_what_the_customer_typed(client, local_aws):
    review_id, external_id = review_with_page(client)
    page = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    hostile = {"csrf_token": csrf(page), "role_arn": "x", "external_id": "<img src=x onerror=alert(1)>"}
    response = client.post(f"/reviews/{review_id}/test-connection", headers={"HX-Request": "true"}, data=hostile)
    assert "<img" not in response.get_data(as_text=True)
