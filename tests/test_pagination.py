"""Pagination and batching, proven with botocore's Stubber where moto answers in one page.

moto ignores MaxResults / NextToken for DescribeVolumes, DescribeSnapshots, DescribeNatGateways,
ECS and Lambda lists, S3 ListBuckets and more, so the local AWS cannot show that a collector
follows every page. The Stubber validates each canned response against botocore's output shape
and each request against ``expected_params``, and fails if a stubbed page is never requested.
The reads moto lacks altogether (Reserved Instances, Savings Plans, provisioned concurrency) are
paged here too; end to end, the local AWS's front serves them (tests/test_front_fixtures.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from finops.collect import CollectContext, discover
from finops.collect.cloudwatch_metrics import MAX_QUERIES, batch_size, plan
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


def test_images_follow_next_token_and_keep_their_snapshots():
    ec2 = client("ec2")
    with Stubber(ec2) as stub:
        stub.add_response("describe_images", {"Images": [{
            "ImageId": "ami-1", "Name": "golden", "State": "available", "CreationDate": "2024-01-02T03:04:05.000Z",
            "LastLaunchedTime": "2026-10-01T00:00:00Z", "PlatformDetails": "Windows", "Architecture": "arm64",
            "RootDeviceType": "ebs", "Public": True, "Tags": [{"Key": "team", "Value": "web"}],
            "BlockDeviceMappings": [
                {"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": "snap-b", "VolumeSize": 30, "VolumeType": "gp3"}},
                {"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"},  # instance store: no snapshot, no cost
                {"DeviceName": "/dev/sdc", "Ebs": {"SnapshotId": "snap-a", "VolumeSize": 100, "VolumeType": "io2"}},
            ]}], "NextToken": "i2"},
            {"Owners": ["self"], "MaxResults": 1000})
        stub.add_response("describe_images", {"Images": [{"ImageId": "ami-2"}]},
                          {"Owners": ["self"], "MaxResults": 1000, "NextToken": "i2"})
        items = run("ec2.images", {"ec2": ec2})
        stub.assert_no_pending_responses()
    assert [i.resource_id for i in items] == ["ami-1", "ami-2"]
    first = items[0]
    assert first.arn == f"arn:aws:ec2:{REGION}::image/ami-1"
    assert first.data == {
        "name": "golden", "state": "available", "creation_date": "2024-01-02T03:04:05+00:00",
        "last_launched_time": "2026-10-01T00:00:00+00:00", "platform_details": "Windows", "architecture": "arm64",
        "root_device_type": "ebs",
        "block_devices": [{"snapshot_id": "snap-b", "volume_size_gib": 30, "volume_type": "gp3"},
                          {"snapshot_id": "snap-a", "volume_size_gib": 100, "volume_type": "io2"}],
        "snapshot_ids": ["snap-a", "snap-b"], "public": True, "tags": {"team": "web"},
    }
    assert items[1].data["public"] is False and items[1].data["snapshot_ids"] == []


def _image(image_id: str, *snapshot_ids: str) -> InventoryItem:
    return InventoryItem("ec2.images", "ec2:image", ACCOUNT, REGION, image_id,
                         f"arn:aws:ec2:{REGION}::image/{image_id}",
                         {"snapshot_ids": list(snapshot_ids)})


def test_snapshots_follow_next_token_and_take_amis_from_the_images_inventory():
    ec2 = client("ec2")
    images = (_image("ami-2", "snap-2"), _image("ami-1", "snap-2"))

    def stub_snapshots(stub: Stubber) -> None:
        stub.add_response("describe_snapshots", {"Snapshots": [{"SnapshotId": "snap-1", "OwnerId": ACCOUNT}],
                                                 "NextToken": "s2"},
                          {"OwnerIds": ["self"], "MaxResults": 1000})
        stub.add_response("describe_snapshots", {"Snapshots": [
            {"SnapshotId": "snap-2", "OwnerId": ACCOUNT}, {"SnapshotId": "snap-public", "OwnerId": "999999999999"}]},
            {"OwnerIds": ["self"], "MaxResults": 1000, "NextToken": "s2"})

    with Stubber(ec2) as stub:  # no DescribeImages here: the AMIs come from ec2.images
        stub_snapshots(stub)
        items = run("ec2.snapshots", {"ec2": ec2}, images)
        stub.assert_no_pending_responses()
        assert {i.resource_id: i.data["ami_ids"] for i in items} == {"snap-1": [], "snap-2": ["ami-1", "ami-2"]}
        # When the AMIs could not be read, "which AMI uses it" is unknown (None), not "none" ([]).
        stub_snapshots(stub)
        items = run("ec2.snapshots", {"ec2": ec2}, unavailable=frozenset({"ec2.images"}))
    assert {i.resource_id: i.data["ami_ids"] for i in items} == {"snap-1": None, "snap-2": None}


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
    instances = _instances(150)  # 4 queries each (CPU Maximum/Average, NetworkIn/Out): 600 -> 500 + 100
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
    assert len(by_id) == 150
    assert by_id["i-00000"]["CPUUtilization.Maximum"]["daily"] == {"2026-11-18": 9.0, "2026-11-19": 3.0}
    assert by_id["i-00000"]["CPUUtilization.Maximum"]["max"] == 9.0
    assert by_id["i-00149"]["NetworkOut.Sum"]["latest"] == 1.5  # q599: the last instance's fourth query
    assert by_id["i-00001"]["CPUUtilization.Maximum"]["datapoints"] == 0


def test_metric_batches_shrink_for_long_lookbacks():
    assert batch_size(30) == 500
    assert batch_size(365) * 365 <= 100_800 and batch_size(365) == 276


def test_ecs_container_instances_follow_next_tokens_and_describe_by_100():
    ecs = client("ecs")
    cluster = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/batch"
    hosts = [f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/batch/{n:032x}" for n in range(150)]
    registered = datetime(2026, 9, 1, tzinfo=UTC)

    def described(arns: list[str]) -> dict:
        return {"containerInstances": [{
            "containerInstanceArn": a, "ec2InstanceId": f"i-{n:05d}", "status": "ACTIVE", "runningTasksCount": 0,
            "pendingTasksCount": 1, "agentConnected": True, "registeredAt": registered,
            "capacityProviderName": "asg-cp", "tags": [{"key": "team", "value": "data"}],
            "attributes": [{"name": "ecs.ami-id", "value": "ami-1"}],
            "registeredResources": [{"name": "CPU", "type": "INTEGER", "integerValue": 2048}],
        } for n, a in enumerate(arns)], "failures": []}

    with Stubber(ecs) as stub:
        stub.add_response("list_clusters", {"clusterArns": [], "nextToken": "c2"}, {"maxResults": 100})
        stub.add_response("list_clusters", {"clusterArns": [cluster]}, {"maxResults": 100, "nextToken": "c2"})
        stub.add_response("list_container_instances", {"containerInstanceArns": hosts[:100], "nextToken": "h2"},
                          {"cluster": cluster, "maxResults": 100})
        stub.add_response("list_container_instances", {"containerInstanceArns": hosts[100:]},
                          {"cluster": cluster, "maxResults": 100, "nextToken": "h2"})
        for batch in (hosts[:100], hosts[100:]):
            stub.add_response("describe_container_instances", described(batch),
                              {"cluster": cluster, "containerInstances": batch, "include": ["TAGS"]})
        items = run("ecs.container_instances", {"ecs": ecs})
        stub.assert_no_pending_responses()
    assert len(items) == 150 and items[0].arn == hosts[0] and items[0].resource_id == f"{0:032x}"
    assert items[0].data == {
        "cluster_arn": cluster, "cluster_name": "batch", "ec2_instance_id": "i-00000", "status": "ACTIVE",
        "running_tasks": 0, "pending_tasks": 1, "registered_at": "2026-09-01T00:00:00+00:00",
        "agent_connected": True, "capacity_provider_name": "asg-cp", "tags": {"team": "data"},
    }  # attributes and registered resources are not copied


def _function(name: str, memory: int = 512) -> InventoryItem:
    return InventoryItem("lambda.functions", "lambda:function", ACCOUNT, REGION, name,
                         f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
                         {"memory_mb": memory, "architectures": ["x86_64"]})


def test_provisioned_concurrency_follows_markers_per_function():
    fn = client("lambda")

    def config(name: str, qualifier: str, requested: int) -> dict:
        return {"FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}:{qualifier}",
                "RequestedProvisionedConcurrentExecutions": requested,
                "AllocatedProvisionedConcurrentExecutions": requested,
                "AvailableProvisionedConcurrentExecutions": requested, "Status": "READY",
                "LastModified": "2026-11-01T10:00:00.000+0000"}

    with Stubber(fn) as stub:  # concurrency 1: the fan-out runs in order, so the stubs line up
        stub.add_response("list_provisioned_concurrency_configs",
                          {"ProvisionedConcurrencyConfigs": [config("api", "live", 5)], "NextMarker": "m2"},
                          {"FunctionName": "api"})
        stub.add_response("list_provisioned_concurrency_configs",
                          {"ProvisionedConcurrencyConfigs": [config("api", "7", 2)]},
                          {"FunctionName": "api", "Marker": "m2"})
        stub.add_client_error("list_provisioned_concurrency_configs", "ResourceNotFoundException",
                              http_status_code=404, expected_params={"FunctionName": "deleted-meanwhile"})
        stub.add_response("list_provisioned_concurrency_configs", {"ProvisionedConcurrencyConfigs": []},
                          {"FunctionName": "idle"})
        items = run("lambda.provisioned_concurrency", {"lambda": fn},
                    (_function("api", 2048), _function("deleted-meanwhile"), _function("idle")))
        stub.assert_no_pending_responses()
    assert [i.resource_id for i in items] == ["api:live", "api:7"]
    assert items[0].arn == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:api:live"
    assert items[0].data == {
        "function_name": "api", "qualifier": "live", "requested": 5, "allocated": 5, "available": 5,
        "status": "READY", "last_modified": "2026-11-01T10:00:00+00:00", "memory_mb": 2048,
        "architectures": ["x86_64"],
    }


def test_provisioned_concurrency_without_the_functions_is_a_gap_not_an_empty_read():
    from finops.errors import DependencyUnavailable

    with pytest.raises(DependencyUnavailable) as caught:
        run("lambda.provisioned_concurrency", {"lambda": client("lambda")},
            unavailable=frozenset({"lambda.functions"}))
    assert caught.value.collector_ids == ("lambda.functions",)


def test_ec2_reserved_instances_are_one_call_and_prices_stay_exact():
    ec2 = client("ec2")
    with Stubber(ec2) as stub:  # DescribeReservedInstances has no pagination: one call, every state
        stub.add_response("describe_reserved_instances", {"ReservedInstances": [
            {"ReservedInstancesId": "ri-1", "InstanceType": "c5.xlarge", "InstanceCount": 3, "State": "retired",
             "Start": datetime(2023, 1, 1, tzinfo=UTC), "End": datetime(2024, 1, 1, tzinfo=UTC), "Duration": 31536000,
             "FixedPrice": 0.0, "UsagePrice": 0.1, "CurrencyCode": "USD", "OfferingClass": "convertible",
             "OfferingType": "No Upfront", "Scope": "Availability Zone", "AvailabilityZone": "eu-west-1b",
             "InstanceTenancy": "dedicated", "ProductDescription": "Windows",
             "RecurringCharges": [{"Frequency": "Hourly", "Amount": 1e-05}]}]}, {})
        (item,) = run("ec2.reserved_instances", {"ec2": ec2})
        stub.assert_no_pending_responses()
    assert item.data["usage_price"] == "0.1" and item.data["fixed_price"] == "0.0"
    assert item.data["recurring_charges"] == [{"frequency": "Hourly", "amount": "0.00001"}]  # never "1e-05"
    assert (item.data["state"], item.data["scope"], item.data["availability_zone"]) == (
        "retired", "Availability Zone", "eu-west-1b")
    assert (item.data["start"], item.data["end"]) == ("2023-01-01T00:00:00+00:00", "2024-01-01T00:00:00+00:00")


def test_rds_reserved_instances_follow_marker_and_end_is_start_plus_term():
    rds = client("rds")
    start = datetime(2026, 2, 28, 6, 0, tzinfo=UTC)
    with Stubber(rds) as stub:
        stub.add_response("describe_reserved_db_instances", {"ReservedDBInstances": [
            {"ReservedDBInstanceId": "a", "StartTime": start, "Duration": 31536000, "FixedPrice": 1200.0,
             "RecurringCharges": [{"RecurringChargeFrequency": "Hourly", "RecurringChargeAmount": 0.034}]}],
            "Marker": "m2"}, {"MaxRecords": 100})
        stub.add_response("describe_reserved_db_instances", {"ReservedDBInstances": [
            {"ReservedDBInstanceId": "b", "DBInstanceClass": "db.r6g.large", "MultiAZ": False,
             "DBInstanceCount": 4, "State": "payment-pending"}]}, {"MaxRecords": 100, "Marker": "m2"})
        items = run("rds.reserved_instances", {"rds": rds})
        stub.assert_no_pending_responses()
    a, b = items
    assert (a.data["start"], a.data["end"]) == ("2026-02-28T06:00:00+00:00", "2027-02-28T06:00:00+00:00")
    assert a.data["recurring_charges"] == [{"frequency": "Hourly", "amount": "0.034"}]
    assert a.data["fixed_price"] == "1200.0" and a.arn == f"arn:aws:rds:{REGION}:{ACCOUNT}:ri:a"
    assert (b.data["count"], b.data["state"], b.data["end"], b.data["multi_az"]) == (4, "payment-pending", None, False)


def test_savings_plans_follow_next_token_by_hand():
    plans = client("savingsplans")
    with Stubber(plans) as stub:  # botocore has no paginator for DescribeSavingsPlans
        stub.add_response("describe_savings_plans", {"savingsPlans": [
            {"savingsPlanId": "sp-1", "savingsPlanType": "Compute", "commitment": "10.00", "state": "active",
             "start": "2026-01-01T00:00:00.000Z", "end": "2027-01-01T00:00:00.000Z"}], "nextToken": "t2"},
            {"maxResults": 1000})
        stub.add_response("describe_savings_plans", {"savingsPlans": [
            {"savingsPlanId": "sp-2", "savingsPlanType": "EC2Instance", "region": "eu-west-3",
             "ec2InstanceFamily": "r6g", "commitment": "0.5", "state": "retired", "termDurationInSeconds": 94608000}],
            "nextToken": ""}, {"maxResults": 1000, "nextToken": "t2"})
        items = run("savingsplans.plans", {"savingsplans": plans})
        stub.assert_no_pending_responses()
    assert [(i.resource_id, i.region) for i in items] == [("sp-1", "global"), ("sp-2", "eu-west-3")]
    assert items[0].data["commitment_per_hour"] == "10.00" and items[0].data["start"] == "2026-01-01T00:00:00+00:00"
    assert (items[1].data["ec2_instance_family"], items[1].data["term_seconds"]) == ("r6g", 94608000)


@pytest.mark.parametrize("volume_type, iops, throughput, measured", [
    ("gp3", 3000, 125, False),  # the free baseline: nothing to right-size
    ("gp3", 3001, 125, True),
    ("gp3", 3000, 126, True),
    ("io1", 100, None, True),
    ("io2", 64000, None, True),
    ("gp2", 900, None, False),
    ("st1", None, 40, False),
])
def test_only_volumes_paying_for_performance_get_ebs_metrics(volume_type, iops, throughput, measured):
    volume = InventoryItem("ec2.volumes", "ec2:volume", ACCOUNT, REGION, "vol-1",
                           f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-1",
                           {"volume_type": volume_type, "iops": iops, "throughput": throughput})
    queries = plan(CollectContext(ACCOUNT, REGION, {}, (volume,)), [])
    assert bool(queries) is measured
    if measured:
        assert [(q.namespace, q.key, q.dimensions) for q in queries] == [
            ("AWS/EBS", f"{m}.Maximum", (("VolumeId", "vol-1"),))
            for m in ("VolumeReadOps", "VolumeWriteOps", "VolumeReadBytes", "VolumeWriteBytes")
        ]


def test_metric_dimensions_of_ecs_services_provisioned_concurrency_and_buckets():
    service = InventoryItem("ecs.services", "ecs:service", ACCOUNT, REGION, "apps/api",
                            f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/apps/api",
                            {"cluster_arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/apps", "service_name": "api"})
    warm = InventoryItem("lambda.provisioned_concurrency", "lambda:provisioned-concurrency", ACCOUNT, REGION,
                         "resize:live", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:resize:live",
                         {"function_name": "resize", "qualifier": "live"})
    bucket = InventoryItem("s3.buckets", "s3:bucket", ACCOUNT, REGION, "logs", "arn:aws:s3:::logs", {})
    queries = plan(CollectContext(ACCOUNT, REGION, {}, (service, warm, bucket)), [])
    got = {(q.target.resource_id, q.key): (q.namespace, q.dimensions) for q in queries}
    assert got == {
        ("apps/api", "CPUUtilization.Maximum"): ("AWS/ECS", (("ClusterName", "apps"), ("ServiceName", "api"))),
        ("apps/api", "CPUUtilization.Average"): ("AWS/ECS", (("ClusterName", "apps"), ("ServiceName", "api"))),
        ("apps/api", "MemoryUtilization.Maximum"): ("AWS/ECS", (("ClusterName", "apps"), ("ServiceName", "api"))),
        ("resize:live", "ProvisionedConcurrencyUtilization.Maximum"): (
            "AWS/Lambda", (("FunctionName", "resize"), ("Resource", "resize:live"))),
        ("logs", "NumberOfObjects.AllStorageTypes.Average"): (
            "AWS/S3", (("BucketName", "logs"), ("StorageType", "AllStorageTypes"))),
    }
