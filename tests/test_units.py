"""Pure pieces, no services: settings, ARNs, External IDs, prices, checks, registries, escaping."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from finops.aws.arn import EXTERNAL_ID_RE, new_external_id, parse_role_arn
from finops.aws.guard import READ_OPERATIONS
from finops.checks import Inventory
from finops.checks import discover as discover_checks
from finops.collect import discover as discover_collectors
from finops.config import Settings
from finops.errors import ConfigError, InvalidRoleArn, UnsupportedPartition
from finops.models import InventoryItem
from finops.pricing import default_price_book
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
])
def test_invalid_role_arns_get_a_sentence(arn, error, sentence):
    with pytest.raises(error) as caught:
        parse_role_arn(arn)
    assert sentence in caught.value.customer_message


def test_external_ids_are_valid_for_aws_and_unique():
    ids = {new_external_id() for _ in range(500)}
    assert len(ids) == 500
    assert all(EXTERNAL_ID_RE.match(i) and 2 <= len(i) <= 1224 for i in ids)


def _volume(region: str, **data) -> InventoryItem:
    fields = {"state": "available", "attachments": [], "volume_type": "gp2", "size_gib": 100, **data}
    return InventoryItem("ec2.volumes", "ec2:volume", "111122223333", region, "vol-1", "arn:vol-1", fields)


@pytest.mark.parametrize("region, data, expected, confidence", [
    ("us-east-1", {"volume_type": "gp2", "size_gib": 100}, "10.00", "high"),  # 100 x $0.10
    ("eu-west-1", {"volume_type": "gp2", "size_gib": 100}, "11.00", "high"),  # regional price
    ("sa-east-1", {"volume_type": "gp3", "size_gib": 10}, "1.52", "high"),
    ("us-east-1", {"volume_type": "gp3", "size_gib": 40, "iops": 4000, "throughput": 130}, "8.40", "high"),
    ("us-east-1", {"volume_type": "io1", "size_gib": 30, "iops": 300}, "23.25", "high"),
    ("af-south-1", {"volume_type": "gp2", "size_gib": 10}, "1.00", "medium"),  # not in table: estimate
    ("us-east-1", {"state": "in-use", "attachments": [{"instance_id": "i-1"}]}, None, None),
])
def test_unattached_volume_pricing(region, data, expected, confidence):
    spec = discover_checks()["ec2_ebs_volume_unattached"]
    findings = list(spec.fn(Inventory([_volume(region, **data)]), default_price_book()))
    if expected is None:
        assert findings == []
        return
    (finding,) = findings
    assert finding.monthly_savings.quantize(Decimal("0.01")) == Decimal(expected)
    assert finding.confidence == confidence
    line = finding.evidence["lines"][0]
    assert line["price_region"] == region and line["price_date"] == "2026-11-01"


@pytest.mark.parametrize("data, flagged", [
    ({"public_ip": "198.51.100.1"}, True),
    ({"public_ip": "198.51.100.2", "association_id": "eipassoc-1", "instance_id": "i-1"}, False),
    ({"public_ip": "198.51.100.3", "network_interface_id": "eni-1"}, False),
])
def test_unassociated_eip(data, flagged):
    item = InventoryItem("ec2.addresses", "ec2:elastic-ip", "111122223333", "eu-west-1", "eipalloc-1", "arn", data)
    findings = list(discover_checks()["ec2_eip_unassociated"].fn(Inventory([item]), default_price_book()))
    assert bool(findings) is flagged
    if flagged:
        assert findings[0].monthly_savings == Decimal("3.650")  # $0.005 x 730 h


def test_check_registry_matches_files_and_names():
    checks = discover_checks()
    on_disk = {p.stem for p in (ROOT / "finops" / "checks").glob("*.py") if not p.stem.startswith("_")}
    assert set(checks) == on_disk
    for check_id, spec in checks.items():
        assert spec.module == f"finops.checks.{check_id}" and spec.fn.__name__ == check_id
        assert set(spec.needs) <= set(discover_collectors()), check_id


def test_collector_registry_matches_files_and_guard():
    collectors = discover_collectors()
    on_disk = {p.stem for p in (ROOT / "finops" / "collect").glob("*.py")} - {"__init__", "runner"}
    assert {spec.module.rsplit(".", 1)[-1] for spec in collectors.values()} == on_disk
    for spec in collectors.values():
        for operation in spec.operations:
            assert operation in READ_OPERATIONS[spec.service], f"{spec.id}: {operation} not on the allow-list"


@pytest.mark.parametrize("raw, shown", [
    ("<script>alert(1)</script>", "\\<script\\>alert\\(1\\)\\</script\\>"),
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
