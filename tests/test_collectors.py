"""Every collector against the local AWS, end to end: seeded in two regions, scanned by the real
worker through the customer's role, and asserted field by field in SQLite."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from finops.collect import REDACTED, redact
from finops.db import connect
from finops.reviews import get_review
from finops.sandbox import seed
from tests import inventory_seed
from tests.conftest import run_worker_burst
from tests.helpers import connect_form, start_review

REGIONS = ("us-east-1", "eu-west-1")


def run_review(client, settings, customer) -> str:  # type: ignore[no-untyped-def]
    review_id = start_review(client)
    form = connect_form(client, review_id)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    assert client.post(f"/reviews/{review_id}/scan", data=form).status_code == 303
    run_worker_burst(settings)
    return review_id


def inventory_rows(settings, review_id: str) -> dict[str, dict[str, list[dict]]]:  # type: ignore[no-untyped-def]
    """collector -> region -> rows (with ``data`` decoded), straight from SQLite."""
    rows: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for row in connect(settings.db_path).query("select * from inventory where review_id = ?", [review_id]):
        rows[row["collector"]][row["region"]].append({**row, "data": json.loads(row["data"])})
    return rows


def by_id(rows: list[dict]) -> dict[str, dict]:
    return {row["resource_id"]: row for row in rows}


@pytest.fixture
def two_regions(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FINOPS_REGIONS", ",".join(REGIONS))  # the worker reads settings from the environment


def test_every_resource_type_arrives_in_sqlite_from_two_regions(client, settings, local_aws, customer, two_regions):
    seeded = {region: inventory_seed.seed_region(customer, region) for region in REGIONS}
    # A bucket in a region this review does not scan stays out, like that region's other resources.
    customer.session("us-west-2").client("s3").create_bucket(
        Bucket="finops-test-not-scanned", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    review_id = run_review(client, settings, customer)
    review = get_review(connect(settings.db_path), review_id)
    assert review["status"] == "complete", review
    inv = inventory_rows(settings, review_id)
    account = customer.account_id

    for region, ids in seeded.items():
        # EC2 instances
        instances = by_id(inv["ec2.instances"][region])
        running, stopped = instances[ids["instances"]["running"]], instances[ids["instances"]["stopped"]]
        assert running["arn"] == f"arn:aws:ec2:{region}:{account}:instance/{running['resource_id']}"
        assert (running["account_id"], running["resource_type"]) == (account, "ec2:instance")
        assert running["data"]["instance_type"] == "m5.large" and running["data"]["state"] == "running"
        assert running["data"]["launch_time"] and running["data"]["platform"] == "linux"
        assert running["data"]["architecture"] == "x86_64" and running["data"]["autoscaling_group"] is None
        assert stopped["data"]["state"] == "stopped" and running["data"]["stopped_since"] is None
        assert stopped["data"]["stopped_since"] >= stopped["data"]["launch_time"]  # from the state transition
        asg = [r for r in instances.values() if r["data"]["autoscaling_group"] == ids["instances"]["asg_group"]]
        assert len(asg) == 1 and asg[0]["data"]["instance_type"] == "t3.small"

        # EBS volumes (the existing collector: fields unchanged)
        volume = by_id(inv["ec2.volumes"][region])[ids["volume"]]["data"]
        assert (volume["volume_type"], volume["size_gib"], volume["iops"], volume["throughput"]) == (
            "gp3", 300, 4000, 250)
        assert volume["attachments"] == [{"instance_id": ids["instances"]["running"], "state": "attached"}]
        assert volume["create_time"]

        # Snapshots, with the AMI that references its snapshot
        snapshots = by_id(inv["ec2.snapshots"][region])
        assert snapshots[ids["snapshot"]]["data"]["volume_id"] == ids["volume"]
        assert snapshots[ids["snapshot"]]["data"]["volume_size_gib"] == 300
        assert snapshots[ids["snapshot"]]["data"]["ami_ids"] == []
        for ami_snapshot in ids["ami"]["snapshots"]:
            assert snapshots[ami_snapshot]["data"]["ami_ids"] == [ids["ami"]["image"]]
        assert set(snapshots) == {ids["snapshot"], *ids["ami"]["snapshots"]}  # only the account's own

        # Elastic IPs and NAT gateways
        nat = by_id(inv["ec2.nat_gateways"][region])[ids["nat"]]
        assert nat["data"]["state"] == "available" and nat["data"]["allocation_ids"] == [ids["nat_eip"]]
        assert ids["nat_eip"] in by_id(inv["ec2.addresses"][region])

        # RDS
        db = by_id(inv["rds.instances"][region])[ids["rds"]["instance"]]
        assert db["arn"] == f"arn:aws:rds:{region}:{account}:db:{ids['rds']['instance']}"
        assert (db["data"]["instance_class"], db["data"]["engine"], db["data"]["multi_az"],
                db["data"]["allocated_storage_gib"]) == ("db.m5.large", "postgres", True, 100)
        assert db["data"]["storage_type"] and db["data"]["create_time"]
        cluster = by_id(inv["rds.clusters"][region])[ids["rds"]["cluster"]]["data"]
        assert cluster["engine"] == "aurora-postgresql" and cluster["status"] == "available"
        snap = by_id(inv["rds.snapshots"][region])[ids["rds"]["snapshot"]]["data"]
        assert (snap["db_instance_id"], snap["snapshot_type"], snap["allocated_storage_gib"]) == (
            ids["rds"]["instance"], "manual", 100)
        cluster_snap = by_id(inv["rds.cluster_snapshots"][region])[ids["rds"]["cluster_snapshot"]]["data"]
        assert (cluster_snap["cluster_id"], cluster_snap["snapshot_type"]) == (ids["rds"]["cluster"], "manual")

        # ECS
        assert by_id(inv["ecs.clusters"][region])[ids["ecs"]["cluster"]]["data"]["status"] == "ACTIVE"
        service = by_id(inv["ecs.services"][region])[f"{ids['ecs']['cluster']}/api"]["data"]
        assert (service["launch_type"], service["desired_count"], service["task_cpu"], service["task_memory"]) == (
            "FARGATE", 3, "512", "1024")
        assert service["cpu_architecture"] == "ARM64"
        assert service["containers"] == [{"name": "api", "cpu": 512, "memory": 1024, "memory_reservation": None}]

        # Lambda
        fn = by_id(inv["lambda.functions"][region])[ids["lambda"]]
        assert fn["arn"] == f"arn:aws:lambda:{region}:{account}:function:{ids['lambda']}"
        assert (fn["data"]["runtime"], fn["data"]["architectures"], fn["data"]["memory_mb"]) == (
            "python3.12", ["arm64"], 1024)
        assert fn["data"]["last_modified"]

        # S3: each bucket listed once, under its own region
        bucket = by_id(inv["s3.buckets"][region])[ids["bucket"]]
        assert bucket["arn"] == f"arn:aws:s3:::{ids['bucket']}"
        assert bucket["data"]["versioning"] == "Enabled"
        (rule,) = bucket["data"]["lifecycle_rules"]
        assert (rule["id"], rule["status"], rule["prefix"], rule["noncurrent_expiration_days"]) == (
            "logs-to-ia", "Enabled", "logs/", 90)
        assert rule["transitions"] == [{"days": 30, "date": None, "storage_class": "STANDARD_IA"}]
        assert bucket["data"]["intelligent_tiering_configs"] == []  # moto has no IT configs (Stubber test covers them)

        # CloudWatch evidence, one row per resource, keyed by the resource's ARN
        metrics = by_id(inv["cloudwatch.metrics"][region])
        cpu = metrics[running["arn"]]["data"]
        assert cpu["window"]["lookback_days"] == 30 and cpu["window"]["period_seconds"] == 86400
        assert cpu["metrics"]["CPUUtilization.Maximum"]["max"] == inventory_seed.CPU_MAX
        assert cpu["metrics"]["CPUUtilization.Maximum"]["datapoints"] == 2
        assert metrics[stopped["arn"]]["data"]["metrics"]["CPUUtilization.Maximum"]["datapoints"] == 0
        nat_metrics = metrics[nat["arn"]]["data"]["metrics"]
        assert nat_metrics["BytesOutToDestination.Sum"]["sum"] == inventory_seed.NAT_BYTES
        connections = metrics[db["arn"]]["data"]["metrics"]["DatabaseConnections.Maximum"]
        assert connections["max"] == inventory_seed.RDS_CONNECTIONS
        assert metrics[fn["arn"]]["data"]["metrics"]["Invocations.Sum"]["sum"] == inventory_seed.LAMBDA_INVOCATIONS
        sizes = metrics[bucket["arn"]]["data"]["metrics"]
        assert sizes["BucketSizeBytes.StandardIAStorage.Average"]["latest"] == inventory_seed.BUCKET_IA_BYTES

    assert set(inv["s3.buckets"]) == set(REGIONS)
    # Per-bucket reads went to the bucket's own region (no cross-region redirects).
    scanner_s3 = [r for r in local_aws.requests()
                  if r["service"] == "s3" and r["access_key"] != customer.access_key_id and r["method"] == "GET"]
    eu_bucket = [r["region"] for r in scanner_s3 if r["path"] == "/finops-test-eu-west-1"]
    assert eu_bucket.count("eu-west-1") >= 3, eu_bucket  # versioning, lifecycle, Intelligent-Tiering

    (org,) = inv["account.organization"]["global"]
    assert org["data"]["in_organization"] is False  # "not in an organization" is a normal outcome

    coverage = list(connect(settings.db_path).query("select * from coverage where review_id = ?", [review_id]))
    assert {c["status"] for c in coverage} == {"ok"}
    reads = {(c["source"], c["region"]) for c in coverage}
    for collector_id in ("ec2.instances", "ec2.snapshots", "ec2.nat_gateways", "rds.instances", "rds.clusters",
                         "rds.snapshots", "rds.cluster_snapshots", "ecs.clusters", "ecs.services",
                         "lambda.functions", "cloudwatch.metrics"):
        assert {(collector_id, r) for r in REGIONS} <= reads
    assert {("s3.buckets", "global"), ("account.organization", "global")} <= reads
    assert all(c["api_calls"] >= 1 for c in coverage if c["source"] != "cloudwatch.metrics")

    token = get_review(connect(settings.db_path), review_id)["report_token"]
    summary = json.loads(client.get(f"/r/{token}.json").get_data(as_text=True))["inventory"]
    assert summary["ec2:instance"] == {"eu-west-1": 3, "us-east-1": 3}
    assert summary["s3:bucket"] == {"eu-west-1": 1, "us-east-1": 1}


def test_secrets_never_reach_sqlite(client, settings, customer, monkeypatch):
    monkeypatch.setenv("FINOPS_REGIONS", "us-east-1")
    ids = inventory_seed.seed_region(customer, "us-east-1")
    review_id = run_review(client, settings, customer)
    assert get_review(connect(settings.db_path), review_id)["status"] == "complete"
    inv = inventory_rows(settings, review_id)
    # We looked at the rows that would have carried them: they are there, without the secrets.
    assert by_id(inv["lambda.functions"]["us-east-1"])[ids["lambda"]]["data"]["memory_mb"] == 1024
    assert by_id(inv["ecs.services"]["us-east-1"])[f"{ids['ecs']['cluster']}/api"]["data"]["task_cpu"] == "512"
    assert by_id(inv["rds.instances"]["us-east-1"])[ids["rds"]["instance"]]

    db_path = Path(settings.db_path)
    db_bytes = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    assert ids["lambda"].encode() in db_bytes  # the right file
    for secret in inventory_seed.PLANTED_SECRETS.values():
        assert secret.encode() not in db_bytes, secret
    for word in (b"API_TOKEN", b"DB_PASSWORD", b"valueFrom", b'"environment"', b"MasterUsername", b"dbadmin"):
        assert word not in db_bytes, word


def test_redact_drops_secret_keys_and_masks_secret_values_but_keeps_tag_names():
    data = {
        "memory_mb": 128, "DB_PASSWORD": "x", "environment": [{"name": "a", "value": "b"}],
        "nested": {"secretArn": "arn:aws:secretsmanager:x", "apiKey": "k", "kms_key_id": "alias/aws/ebs"},
        "description": "deploy with AKIAABCDEFGHIJKLMNOP", "userData": "IyEvYmluL2Jhc2g=",
        "tags": {"Environment": "prod", "Owner": "ASIAABCDEFGHIJKLMNOP"},
    }
    assert redact(data) == {
        "memory_mb": 128, "nested": {"kms_key_id": "alias/aws/ebs"}, "description": REDACTED,
        "tags": {"Environment": "prod", "Owner": REDACTED},
    }
