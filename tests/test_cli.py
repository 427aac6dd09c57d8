"""``finops-pack scan``: the same pipeline, synchronously, as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from finops.sandbox import seed

EXTERNAL_ID = "fp-cli-external-id"


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "finops.cli", *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_cli_scan_json(local_aws, customer, tmp_path):
    seed.seed_demo_waste(customer)
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    out = tmp_path / "report.json"
    result = run_cli("scan", "--role-arn", role_arn, "--external-id", EXTERNAL_ID,
                     "--regions", "us-east-1,eu-west-1", "--output", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["account_id"] == "222222222222"
    assert report["regions"] == ["eu-west-1", "us-east-1"]
    assert {c["status"] for c in report["coverage"]} == {"ok"}
    assert sorted((f["check_id"], f["region"], f["monthly_savings"]) for f in report["findings"]) == [
        ("ec2_ebs_volume_unattached", "eu-west-1", "17.60"),
        ("ec2_ebs_volume_unattached", "us-east-1", "10.00"),
        ("ec2_eip_unassociated", "us-east-1", "3.65"),
    ]
    assert all(f["resource_id"] for f in report["findings"])
    assert report["totals"]["monthly_savings"] == "31.25"


def test_cli_scan_markdown_to_stdout(local_aws, customer):
    seed.seed_demo_waste(customer)
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    result = run_cli("scan", "--role-arn", role_arn, "--external-id", EXTERNAL_ID, "--regions", "us-east-1",
                     "--format", "md")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# AWS savings review for account 222222222222")
    assert "**$13\\.65 per month**" in result.stdout


def test_cli_scan_bad_input_exits_2_with_a_sentence(local_aws):
    result = run_cli("scan", "--role-arn", "arn:aws-cn:iam::222222222222:role/x", "--external-id", EXTERNAL_ID)
    assert result.returncode == 2
    assert "GovCloud and China need a separate deployment and trust model" in result.stderr
    assert "Traceback" not in result.stderr
