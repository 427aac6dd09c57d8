"""Every collector against the local AWS, end to end: seeded in two regions, scanned by the real
worker through the customer's role, and asserted field by field in SQLite.

Reserved Instances (EC2, RDS), Savings Plans and Lambda provisioned concurrency are served by the
local AWS's front from fixtures, in each API's real wire format, because moto 5.2.5 lacks them.
"""

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
from tests.helpers import connect_form, report_token_of, review_id_of, start_review

REGIONS = ("us-east-1", "eu-west-1")


def run_review(client, settings, customer) -> str:  # type: ignore[no-untyped-def]
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    assert client.post(f"/reviews/{token}/scan", data=form).status_code == 303
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
    seeded = {region: inventory_seed.seed_region(customer, region, local_aws=local_aws) for region in REGIONS}
    plans = inventory_seed.seed_savings_plans(local_aws, customer, REGIONS)
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
        assert running["data"]["public_ip"].count(".") == 3  # moto gives default-VPC instances one

        # EBS volumes (the existing collector: fields unchanged)
        volume = by_id(inv["ec2.volumes"][region])[ids["volume"]]["data"]
        assert (volume["volume_type"], volume["size_gib"], volume["iops"], volume["throughput"]) == (
            "gp3", 300, 4000, 250)
        assert volume["attachments"] == [{"instance_id": ids["instances"]["running"], "state": "attached"}]
        assert volume["create_time"]

        # AMIs owned by the account, with the snapshots that back them
        (image,) = inv["ec2.images"][region]
        assert (image["resource_id"], image["resource_type"]) == (ids["ami"]["image"], "ec2:image")
        assert image["arn"] == f"arn:aws:ec2:{region}::image/{ids['ami']['image']}"
        assert (image["data"]["name"], image["data"]["state"], image["data"]["public"]) == (
            f"golden-{region}", "available", False)
        assert image["data"]["creation_date"].endswith("+00:00") and image["data"]["last_launched_time"] is None
        assert image["data"]["architecture"] == "x86_64" and image["data"]["root_device_type"]
        assert "platform_details" in image["data"]  # moto omits PlatformDetails: None here
        assert image["data"]["snapshot_ids"] == sorted(ids["ami"]["snapshots"])
        assert [d["snapshot_id"] for d in image["data"]["block_devices"]] == ids["ami"]["snapshots"]
        assert all(d["volume_size_gib"] and d["volume_type"] for d in image["data"]["block_devices"])
        assert image["data"]["tags"] == {}

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
        addresses = by_id(inv["ec2.addresses"][region])
        assert (addresses[ids["nat_eip"]]["data"]["public_ipv4_pool"],
                addresses[ids["nat_eip"]]["data"]["network_border_group"]) == ("amazon", region)
        assert addresses[ids["byoip_eip"]]["data"]["public_ipv4_pool"] == inventory_seed.BYOIP_POOL

        # RDS
        db = by_id(inv["rds.instances"][region])[ids["rds"]["instance"]]
        assert db["arn"] == f"arn:aws:rds:{region}:{account}:db:{ids['rds']['instance']}"
        assert (db["data"]["instance_class"], db["data"]["engine"], db["data"]["multi_az"],
                db["data"]["allocated_storage_gib"]) == ("db.m5.large", "postgres", True, 100)
        assert db["data"]["storage_type"] and db["data"]["create_time"]
        assert (db["data"]["max_allocated_storage_gib"], db["data"]["engine_lifecycle_support"]) == (
            500, inventory_seed.ENGINE_LIFECYCLE)
        cluster = by_id(inv["rds.clusters"][region])[ids["rds"]["cluster"]]["data"]
        assert cluster["engine"] == "aurora-postgresql" and cluster["status"] == "available"
        assert cluster["serverless_v2"] == {"min_capacity": 0.5, "max_capacity": 16.0}
        assert cluster["engine_lifecycle_support"] == inventory_seed.ENGINE_LIFECYCLE and cluster["members"] == []
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
        (host,) = inv["ecs.container_instances"][region]
        cluster_arn = f"arn:aws:ecs:{region}:{account}:cluster/{ids['ecs']['cluster']}"
        assert (host["arn"], host["resource_type"]) == (ids["ecs"]["container_instance"], "ecs:container-instance")
        assert host["resource_id"] == ids["ecs"]["container_instance"].rsplit("/", 1)[-1]
        assert host["data"]["registered_at"]
        assert host["data"] == {
            "cluster_arn": cluster_arn, "cluster_name": ids["ecs"]["cluster"],
            "ec2_instance_id": ids["instances"]["running"], "status": "ACTIVE", "running_tasks": 0,
            "pending_tasks": 0, "registered_at": host["data"]["registered_at"], "agent_connected": True,
            "capacity_provider_name": None, "tags": {},
        }

        # Lambda
        fn = by_id(inv["lambda.functions"][region])[ids["lambda"]]
        assert fn["arn"] == f"arn:aws:lambda:{region}:{account}:function:{ids['lambda']}"
        assert (fn["data"]["runtime"], fn["data"]["architectures"], fn["data"]["memory_mb"]) == (
            "python3.12", ["arm64"], 1024)
        assert fn["data"]["last_modified"]
        (warm,) = inv["lambda.provisioned_concurrency"][region]
        assert (warm["resource_id"], warm["resource_type"]) == (ids["provisioned_concurrency"],
                                                              "lambda:provisioned-concurrency")
        assert warm["arn"] == f"{fn['arn']}:{inventory_seed.PROVISIONED_QUALIFIER}"
        assert warm["data"] == {
            "function_name": ids["lambda"], "qualifier": "live", "requested": 10, "allocated": 10, "available": 8,
            "status": "READY", "last_modified": "2026-10-01T09:30:00+00:00", "memory_mb": 1024,
            "architectures": ["arm64"],
        }

        # Commitments: EC2 and RDS reservations of this region
        (ri,) = inv["ec2.reserved_instances"][region]
        assert (ri["resource_id"], ri["resource_type"]) == (ids["reserved_instance"], "ec2:reserved-instances")
        assert ri["arn"] == f"arn:aws:ec2:{region}:{account}:reserved-instances/{ids['reserved_instance']}"
        assert ri["data"] == {
            "instance_type": "m5.large", "instance_count": 2, "product_description": "Linux/UNIX", "state": "active",
            "start": "2026-03-01T00:00:00+00:00", "end": "2027-03-01T00:00:00+00:00", "duration_s": 31536000,
            "offering_class": "standard", "offering_type": "Partial Upfront", "scope": "Region",
            "availability_zone": None, "instance_tenancy": "default", "fixed_price": "420.0", "usage_price": "0.0",
            "recurring_charges": [{"frequency": "Hourly", "amount": "0.048"}], "currency": "USD",
        }
        (rds_ri,) = inv["rds.reserved_instances"][region]
        assert (rds_ri["resource_id"], rds_ri["resource_type"]) == (ids["reserved_db_instance"],
                                                                  "rds:reserved-db-instance")
        assert rds_ri["arn"] == f"arn:aws:rds:{region}:{account}:ri:{ids['reserved_db_instance']}"
        assert rds_ri["data"] == {
            "db_instance_class": "db.m5.large", "product_description": "postgresql", "multi_az": True, "count": 1,
            "start": "2025-06-01T12:00:00+00:00", "end": "2028-05-31T12:00:00+00:00",  # + 1,095 days
            "duration_s": 94608000, "state": "active", "offering_type": "All Upfront", "fixed_price": "3150.5",
            "usage_price": "0.0", "recurring_charges": [], "currency": "USD",
        }

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
        assert sizes["NumberOfObjects.AllStorageTypes.Average"]["latest"] == inventory_seed.BUCKET_OBJECTS
        network = metrics[running["arn"]]["data"]["metrics"]
        assert (network["NetworkIn.Sum"]["sum"], network["NetworkOut.Sum"]["sum"]) == (
            inventory_seed.NETWORK_IN_BYTES, inventory_seed.NETWORK_OUT_BYTES)
        db_metrics = metrics[db["arn"]]["data"]["metrics"]
        assert db_metrics["CPUUtilization.Maximum"]["max"] == inventory_seed.RDS_CPU_MAX
        assert db_metrics["CPUUtilization.Average"]["datapoints"] == 2
        assert metrics[fn["arn"]]["data"]["metrics"]["Duration.Sum"]["sum"] == inventory_seed.LAMBDA_DURATION_MS
        ecs_arn = by_id(inv["ecs.services"][region])[f"{ids['ecs']['cluster']}/api"]["arn"]
        ecs_metrics = metrics[ecs_arn]["data"]["metrics"]
        assert ecs_metrics["CPUUtilization.Maximum"]["max"] == inventory_seed.ECS_CPU_MAX
        assert ecs_metrics["MemoryUtilization.Maximum"]["max"] == inventory_seed.ECS_MEMORY_MAX
        assert ecs_metrics["CPUUtilization.Average"]["datapoints"] == 2
        warm_metrics = metrics[warm["arn"]]["data"]
        assert warm_metrics["target_collector"] == "lambda.provisioned_concurrency"
        assert warm_metrics["metrics"]["ProvisionedConcurrencyUtilization.Maximum"]["max"] == (
            inventory_seed.PC_UTILIZATION_MAX)
        # EBS: only the volume provisioned above the gp3 baseline is measured
        volume_arn = by_id(inv["ec2.volumes"][region])[ids["volume"]]["arn"]
        ebs = metrics[volume_arn]["data"]["metrics"]
        assert set(ebs) == {"VolumeReadOps.Maximum", "VolumeWriteOps.Maximum", "VolumeReadBytes.Maximum",
                            "VolumeWriteBytes.Maximum"}
        assert ebs["VolumeReadOps.Maximum"]["max"] == inventory_seed.VOLUME_READ_OPS_MAX
        assert ebs["VolumeWriteBytes.Maximum"]["max"] == inventory_seed.VOLUME_WRITE_BYTES_MAX
        assert ebs["VolumeWriteOps.Maximum"]["datapoints"] == 0
        baseline_arn = by_id(inv["ec2.volumes"][region])[ids["baseline_volume"]]["arn"]
        assert baseline_arn not in metrics
        assert [m["resource_id"] for m in metrics.values() if m["data"]["target_collector"] == "ec2.volumes"] == [
            volume_arn]

    # Savings Plans: read once (global), over the front's two pages; each plan under its own region
    sp = {row["resource_id"]: row for rows in inv["savingsplans.plans"].values() for row in rows}
    assert set(sp) == {plan["savingsPlanId"] for plan in plans}
    assert {row["region"] for row in sp.values()} == {"global", *REGIONS}
    compute = sp["sp-compute-0001"]
    assert (compute["region"], compute["resource_type"]) == ("global", "savingsplans:savings-plan")
    assert compute["arn"] == f"arn:aws:savingsplans::{account}:savingsplan/sp-compute-0001"
    assert compute["data"] == {
        "plan_type": "Compute", "payment_option": "No Upfront", "commitment_per_hour": "2.5",
        "upfront_payment": "0.0", "recurring_payment": "2.5", "currency": "USD",
        "start": "2026-01-01T00:00:00+00:00", "end": "2029-01-01T00:00:00+00:00", "state": "active",
        "term_seconds": 94608000, "ec2_instance_family": None, "product_types": ["EC2", "Fargate", "Lambda"],
    }
    for region in REGIONS:
        ec2_plan = sp[f"sp-ec2-{region}"]
        assert ec2_plan["region"] == region
        assert (ec2_plan["data"]["plan_type"], ec2_plan["data"]["ec2_instance_family"],
                ec2_plan["data"]["commitment_per_hour"], ec2_plan["data"]["upfront_payment"]) == (
            "EC2Instance", "m5", "0.75", "6570.0")

    assert set(inv["s3.buckets"]) == set(REGIONS)
    # Per-bucket reads went to the bucket's own region (no cross-region redirects).
    scanner_s3 = [r for r in local_aws.requests()
                  if r["service"] == "s3" and r["access_key"] != customer.access_key_id and r["method"] == "GET"]
    eu_bucket = [r["region"] for r in scanner_s3 if r["path"] == "/finops-test-eu-west-1"]
    assert eu_bucket.count("eu-west-1") >= 3, eu_bucket  # versioning, lifecycle, Intelligent-Tiering

    (org,) = inv["account.organization"]["global"]
    assert org["data"]["in_organization"] is False  # "not in an organization" is a normal outcome

    coverage = [c for c in connect(settings.db_path).query("select * from coverage where review_id = ?", [review_id])
                if not c["source"].startswith("check:")]  # the reads; a check's own rows are not reads
    assert {c["status"] for c in coverage} == {"ok"}
    reads = {(c["source"], c["region"]) for c in coverage}
    for collector_id in ("ec2.instances", "ec2.images", "ec2.snapshots", "ec2.nat_gateways",
                         "ec2.reserved_instances", "rds.instances", "rds.clusters", "rds.snapshots",
                         "rds.cluster_snapshots", "rds.reserved_instances", "ecs.clusters", "ecs.services",
                         "ecs.container_instances", "lambda.functions", "lambda.provisioned_concurrency",
                         "cloudwatch.metrics"):
        assert {(collector_id, r) for r in REGIONS} <= reads
    assert {("s3.buckets", "global"), ("account.organization", "global"), ("savingsplans.plans", "global")} <= reads
    sp_reads = [c for c in coverage if c["source"] == "savingsplans.plans"]
    assert [c["api_calls"] for c in sp_reads] == [2]  # nextToken followed by hand: two pages
    assert all(c["api_calls"] >= 1 for c in coverage if c["source"] != "cloudwatch.metrics")

    token = report_token_of(settings, review_id)
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
    # (as a JSON key: "environment" is also a tag key the thresholds list, legitimately)
    for word in (b"API_TOKEN", b"DB_PASSWORD", b"valueFrom", b'"environment":', b"MasterUsername", b"dbadmin"):
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
