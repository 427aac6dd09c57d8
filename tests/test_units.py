"""Pure pieces, no services: settings, ARNs, External IDs, prices, checks, registries, escaping."""

from __future__ import annotations

from pathlib import Path

import pytest

from finops.aws.arn import EXTERNAL_ID_RE, new_external_id, parse_role_arn
from finops.aws.guard import READ_OPERATIONS
from finops.checks import discover as discover_checks
from finops.collect import discover as discover_collectors
from finops.config import Settings
from finops.errors import ConfigError, InvalidRoleArn, UnsupportedPartition
from finops.report import md_escape

ROOT = Path(__file__).resolve().parents[1]


def test_settings_defaults():
    s = Settings.from_env({})
    assert s.retention_days == 7
    assert s.redis_url is None
    assert s.db_path == Path("var/finops.db")
    assert s.base_url == "http://127.0.0.1:8000"
    assert s.heartbeat_timeout <= 60  # a killed worker is reported within a minute


@pytest.mark.parametrize("env", [{"FINOPS_RETENTION_DAYS": "seven"}, {"FINOPS_RETENTION_DAYS": "0"},
                                 {"FINOPS_PORT": "-1"}])
def test_settings_reject_bad_values_naming_the_variable(env):
    with pytest.raises(ConfigError, match=next(iter(env))):
        Settings.from_env(env)


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::123456789012:role/finops-pack-readonly",
    "arn:aws:iam::123456789012:role/path/to/finops-pack-readonly",
    "  arn:aws:iam::123456789012:role/finops-pack-readonly\n",
])
def test_valid_role_arns(arn):
    assert parse_role_arn(arn).account_id == "123456789012"


@pytest.mark.parametrize("arn, error, sentence", [
    ("arn:aws-us-gov:iam::123456789012:role/x", UnsupportedPartition, "GovCloud and China"),
    ("arn:aws-cn:iam::123456789012:role/x", UnsupportedPartition, "separate deployment and trust model"),
    ("arn:aws:iam::123456789012:user/alice", InvalidRoleArn, "IAM user ARN, not a role ARN"),
    ("arn:aws:iam::12345678901:role/x", InvalidRoleArn, "not an IAM role ARN"),
    ("arn:aws:s3:::my-bucket", InvalidRoleArn, "not an IAM role ARN"),
    ("finops-pack-readonly", InvalidRoleArn, "not an IAM role ARN"),
    ("", InvalidRoleArn, "not an IAM role ARN"),
    ("arn:aws:iam::123456789012:role/<script>", InvalidRoleArn, "not an IAM role ARN"),
    # ASCII only: Arabic-Indic digits, Cyrillic letters, a newline inside (\d, \w and $ would take them)
    ("arn:aws:iam::\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662:role/x", InvalidRoleArn,
     "not an IAM role ARN"),
    ("arn:aws:iam::123456789012:role/\u0440\u043e\u043b\u044c", InvalidRoleArn, "not an IAM role ARN"),
    ("arn:aws:iam::123456789012:role/x\ny", InvalidRoleArn, "not an IAM role ARN"),
])
def test_invalid_role_arns_get_a_sentence(arn, error, sentence):
    with pytest.raises(error) as caught:
        parse_role_arn(arn)
    assert sentence in caught.value.customer_message


@pytest.mark.parametrize("value, valid", [
    ("fp-abc_DEF+=,.@:/-1", True), ("a", False), ("x" * 1225, False), ("fp-\u0661\u0662", False),
    ("fp-\u0436", False), ("fp-abc\n", False), ("fp abc", False),
])
def test_external_id_format_is_awss_ascii_set(value, valid):
    from finops.aws.arn import is_valid_external_id

    assert is_valid_external_id(value) is valid


def test_scanner_principal_is_checked_ascii_and_whole():
    from finops.iam_policy import is_valid_scanner_principal

    assert is_valid_scanner_principal("arn:aws:iam::123456789012:role/finops-scanner")
    assert not is_valid_scanner_principal("arn:aws:iam::123456789012:role/finops-scanner\n")
    assert not is_valid_scanner_principal("arn:aws:iam::123456789012:role/\u0441\u043a\u0430\u043d")


def test_external_ids_are_valid_for_aws_and_unique():
    ids = {new_external_id() for _ in range(500)}
    assert len(ids) == 500
    assert all(EXTERNAL_ID_RE.fullmatch(i) and 2 <= len(i) <= 1224 for i in ids)


def test_check_registry_matches_files_and_names():
    from finops.checks import MACHINERY
    from finops.models import SOURCE_TITLES

    checks = discover_checks()
    on_disk = {p.stem for p in (ROOT / "finops" / "checks").glob("*.py") if not p.stem.startswith("_")} - MACHINERY
    assert set(checks) == on_disk
    for check_id, spec in checks.items():
        assert spec.module == f"finops.checks.{check_id}" and spec.fn.__name__ == check_id
        assert set(spec.needs) <= set(SOURCE_TITLES), check_id  # collectors or cost sources


def test_a_check_cannot_name_itself():
    from finops.checks import check

    with pytest.raises(TypeError):
        check(id="something_else", title="x", category="x", service="ec2", resource_type="x", action="Delete",
              needs=("ec2.volumes",))(lambda ctx: [])


def test_source_titles_match_the_collectors():
    from finops.models import SOURCE_TITLES

    for collector_id, spec in discover_collectors().items():
        assert SOURCE_TITLES.get(collector_id) == spec.title, collector_id


def test_importing_the_report_never_loads_botocore():
    import subprocess
    import sys

    code = ("import sys, finops.report, finops.web; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('botocore', 'boto3')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout


def test_collector_registry_matches_files_and_guard():
    collectors = discover_collectors()
    on_disk = {p.stem for p in (ROOT / "finops" / "collect").glob("*.py")} - {"__init__", "runner"}
    assert {spec.module.rsplit(".", 1)[-1] for spec in collectors.values()} == on_disk
    for spec in collectors.values():
        for operation in spec.operations:
            assert operation in READ_OPERATIONS[spec.service], f"{spec.id}: {operation} not on the allow-list"


@pytest.mark.parametrize("raw, shown", [
    ("<script>alert(1)</script>", "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"),
    ("a & b", "a &amp; b"),
    ("line\u2028break", "line break"),
    ("[click](http://evil)", "\\[click\\]\\(http://evil\\)"),
    ("a|b\nc", "a\\|b c"),
])
def test_markdown_escape(raw, shown):
    assert md_escape(raw) == shown


def test_read_allow_list_is_real_read_operations():
    import botocore.session

    session = botocore.session.get_session()
    for service, operations in READ_OPERATIONS.items():
        model = session.get_service_model(service)
        for operation in operations:
            assert operation in model.operation_names, f"{service}:{operation} is not a real operation"
            assert operation.startswith(("Describe", "List", "Get")), f"{service}:{operation} is not a read"


@pytest.mark.parametrize("value", [
    "2026-11-28T06:58:56.281Z", "2026-11-28T06:58:56Z", "2026-11-28T06:58:56.000+00:00", "2026-11-28T08:58:56+02:00",
    1732780000, "1732780000", "Tue, 28 Nov 2026 06:58:56 GMT", "2026-11-28",
])
def test_fast_timestamp_parser_agrees_with_botocores(value):
    from botocore.utils import parse_timestamp

    from finops.aws.session import parse_aws_timestamp

    ours, botocores = parse_aws_timestamp(value), parse_timestamp(value)
    assert ours == botocores
    assert (ours.utcoffset() is None) == (botocores.utcoffset() is None)


def test_scan_clients_look_for_a_proxy_only_when_the_environment_names_one(monkeypatch):
    """No proxy variable: the config says "no proxy" and botocore walks no environment per client.
    One: botocore's own lookup for each endpoint, NO_PROXY included, exactly as without FinOps Pack."""
    from botocore.credentials import Credentials

    from finops.aws.guard import guarded_session
    from finops.aws.session import client_config

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    session = guarded_session(READ_OPERATIONS, credentials=Credentials("AKIAEXAMPLEEXAMPLE00", "s", "t"),
                              region_name="us-east-1")

    def proxies(region: str) -> dict:
        client = session.client("ec2", region_name=region, config=client_config(), endpoint_url=None)
        return client._endpoint.http_session._proxy_config._proxies

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # the real endpoint names, for NO_PROXY to match
    assert client_config().proxies == {} and proxies("eu-west-1") == {}
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("NO_PROXY", "ec2.eu-west-1.amazonaws.com")
    assert client_config().proxies is None
    assert proxies("eu-central-1")["https"] == "http://127.0.0.1:3128"
    assert proxies("eu-west-1") == {}  # NO_PROXY: botocore bypasses the proxy for that endpoint
