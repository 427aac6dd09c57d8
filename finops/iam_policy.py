"""The customer's side of the trust: the read-only policy in ``iam/`` and everything built from it.

``iam/finops-pack-readonly-policy.json`` is the one place the permissions are written. The
CloudFormation template (``iam/finops-pack-readonly.yaml``), the manual-setup commands, the
security page's "Default permissions" and the demo role are all generated from it here; a test
proves the committed template equals what this module generates. After editing the policy, run
``python -m finops.iam_policy`` to regenerate the template.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]  # the checkout: iam/ lives beside finops/
IAM_DIR = ROOT / "iam"

STACK_NAME = "finops-pack-readonly"  # the name customers use; the security page's commands name it
ROLE_NAME = "finops-pack-readonly"
POLICY_NAME = "finops-pack-readonly"
POLICY_FILE = "finops-pack-readonly-policy.json"
TEMPLATE_FILE = "finops-pack-readonly.yaml"
TRUST_POLICY_FILE = "trust-policy.json"
TRUST_POLICY_DOWNLOAD = "finops-pack-trust-policy.json"  # the name the manual commands read
PRINCIPAL_PLACEHOLDER = "<ScannerPrincipalArn>"
EXTERNAL_ID_PLACEHOLDER = "<ExternalId>"
MAX_SESSION_SECONDS = 3600  # the scanner asks for one hour; a longer session buys nothing

# AWS's own rules for the values the template accepts (sts AssumeRole externalIdType; IAM ARNs).
EXTERNAL_ID_PATTERN = r"[\w+=,.@:/-]*"
SCANNER_PRINCIPAL_PATTERN = r"^arn:aws:iam::[0-9]{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)$"
_PRINCIPAL_RE = re.compile(SCANNER_PRINCIPAL_PATTERN.strip("^$"), re.ASCII)  # used with fullmatch
# Virtual-hosted (bucket.s3[.region].amazonaws.com/key) or path-style (s3[.region].amazonaws.com/bucket/key).
_S3_HOST_RE = re.compile(r"^(?:[a-z0-9][a-z0-9.-]*\.)?s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$")

_TEMPLATE_HEADER = f"""\
# FinOps Pack read-only role ({STACK_NAME}).
#
# Creates one IAM role that the FinOps Pack scanner may assume only with this review's External ID.
# It can read billing, inventory and optimization metadata; it cannot modify, stop, start, delete
# or deploy anything, and an explicit Deny blocks the common application-data reads.
# Remove it at any time:
#   aws cloudformation delete-stack --stack-name {STACK_NAME}
#   aws cloudformation wait stack-delete-complete --stack-name {STACK_NAME}
#
# Generated from iam/{POLICY_FILE} by `python -m finops.iam_policy`: edit the policy, not this file.
"""


# -- the policy --------------------------------------------------------------------------------
def policy_text() -> str:
    """The policy file exactly as written (the security page shows these bytes)."""
    return (IAM_DIR / POLICY_FILE).read_text()


@cache
def _policy() -> dict:
    return json.loads(policy_text())


def policy() -> dict:
    return copy.deepcopy(_policy())


def _actions(effect: str) -> list[str]:
    found: list[str] = []
    for statement in _policy()["Statement"]:
        if statement["Effect"] == effect:
            actions = statement["Action"]
            found += [actions] if isinstance(actions, str) else actions
    return sorted(found)


def allowed_actions() -> list[str]:
    return _actions("Allow")


def denied_actions() -> list[str]:
    """The explicit Deny overlay (may contain wildcards such as ``s3:GetObject*``)."""
    return _actions("Deny")


def non_whitespace_length(document: dict) -> int:
    """IAM counts policy size without whitespace (inline role policies: 10,240 in total)."""
    return len("".join(json.dumps(document).split()))


# -- the trust policy --------------------------------------------------------------------------
def _fill(node: Any, values: dict[str, Any]) -> Any:
    """Replace placeholder strings structurally (no text substitution, so no JSON injection)."""
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(value, values) for value in node]
    return values.get(node, node) if isinstance(node, str) else node


def trust_policy_template() -> dict:
    return json.loads((IAM_DIR / TRUST_POLICY_FILE).read_text())


def trust_policy(scanner_principal_arn: str, external_id: str) -> dict:
    """The trust policy for one review: the scanner principal, with this review's External ID."""
    return _fill(trust_policy_template(), {
        PRINCIPAL_PLACEHOLDER: scanner_principal_arn, EXTERNAL_ID_PLACEHOLDER: external_id,
    })


def trust_policy_text(scanner_principal_arn: str, external_id: str) -> str:
    return json.dumps(trust_policy(scanner_principal_arn, external_id), indent=2) + "\n"


def is_valid_scanner_principal(value: str | None) -> bool:
    return bool(value and _PRINCIPAL_RE.fullmatch(value))


# -- the CloudFormation template ---------------------------------------------------------------
def cloudformation_document() -> dict:
    trust = _fill(trust_policy_template(), {
        PRINCIPAL_PLACEHOLDER: {"Ref": "ScannerPrincipalArn"}, EXTERNAL_ID_PLACEHOLDER: {"Ref": "ExternalId"},
    })
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            f"FinOps Pack read-only role ({ROLE_NAME}) for an AWS savings review: reads billing, inventory "
            "and optimization metadata only; no application data; assumable only with the review's External ID."
        ),
        "Metadata": {
            "AWS::CloudFormation::Interface": {
                "ParameterGroups": [{
                    "Label": {"default": "Values from your FinOps Pack review page"},
                    "Parameters": ["ExternalId", "ScannerPrincipalArn"],
                }],
                "ParameterLabels": {
                    "ExternalId": {"default": "External ID"},
                    "ScannerPrincipalArn": {"default": "FinOps Pack scanner principal"},
                },
            },
        },
        "Parameters": {
            "ExternalId": {
                "Type": "String",
                "Description": "This review's External ID, exactly as shown on the review page (not a secret).",
                "MinLength": 2,
                "MaxLength": 1224,
                "AllowedPattern": EXTERNAL_ID_PATTERN,
                "ConstraintDescription": "2 to 1224 characters: letters, digits and _ + = , . @ : / -",
            },
            "ScannerPrincipalArn": {
                "Type": "String",
                "Description": "The FinOps Pack scanner principal shown on the review page.",
                "AllowedPattern": SCANNER_PRINCIPAL_PATTERN,
                "ConstraintDescription": (
                    "an IAM role, user or account-root ARN in the commercial aws partition "
                    "(GovCloud and China are not included in public v1)"
                ),
            },
        },
        "Resources": {
            "ReadOnlyRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": ROLE_NAME,
                    "Description": "FinOps Pack savings review: read-only, no application data access",
                    "MaxSessionDuration": MAX_SESSION_SECONDS,
                    "AssumeRolePolicyDocument": trust,
                    "Policies": [{"PolicyName": POLICY_NAME, "PolicyDocument": policy()}],
                    "Tags": [{"Key": "finops-pack", "Value": "read-only"}],
                },
            },
        },
        "Outputs": {
            "RoleArn": {
                "Description": "Paste this into the FinOps Pack review form.",
                "Value": {"Fn::GetAtt": ["ReadOnlyRole", "Arn"]},
            },
        },
    }


def cloudformation_template() -> str:
    import yaml  # PyYAML comes with the test/dev tools; the running app serves the committed file

    body = yaml.safe_dump(cloudformation_document(), sort_keys=False, width=120, default_flow_style=False)
    return _TEMPLATE_HEADER + body


def template_path() -> Path:
    return IAM_DIR / TEMPLATE_FILE


# -- what the customer runs --------------------------------------------------------------------
def _shorthand(key: str, value: str) -> str:
    # The CLI's shorthand syntax splits on commas; a value holding one must be double-quoted.
    pair = f"ParameterKey={key},ParameterValue=" + (f'"{value}"' if "," in value else value)
    return shlex.quote(pair)


@dataclass(frozen=True)
class Commands:
    """Shell commands as the wizard shows them: one command per line, values pre-filled."""

    cloudformation_create: str
    manual_create: str
    cloudformation_remove: str
    manual_remove: str


def cloudformation_create_commands(external_id: str, scanner_principal_arn: str) -> str:
    return "\n".join([
        f"aws cloudformation create-stack --stack-name {STACK_NAME} --template-body file://{TEMPLATE_FILE} "
        f"--capabilities CAPABILITY_NAMED_IAM --parameters {_shorthand('ExternalId', external_id)} "
        f"{_shorthand('ScannerPrincipalArn', scanner_principal_arn)}",
        f"aws cloudformation wait stack-create-complete --stack-name {STACK_NAME}",
        f"aws cloudformation describe-stacks --stack-name {STACK_NAME} "
        "--query \"Stacks[0].Outputs[?OutputKey=='RoleArn'].OutputValue\" --output text",
    ])


def manual_create_commands() -> str:
    return "\n".join([
        f"aws iam create-role --role-name {ROLE_NAME} --max-session-duration {MAX_SESSION_SECONDS} "
        f"--assume-role-policy-document file://{TRUST_POLICY_DOWNLOAD}",
        f"aws iam put-role-policy --role-name {ROLE_NAME} --policy-name {POLICY_NAME} "
        f"--policy-document file://{POLICY_FILE}",
        f"aws iam get-role --role-name {ROLE_NAME} --query Role.Arn --output text",
    ])


def cloudformation_remove_commands() -> str:
    """Exactly the security page's two commands."""
    return "\n".join([
        f"aws cloudformation delete-stack --stack-name {STACK_NAME}",
        f"aws cloudformation wait stack-delete-complete --stack-name {STACK_NAME}",
    ])


def manual_remove_commands() -> str:
    return "\n".join([
        f"aws iam delete-role-policy --role-name {ROLE_NAME} --policy-name {POLICY_NAME}",
        f"aws iam delete-role --role-name {ROLE_NAME}",
    ])


def commands(external_id: str, scanner_principal_arn: str) -> Commands:
    return Commands(
        cloudformation_create=cloudformation_create_commands(external_id, scanner_principal_arn),
        manual_create=manual_create_commands(),
        cloudformation_remove=cloudformation_remove_commands(),
        manual_remove=manual_remove_commands(),
    )


def is_s3_https_url(url: str | None) -> bool:
    """CloudFormation only takes templates from https S3 URLs (not S3 websites, not GitHub)."""
    if not url:
        return False
    parts = urlsplit(url)
    host = parts.hostname or ""
    return (parts.scheme == "https" and bool(_S3_HOST_RE.match(host)) and "s3-website" not in host
            and len(parts.path) > 1 and len(url) <= 1024)


def quick_create_url(template_url: str | None, external_id: str, scanner_principal_arn: str) -> str | None:
    """The console's prefilled "quick create" page, or None when no usable template URL is configured."""
    if not is_s3_https_url(template_url):
        return None
    query = urlencode({
        "templateURL": template_url, "stackName": STACK_NAME,
        "param_ExternalId": external_id, "param_ScannerPrincipalArn": scanner_principal_arn,
    })
    return f"https://console.aws.amazon.com/cloudformation/home#/stacks/quickcreate?{query}"


def main(argv: list[str] | None = None) -> int:
    """Regenerate iam/finops-pack-readonly.yaml from the policy (``--check`` only compares)."""
    args = sys.argv[1:] if argv is None else argv
    current = template_path().read_text() if template_path().exists() else ""
    wanted = cloudformation_template()
    if "--check" in args:
        if current != wanted:
            print(f"{template_path()} is out of date: run python -m finops.iam_policy", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        template_path().write_text(wanted)
        print(f"wrote {template_path()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
