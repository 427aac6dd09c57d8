"""The wizard's commands, run with the real AWS CLI (`aws` from the awscli package) against the
local AWS, as the customer's administrator: the role is created, the scanner assumes it with the
External ID (and is refused without it), and the removal commands leave nothing behind.

moto's CloudFormation creates the role and attaches the inline policy; the front responder
enforces the trust policy on sts:AssumeRole from moto's IAM role, as AWS does cross-account.
"""

from __future__ import annotations

import ast
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from finops import iam_policy
from finops.aws.arn import parse_role_arn
from finops.aws.session import assume_customer_role
from finops.errors import AssumeRoleError
from finops.sandbox import seed
from tests.helpers import start_review

AWS_CLI = shutil.which("aws")

pytestmark = pytest.mark.slow


def code_block(page: str, element_id: str) -> str:
    match = re.search(rf'<code id="{element_id}">(.*?)</code>', page, re.S)
    assert match, f"no #{element_id} on the page"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))  # its textContent, what Copy copies


def href(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}" href="([^"]+)"', page)
    assert match, f"no link #{element_id} on the page"
    return html.unescape(match.group(1))


def run_as_customer(commands: str, cwd: Path, customer, local_aws) -> str:  # type: ignore[no-untyped-def]
    """Run the commands exactly as shown, in bash, with the customer admin's keys and the local AWS."""
    assert AWS_CLI, "the aws CLI (PyPI awscli) is not installed: pip install -e '.[test]'"
    env = {**os.environ, **local_aws.env(), **customer.env()}
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{commands}\n--- stderr:\n{done.stderr}"
    return done.stdout


def inline_policy(customer, name: str) -> dict:  # type: ignore[no-untyped-def]
    document = customer.session().client("iam").get_role_policy(RoleName="finops-pack-readonly",
                                                                PolicyName=name)["PolicyDocument"]
    if isinstance(document, dict):
        return document
    try:
        return json.loads(document)
    except ValueError:
        # moto quirk: a policy attached by its CloudFormation is stored as a dict and returned as
        # the dict's Python repr (real IAM returns the JSON document).
        return ast.literal_eval(document)


def role_gone(customer) -> bool:  # type: ignore[no-untyped-def]
    iam = customer.session().client("iam")
    try:
        iam.get_role(RoleName="finops-pack-readonly")
    except iam.exceptions.NoSuchEntityException:
        return True
    return False


def scanner_can_assume(role_arn: str, external_id: str) -> str:
    session = assume_customer_role(parse_role_arn(role_arn), external_id)  # safety probe included
    return session.client("sts").get_caller_identity()["Account"]


def test_cloudformation_path_with_the_wizards_exact_commands(client, local_aws, customer, tmp_path):
    token = start_review(client)
    page = client.get(f"/reviews/{token}").get_data(as_text=True)
    external_id = re.search(r'<code id="external-id" class="big">([^<]+)</code>', page).group(1)

    # The customer downloads the template from the wizard's link...
    download = client.get(href(page, "download-template"))
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    (tmp_path / "finops-pack-readonly.yaml").write_bytes(download.data)
    assert download.data == (iam_policy.IAM_DIR / "finops-pack-readonly.yaml").read_bytes()

    # ...and runs the three commands as shown: create, wait, print the RoleArn output.
    commands = code_block(page, "cfn-create-commands")
    assert commands.startswith(
        "aws cloudformation create-stack --stack-name finops-pack-readonly --template-body "
        "file://finops-pack-readonly.yaml --capabilities CAPABILITY_NAMED_IAM --parameters "
        f"ParameterKey=ExternalId,ParameterValue={external_id} "
        f"ParameterKey=ScannerPrincipalArn,ParameterValue={seed.DEFAULT_SCANNER_PRINCIPAL}\n"
    )
    output = run_as_customer(commands, tmp_path, customer, local_aws)
    role_arn = output.strip().splitlines()[-1]
    assert role_arn == "arn:aws:iam::222222222222:role/finops-pack-readonly"

    # The stack made the role the template describes, with our policy attached.
    assert inline_policy(customer, "finops-pack-readonly") == iam_policy.policy()
    trust = customer.session().client("iam").get_role(RoleName="finops-pack-readonly")["Role"]
    assert trust["AssumeRolePolicyDocument"] == iam_policy.trust_policy(seed.DEFAULT_SCANNER_PRINCIPAL, external_id)

    # The scanner gets in with the External ID (after proving it is refused without it)...
    assert scanner_can_assume(role_arn, external_id) == "222222222222"
    with pytest.raises(AssumeRoleError):
        scanner_can_assume(role_arn, "fp-some-other-review")
    external_ids = [r["params"].get("ExternalId") for r in local_aws.requests() if r["action"] == "AssumeRole"]
    assert external_ids[:3] == [None, external_ids[1], external_id] and external_ids[1].startswith("fp-wrong-")

    # ...and the security page's two removal commands, shown on the wizard, remove it.
    removal = code_block(page, "remove-cfn-commands")
    security_page = client.get("/security").get_data(as_text=True)
    assert removal == code_block(security_page, "remove-cfn-commands") == (
        "aws cloudformation delete-stack --stack-name finops-pack-readonly\n"
        "aws cloudformation wait stack-delete-complete --stack-name finops-pack-readonly"
    )
    run_as_customer(removal, tmp_path, customer, local_aws)
    assert role_gone(customer)
    with pytest.raises(AssumeRoleError):
        scanner_can_assume(role_arn, external_id)


def test_manual_path_with_the_wizards_exact_commands(client, local_aws, customer, tmp_path):
    token = start_review(client)
    page = client.get(f"/reviews/{token}").get_data(as_text=True)
    external_id = re.search(r'<code id="external-id" class="big">([^<]+)</code>', page).group(1)

    # The two files, saved under the names the commands read (downloaded, or pasted from the page).
    trust = client.get(href(page, "download-trust-policy"))
    assert trust.status_code == 200 and "finops-pack-trust-policy.json" in trust.headers["Content-Disposition"]
    assert json.loads(trust.data) == json.loads(code_block(page, "trust-policy")) == iam_policy.trust_policy(
        seed.DEFAULT_SCANNER_PRINCIPAL, external_id)
    (tmp_path / "finops-pack-trust-policy.json").write_bytes(trust.data)
    permissions = client.get(href(page, "download-policy"))
    assert permissions.data.decode() == code_block(page, "permissions-policy") == iam_policy.policy_text()
    (tmp_path / "finops-pack-readonly-policy.json").write_bytes(permissions.data)

    output = run_as_customer(code_block(page, "manual-create-commands"), tmp_path, customer, local_aws)
    role_arn = output.strip().splitlines()[-1]
    assert role_arn == "arn:aws:iam::222222222222:role/finops-pack-readonly"
    assert inline_policy(customer, "finops-pack-readonly") == iam_policy.policy()
    assert scanner_can_assume(role_arn, external_id) == "222222222222"

    run_as_customer(code_block(page, "remove-manual-commands"), tmp_path, customer, local_aws)
    assert role_gone(customer)


def test_strict_variant_with_the_wizards_exact_commands(client, local_aws, customer, tmp_path):
    """PolicyVariant=strict through CloudFormation (the template's Condition picks the strict
    document), then the manual path with the strict policy file: both give the strict policy."""
    token = start_review(client)
    page = client.get(f"/reviews/{token}?policy=strict").get_data(as_text=True)
    external_id = re.search(r'<code id="external-id" class="big">([^<]+)</code>', page).group(1)
    (tmp_path / "finops-pack-readonly.yaml").write_bytes(client.get(href(page, "download-template")).data)
    commands = code_block(page, "cfn-create-commands")
    assert "ParameterKey=PolicyVariant,ParameterValue=strict" in commands
    role_arn = run_as_customer(commands, tmp_path, customer, local_aws).strip().splitlines()[-1]
    assert inline_policy(customer, "finops-pack-readonly") == iam_policy.policy("strict")
    assert scanner_can_assume(role_arn, external_id) == "222222222222"
    run_as_customer(code_block(page, "remove-cfn-commands"), tmp_path, customer, local_aws)
    assert role_gone(customer)

    (tmp_path / "finops-pack-trust-policy.json").write_bytes(client.get(href(page, "download-trust-policy")).data)
    strict_policy = client.get(href(page, "download-policy"))
    assert strict_policy.data.decode() == code_block(page, "permissions-policy") == iam_policy.policy_text("strict")
    (tmp_path / "finops-pack-readonly-strict-policy.json").write_bytes(strict_policy.data)
    role_arn = run_as_customer(code_block(page, "manual-create-commands"), tmp_path, customer,
                               local_aws).strip().splitlines()[-1]
    assert inline_policy(customer, "finops-pack-readonly") == iam_policy.policy("strict")
    assert scanner_can_assume(role_arn, external_id) == "222222222222"
    run_as_customer(code_block(page, "remove-manual-commands"), tmp_path, customer, local_aws)
    assert role_gone(customer)
