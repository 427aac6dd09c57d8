"""Pagination and batching, proven with botocore's Stubber where moto answers in one page.

moto ignores MaxResults / NextToken for DescribeVolumes, DescribeSnapshots, DescribeNatGateways,
ECS and Lambda lists, S3 ListBuckets and more, so the local AWS cannot show that a collector
follows every page. The Stubber validates each canned response against botocore's output shape
and each request against ``expected_params``, and fails if a stubbed page is never requested.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from finops.collect import CollectContext, discover
from finops.collect.cloudwatch_metrics import MAX_QUERIES, batch_size
from finops.models import InventoryItem

ACCOUNT = "222222222222"
REGION = "eu-west-1"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION, aws_access_key_id="stub", aws_secret_access_key="stub")


def run(collector_id: str, clients: dict[str, Any], inventory: tuple[InventoryItem, ...] = (), **ctx: Any) -> list:
    spec = discover()[collector_id]
    region = "us-east-1" if spec.scope == "global" else REGION
    return list(spec.fn(CollectContext(ACCOUNT, region, clients, inventory, now=NOW, **ctx)))


def test_volumes_follow_next_token():
    ec2 = client("ec2")
    with Stubber(ec2) as stub:
        stub.add_response("describe_volumes", {"Volumes": [{"VolumeId": "vol-1", "Size": 10}], "NextToken": "t2"},
                          {"MaxResults": 500})
        stub.add_response("describe_volumes", {"Volumes": [{"VolumeId": "vol-2", "Size": 20}]},
                          {"MaxResults": 500, "NextToken": "t2"})
        items = run("ec2.volumes", {"ec2": ec2})
        stub.assert_no_pending_responses()
    assert [i.resource_id for i in items] == ["vol-1", "vol-2"]


def test_instances_follow_next_token_across_reservations():
    ec2 = client("ec2")
    with Stubber(ec2) as stub:
        stub.add_response("describe_instances", {"Reservations": [{"Instances": [
            {"InstanceId": "i-1", "State": {"Name": "stopped"},
             "StateTransitionReason": "User initiated (2026-10-01 08:30:00 GMT)"}]}], "NextToken": "n"},
            {"MaxResults": 1000})
        stub.add_response("describe_instances", {"Reservations": [{"Instances": [
            {"InstanceId": "i-2", "State": {"Name": "running"}, "Platform": "windows",
             "Tags": [{"Key": "aws:autoscaling:groupName", "Value": "web"}]}]}]},
            {"MaxResults": 1000, "NextToken": "n"})
        items = run("ec2.instances", {"ec2": ec2})
    assert [i.resource_id for i in items] == ["i-1", "i-2"]
    assert items[0].data["stopped_since"] == "2026-10-01T08:30:00+00:00"  # the real AWS format, in GMT
    assert items[1].data["platform"] == "windows" and items[1].data["autoscaling_group"] == "web"


def test_snapshots_and_images_follow_next_token_and_map_amis():
    ec2 = client("ec2")
    with Stubber(ec2) as stub:
        stub.add_response("describe_images", {"Images": [{"ImageId": "ami-1", "BlockDeviceMappings": [
            {"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": "snap-2"}}]}], "NextToken": "i2"},
            {"Owners": ["self"], "MaxResults": 1000})
        stub.add_response("describe_images", {"Images": [{"ImageId": "ami-2", "BlockDeviceMappings": [
            {"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": "snap-2"}}]}]},
            {"Owners": ["self"], "MaxResults": 1000, "NextToken": "i2"})
        stub.add_response("describe_snapshots", {"Snapshots": [{"SnapshotId": "snap-1", "OwnerId": ACCOUNT}],
                                                 "NextToken": "s2"},
                          {"OwnerIds": ["self"], "MaxResults": 1000})
        stub.add_response("describe_snapshots", {"Snapshots": [
            {"SnapshotId": "snap-2", "OwnerId": ACCOUNT}, {"SnapshotId": "snap-public", "OwnerId": "999999999999"}]},
            {"OwnerIds": ["self"], "MaxResults": 1000, "NextToken": "s2"})
        items = run("ec2.snapshots", {"ec2": ec2})
        stub.assert_no_pending_responses()
    assert {i.resource_id: i.data["ami_ids"] for i in items} == {"snap-1": [], "snap-2": ["ami-1", "ami-2"]}


def test_nat_gateways_follow_next_token():
    ec2 = client("ec2")
    with Stubber(ec2) as stub:
        stub.add_response("describe_nat_gateways", {"NatGateways": [{"NatGatewayId": "nat-1"}], "NextToken": "x"},
                          {"MaxResults": 1000})
        stub.add_response("describe_nat_gateways", {"NatGateways": [{"NatGatewayId": "nat-2"}]},
                          {"MaxResults": 1000, "NextToken": "x"})
        assert [i.resource_id for i in run("ec2.nat_gateways", {"ec2": ec2})] == ["nat-1", "nat-2"]


@pytest.mark.parametrize("collector_id, operation, key, id_field", [
    ("rds.instances", "describe_db_instances", "DBInstances", "DBInstanceIdentifier"),
    ("rds.clusters", "describe_db_clusters", "DBClusters", "DBClusterIdentifier"),
    ("rds.snapshots", "describe_db_snapshots", "DBSnapshots", "DBSnapshotIdentifier"),
    ("rds.cluster_snapshots", "describe_db_cluster_snapshots", "DBClusterSnapshots", "DBClusterSnapshotIdentifier"),
])
def test_rds_follows_marker(collector_id, operation, key, id_field):
    rds = client("rds")
    first: dict[str, Any] = {"MaxRecords": 100}
    if "snapshot" in operation:
        first["SnapshotType"] = "manual"
    with Stubber(rds) as stub:
        stub.add_response(operation, {key: [{id_field: "a"}], "Marker": "m2"}, first)
        stub.add_response(operation, {key: [{id_field: "b"}]}, {**first, "Marker": "m2"})
        items = run(collector_id, {"rds": rds})
        stub.assert_no_pending_responses()
    assert [i.resource_id for i in items] == ["a", "b"]


def test_lambda_follows_marker_and_drops_environment():
    fn = client("lambda")
    with Stubber(fn) as stub:
        stub.add_response("list_functions", {"Functions": [{"FunctionName": "a", "MemorySize": 128,
                                                            "Environment": {"Variables": {"PASSWORD": "p1"}}}],
                                             "NextMarker": "m"}, {})
        stub.add_response("list_functions", {"Functions": [{"FunctionName": "b", "MemorySize": 256}]}, {"Marker": "m"})
        items = run("lambda.functions", {"lambda": fn})
        stub.assert_no_pending_responses()
    assert [(i.resource_id, i.data["memory_mb"]) for i in items] == [("a", 128), ("b", 256)]
    assert "p1" not in repr(items) and "PASSWORD" not in repr(items)


def test_ecs_follows_next_token_and_batches_describe_services():
    ecs = client("ecs")
    cluster = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/apps"
    services = [f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/apps/s{n}" for n in range(12)]
    task_def = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/api:3"

    def described(arns: list[str]) -> dict:
        return {"services": [{"serviceArn": a, "serviceName": a.rsplit("/", 1)[-1], "taskDefinition": task_def,
                              "launchType": "FARGATE", "desiredCount": 2} for a in arns]}

    with Stubber(ecs) as stub:
        stub.add_response("list_clusters", {"clusterArns": [], "nextToken": "c2"}, {"maxResults": 100})
        stub.add_response("list_clusters", {"clusterArns": [cluster]}, {"maxResults": 100, "nextToken": "c2"})
        stub.add_response("list_services", {"serviceArns": services[:7], "nextToken": "p2"},
                          {"cluster": cluster, "maxResults": 100})
        stub.add_response("list_services", {"serviceArns": services[7:]},
                          {"cluster": cluster, "maxResults": 100, "nextToken": "p2"})
        stub.add_response("describe_services", described(services[:10]),
                          {"cluster": cluster, "services": services[:10]})
        stub.add_response("describe_task_definition", {"taskDefinition": {
            "family": "api", "revision": 3, "cpu": "1024", "memory": "2048",
            "containerDefinitions": [{"name": "api", "cpu": 1024, "environment": [{"name": "K", "value": "v-secret"}],
                                      "secrets": [{"name": "S", "valueFrom": "arn:aws:ssm:x"}]}]}},
            {"taskDefinition": task_def})
        stub.add_response("describe_services", described(services[10:]),
                          {"cluster": cluster, "services": services[10:]})
        items = run("ecs.services", {"ecs": ecs})
        stub.assert_no_pending_responses()  # the task definition was described once, not 12 times
    assert len(items) == 12
    sizing = {(i.data["task_cpu"], i.data["task_memory"], i.data["desired_count"]) for i in items}
    assert sizing == {("1024", "2048", 2)}
    assert "v-secret" not in repr(items) and "ssm" not in repr(items)


def test_ecs_clusters_batch_describe_by_100():
    ecs = client("ecs")
    arns = [f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/c{n}" for n in range(150)]
    with Stubber(ecs) as stub:
        stub.add_response("list_clusters", {"clusterArns": arns[:100], "nextToken": "n"}, {"maxResults": 100})
        stub.add_response("list_clusters", {"clusterArns": arns[100:]}, {"maxResults": 100, "nextToken": "n"})
        for batch in (arns[:100], arns[100:]):
            stub.add_response("describe_clusters", {"clusters": [
                {"clusterArn": a, "clusterName": a.rsplit("/", 1)[-1]} for a in batch]},
                {"clusters": batch, "include": ["TAGS"]})
        assert len(run("ecs.clusters", {"ecs": ecs})) == 150
        stub.assert_no_pending_responses()


def test_s3_follows_continuation_tokens_without_max_buckets():
    s3 = client("s3")
    with Stubber(s3) as stub:
        stub.add_response("list_buckets", {"Buckets": [{"Name": "a", "BucketRegion": "eu-west-1"}],
                                           "ContinuationToken": "b2"}, {})
        stub.add_response("list_buckets", {"Buckets": [{"Name": "b"}]}, {"ContinuationToken": "b2"})
        # bucket a: region from ListBuckets; versioning, lifecycle, two pages of IT configs
        stub.add_response("get_bucket_versioning", {"Status": "Suspended"}, {"Bucket": "a"})
        stub.add_client_error("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration",
                              http_status_code=404, expected_params={"Bucket": "a"})
        stub.add_response("list_bucket_intelligent_tiering_configurations", {
            "IsTruncated": True, "NextContinuationToken": "it2",
            "IntelligentTieringConfigurationList": [{"Id": "one", "Status": "Enabled",
                                                     "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}]}]},
            {"Bucket": "a"})
        stub.add_response("list_bucket_intelligent_tiering_configurations", {
            "IsTruncated": False, "IntelligentTieringConfigurationList": [
                {"Id": "two", "Status": "Disabled", "Tierings": [{"Days": 180, "AccessTier": "DEEP_ARCHIVE_ACCESS"}]}]},
            {"Bucket": "a", "ContinuationToken": "it2"})
        # bucket b: no region in ListBuckets, so GetBucketLocation ("EU" is eu-west-1's legacy name)
        stub.add_response("get_bucket_location", {"LocationConstraint": "EU"}, {"Bucket": "b"})
        stub.add_response("get_bucket_versioning", {}, {"Bucket": "b"})
        stub.add_response("get_bucket_lifecycle_configuration", {"Rules": [
            {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 7}}]},
            {"Bucket": "b"})
        stub.add_response("list_bucket_intelligent_tiering_configurations", {"IsTruncated": False}, {"Bucket": "b"})
        items = run("s3.buckets", {"s3": s3})
        stub.assert_no_pending_responses()
    a, b = items
    assert (a.region, a.data["versioning"], a.data["lifecycle_rules"]) == ("eu-west-1", "Suspended", [])
    assert [c["id"] for c in a.data["intelligent_tiering_configs"]] == ["one", "two"]
    assert a.data["intelligent_tiering_configs"][0]["tierings"] == [{"access_tier": "ARCHIVE_ACCESS", "days": 90}]
    assert (b.region, b.data["versioning"]) == ("eu-west-1", "Disabled")
    assert b.data["lifecycle_rules"][0]["expiration_days"] == 7


def test_organization_member_account_is_a_normal_outcome():
    orgs = client("organizations")
    with Stubber(orgs) as stub:
        member = {"Organization": {"Id": "o-abc1234567", "MasterAccountId": "111111111111", "FeatureSet": "ALL"}}
        stub.add_response("describe_organization", member, {})
        stub.add_client_error("list_accounts", "AccessDeniedException", http_status_code=400)
        (item,) = run("account.organization", {"organizations": orgs})
    assert item.data["in_organization"] and not item.data["is_management_account"]
    assert item.data["management_account_id"] == "111111111111" and item.data["accounts"] is None


def test_organization_management_account_follows_next_token_and_a_denial_is_a_gap():
    orgs = client("organizations")
    org = {"Organization": {"Id": "o-abc1234567", "MasterAccountId": ACCOUNT}}
    with Stubber(orgs) as stub:
        stub.add_response("describe_organization", org, {})
        stub.add_response("list_accounts", {"Accounts": [{"Id": ACCOUNT, "Name": "mgmt"}], "NextToken": "a2"}, {})
        stub.add_response("list_accounts", {"Accounts": [{"Id": "333333333333", "Name": "dev"}]}, {"NextToken": "a2"})
        (item,) = run("account.organization", {"organizations": orgs})
        assert [a["id"] for a in item.data["accounts"]] == [ACCOUNT, "333333333333"]
        # The management account itself being denied ListAccounts is a real gap, not a normal outcome.
        stub.add_response("describe_organization", org, {})
        stub.add_client_error("list_accounts", "AccessDeniedException", http_status_code=400)
        with pytest.raises(orgs.exceptions.ClientError):
            run("account.organization", {"organizations": orgs})


def _instances(count: int) -> tuple[InventoryItem, ...]:
    return tuple(
        InventoryItem("ec2.instances", "ec2:instance", ACCOUNT, REGION, f"i-{n:05d}",
                      f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-{n:05d}", {})
        for n in range(count)
    )


def test_metrics_are_batched_by_500_queries_and_pages_merge_by_id():
    cloudwatch = client("cloudwatch")
    instances = _instances(300)  # 2 queries each: 600 queries -> 500 + 100
    start, end = datetime(2026, 10, 21, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
    day1, day2 = datetime(2026, 11, 18, tzinfo=UTC), datetime(2026, 11, 19, tzinfo=UTC)
    sizes = []

    expect = {"MetricDataQueries": ANY, "StartTime": start, "EndTime": end, "ScanBy": "TimestampAscending"}

    with Stubber(cloudwatch) as stub:
        # first call: 500 queries over two pages; q0 (i-00000 CPU Maximum) has one point on each page
        stub.add_response("get_metric_data", {"MetricDataResults": [
            {"Id": "q0", "Timestamps": [day1], "Values": [9.0], "StatusCode": "PartialData"}], "NextToken": "p2"},
            expect)
        stub.add_response("get_metric_data", {"MetricDataResults": [
            {"Id": "q0", "Timestamps": [day2], "Values": [3.0], "StatusCode": "Complete"}]},
            {**expect, "NextToken": "p2"})
        stub.add_response("get_metric_data", {"MetricDataResults": [
            {"Id": "q599", "Timestamps": [day2], "Values": [1.5], "StatusCode": "Complete"}]}, expect)

        def count_queries(params: dict, **_: Any) -> None:
            sizes.append(len(params["MetricDataQueries"]))

        cloudwatch.meta.events.register("provide-client-params.cloudwatch.GetMetricData", count_queries)
        items = run("cloudwatch.metrics", {"cloudwatch": cloudwatch}, instances)
        stub.assert_no_pending_responses()
    assert sizes == [MAX_QUERIES, MAX_QUERIES, 100]  # the second page re-sends the same 500 queries
    by_id = {i.data["target_resource_id"]: i.data["metrics"] for i in items}
    assert len(by_id) == 300
    assert by_id["i-00000"]["CPUUtilization.Maximum"]["daily"] == {"2026-11-18": 9.0, "2026-11-19": 3.0}
    assert by_id["i-00000"]["CPUUtilization.Maximum"]["max"] == 9.0
    assert by_id["i-00299"]["CPUUtilization.Average"]["latest"] == 1.5
    assert by_id["i-00001"]["CPUUtilization.Maximum"]["datapoints"] == 0


def test_metric_batches_shrink_for_long_lookbacks():
    assert batch_size(30) == 500
    assert batch_size(365) * 365 <= 100_800 and batch_size(365) == 276
