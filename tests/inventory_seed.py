"""Seed one of every resource type the collectors read, in a region, through the customer's
own boto3 session against the local AWS. Returns the ids the tests expect to find again.

What moto cannot hold is seeded where the scanner will read it, never faked in our code paths:
- Reserved Instances (EC2, RDS), Savings Plans and Lambda provisioned concurrency are APIs moto
  5.2.5 lacks: they are loaded as front fixtures (``local_aws.load_fixtures``), which the front
  checks against botocore's output shapes and serves in the protocol's wire format;
- fields moto's APIs accept but drop (an Elastic IP's ``PublicIpv4Pool`` / ``NetworkBorderGroup``,
  RDS ``EngineLifecycleSupport``) are set on moto's own records, and reach the scanner through
  moto's real response serializer.

Secrets are planted on purpose (Lambda environment, ECS container environment and secrets, an
RDS master password) so tests can prove none of them reaches SQLite.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

from finops.sandbox.seed import CustomerAccount

PLANTED_SECRETS = {
    "lambda": "lambda-env-secret-9f3a7c",
    "ecs_env": "ecs-env-secret-4be21d",
    "ecs_secret_ref": "arn:aws:ssm:us-east-1:222222222222:parameter/ecs-secret-ref-77aa",
    "rds_password": "rds-master-secret-c0ffee",
    "access_key": "AKIAZZZZZZZZZZZZZZZZ",
}

CPU_MAX = 7.5  # the busiest day's CPUUtilization Maximum seeded for the running instance
NAT_BYTES = 123_456_789.0
RDS_CONNECTIONS = 4.0
LAMBDA_INVOCATIONS = 42.0
BUCKET_IA_BYTES = 5_000_000_000.0
NETWORK_IN_BYTES = 2_000_000.0
NETWORK_OUT_BYTES = 3_000_000.0
RDS_CPU_MAX = 35.0
LAMBDA_DURATION_MS = 1234.5
ECS_CPU_MAX = 61.0
ECS_MEMORY_MAX = 47.0
PC_UTILIZATION_MAX = 0.25
BUCKET_OBJECTS = 1500.0
VOLUME_READ_OPS_MAX = 90_000.0  # busiest minute: 1,500 IOPS
VOLUME_WRITE_BYTES_MAX = 3_145_728_000.0  # busiest minute: 50 MiB/s
BYOIP_POOL = "ipv4pool-ec2-0a1b2c3d4e5f67890"
ENGINE_LIFECYCLE = "open-source-rds-extended-support"
PROVISIONED_QUALIFIER = "live"


def reserved_instance(region: str) -> dict[str, Any]:
    """One EC2 Reserved Instance as DescribeReservedInstances returns it (a 1-year, partial upfront)."""
    return {
        "ReservedInstancesId": f"ri-{region}-0001", "InstanceType": "m5.large", "InstanceCount": 2,
        "ProductDescription": "Linux/UNIX", "State": "active",
        "Start": "2026-03-01T00:00:00.000Z", "End": "2027-03-01T00:00:00.000Z", "Duration": 31536000,
        "OfferingClass": "standard", "OfferingType": "Partial Upfront", "Scope": "Region",
        "InstanceTenancy": "default", "FixedPrice": 420.0, "UsagePrice": 0.0, "CurrencyCode": "USD",
        "RecurringCharges": [{"Frequency": "Hourly", "Amount": 0.048}],
    }


def reserved_db_instance(region: str, account_id: str) -> dict[str, Any]:
    """One RDS reserved DB instance as DescribeReservedDBInstances returns it (3 years, all upfront)."""
    return {
        "ReservedDBInstanceId": f"rdsri-{region}", "ReservedDBInstancesOfferingId": "offering-1",
        "ReservedDBInstanceArn": f"arn:aws:rds:{region}:{account_id}:ri:rdsri-{region}",
        "DBInstanceClass": "db.m5.large", "ProductDescription": "postgresql", "MultiAZ": True,
        "DBInstanceCount": 1, "StartTime": "2025-06-01T12:00:00Z", "Duration": 94608000,
        "State": "active", "OfferingType": "All Upfront", "FixedPrice": 3150.5, "UsagePrice": 0.0,
        "CurrencyCode": "USD", "RecurringCharges": [],
    }


def provisioned_concurrency(region: str, account_id: str) -> dict[str, Any]:
    return {
        "FunctionArn": f"arn:aws:lambda:{region}:{account_id}:function:resize-{region}:{PROVISIONED_QUALIFIER}",
        "RequestedProvisionedConcurrentExecutions": 10, "AllocatedProvisionedConcurrentExecutions": 10,
        "AvailableProvisionedConcurrentExecutions": 8, "Status": "READY",
        "LastModified": "2026-10-01T09:30:00.000+0000",
    }


def savings_plans(account_id: str, regions: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    """A Compute Savings Plan (applies everywhere) and one EC2 Instance Savings Plan per region."""
    plans = [{
        "savingsPlanId": "sp-compute-0001",
        "savingsPlanArn": f"arn:aws:savingsplans::{account_id}:savingsplan/sp-compute-0001",
        "savingsPlanType": "Compute", "paymentOption": "No Upfront", "commitment": "2.5",
        "upfrontPaymentAmount": "0.0", "recurringPaymentAmount": "2.5", "currency": "USD",
        "start": "2026-01-01T00:00:00.000Z", "end": "2029-01-01T00:00:00.000Z", "state": "active",
        "termDurationInSeconds": 94608000, "productTypes": ["EC2", "Fargate", "Lambda"],
    }]
    for region in regions:
        plans.append({
            "savingsPlanId": f"sp-ec2-{region}",
            "savingsPlanArn": f"arn:aws:savingsplans::{account_id}:savingsplan/sp-ec2-{region}",
            "savingsPlanType": "EC2Instance", "paymentOption": "All Upfront", "commitment": "0.75",
            "upfrontPaymentAmount": "6570.0", "recurringPaymentAmount": "0.0", "currency": "USD",
            "start": "2026-02-01T00:00:00.000Z", "end": "2027-02-01T00:00:00.000Z", "state": "active",
            "region": region, "ec2InstanceFamily": "m5", "termDurationInSeconds": 31536000, "productTypes": ["EC2"],
        })
    return plans


def seed_savings_plans(local_aws: Any, account: CustomerAccount, regions: tuple[str, ...] | list[str]) -> list[dict]:
    """The account's Savings Plans, served by the front (moto has no Savings Plans) over two pages."""
    plans = savings_plans(account.account_id, regions)
    local_aws.load_fixtures({"savingsplans:DescribeSavingsPlans": {"pages": [
        {"savingsPlans": plans[:1]}, {"savingsPlans": plans[1:]},
    ]}}, account.account_id)
    return plans


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


def seed_region(
    account: CustomerAccount, region: str, now: datetime | None = None, local_aws: Any = None
) -> dict[str, Any]:
    """Seed ``region``; return {"instances": {...}, ...} naming what was created.

    With ``local_aws``, also load the region's Reserved Instances (EC2, RDS) and Lambda
    provisioned concurrency as front fixtures for this account (without it, the front's baseline
    answers: none).
    """
    now = now or datetime.now(UTC)
    session = account.session(region)
    ec2 = session.client("ec2")
    zone = f"{region}a"
    out: dict[str, Any] = {"region": region}

    # EC2: one running, one stopped, one launched by an Auto Scaling group.
    run = ec2.run_instances(ImageId="ami-12345678", InstanceType="m5.large", MinCount=2, MaxCount=2,
                            Placement={"AvailabilityZone": zone})
    running, stopped = (i["InstanceId"] for i in run["Instances"])
    ec2.stop_instances(InstanceIds=[stopped])
    autoscaling = session.client("autoscaling")
    autoscaling.create_launch_configuration(LaunchConfigurationName=f"lc-{region}", ImageId="ami-12345678",
                                            InstanceType="t3.small")
    autoscaling.create_auto_scaling_group(AutoScalingGroupName=f"web-{region}", LaunchConfigurationName=f"lc-{region}",
                                          MinSize=1, MaxSize=1, AvailabilityZones=[zone])
    out["instances"] = {"running": running, "stopped": stopped, "asg_group": f"web-{region}"}

    # EBS: a provisioned gp3 volume, attached; its snapshot; an AMI (with its own snapshot).
    volume = ec2.create_volume(AvailabilityZone=zone, Size=300, VolumeType="gp3", Iops=4000, Throughput=250)["VolumeId"]
    ec2.attach_volume(VolumeId=volume, InstanceId=running, Device="/dev/sdf")
    # gp3 at its free baseline (3,000 IOPS, 125 MiB/s): nothing to right-size, so no EBS metrics.
    # Attached, so it is no waste either (the checks' expectations stay those of the other seeds).
    out["baseline_volume"] = ec2.create_volume(AvailabilityZone=zone, Size=50, VolumeType="gp3")["VolumeId"]
    ec2.attach_volume(VolumeId=out["baseline_volume"], InstanceId=running, Device="/dev/sdg")
    snapshot = ec2.create_snapshot(VolumeId=volume, Description="nightly")["SnapshotId"]
    image = ec2.create_image(InstanceId=running, Name=f"golden-{region}")["ImageId"]
    ami_snapshots = [
        m["Ebs"]["SnapshotId"] for m in ec2.describe_images(ImageIds=[image])["Images"][0]["BlockDeviceMappings"]
    ]
    out["volume"] = volume
    out["snapshot"] = snapshot
    out["ami"] = {"image": image, "snapshots": ami_snapshots}

    # Network: a NAT gateway with its Elastic IP.
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
    nat_eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    out["nat"] = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=nat_eip)["NatGateway"]["NatGatewayId"]
    out["nat_eip"] = nat_eip
    # An address from the customer's own range (BYOIP). moto's AllocateAddress drops PublicIpv4Pool
    # and never sets NetworkBorderGroup: they are set on moto's records, as AWS reports them.
    byoip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=byoip, InstanceId=stopped)  # in use: not an idle-EIP finding
    from moto.ec2.models import ec2_backends

    for address in ec2_backends[account.account_id][region].describe_addresses():
        address.public_ipv4_pool = BYOIP_POOL if address.allocation_id == byoip else "amazon"
        address.network_border_group = region
    out["byoip_eip"] = byoip

    # RDS: an instance, an Aurora cluster, a manual snapshot of each.
    rds = session.client("rds")
    rds.create_db_instance(DBInstanceIdentifier=f"orders-{region}", DBInstanceClass="db.m5.large", Engine="postgres",
                           AllocatedStorage=100, MaxAllocatedStorage=500, MasterUsername="dbadmin",
                           MasterUserPassword=PLANTED_SECRETS["rds_password"], MultiAZ=True,
                           EngineLifecycleSupport=ENGINE_LIFECYCLE)
    rds.create_db_cluster(DBClusterIdentifier=f"analytics-{region}", Engine="aurora-postgresql",
                          MasterUsername="dbadmin", MasterUserPassword=PLANTED_SECRETS["rds_password"],
                          ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 16},
                          EngineLifecycleSupport=ENGINE_LIFECYCLE)
    from moto.rds.models import rds_backends

    rds_backend = rds_backends[account.account_id][region]  # moto accepts EngineLifecycleSupport, drops it
    rds_backend.databases[f"orders-{region}"].engine_lifecycle_support = ENGINE_LIFECYCLE
    rds_backend.clusters[f"analytics-{region}"].engine_lifecycle_support = ENGINE_LIFECYCLE
    rds.create_db_snapshot(DBSnapshotIdentifier=f"orders-manual-{region}", DBInstanceIdentifier=f"orders-{region}")
    rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier=f"analytics-manual-{region}",
                                   DBClusterIdentifier=f"analytics-{region}")
    out["rds"] = {
        "instance": f"orders-{region}", "cluster": f"analytics-{region}",
        "snapshot": f"orders-manual-{region}", "cluster_snapshot": f"analytics-manual-{region}",
    }

    # ECS: a Fargate service whose task definition carries environment and secrets.
    ecs = session.client("ecs")
    ecs.create_cluster(clusterName=f"apps-{region}")
    ecs.register_task_definition(
        family="api", cpu="512", memory="1024", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
        runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        containerDefinitions=[{
            "name": "api", "image": "example/api:1", "cpu": 512, "memory": 1024,
            "environment": [{"name": "DB_PASSWORD", "value": PLANTED_SECRETS["ecs_env"]}],
            "secrets": [{"name": "TOKEN", "valueFrom": PLANTED_SECRETS["ecs_secret_ref"]}],
            "command": ["serve", "--api-key", PLANTED_SECRETS["access_key"]],
        }],
    )
    ecs.create_service(cluster=f"apps-{region}", serviceName="api", taskDefinition="api", desiredCount=3,
                       launchType="FARGATE")
    # The running instance joins the cluster as a container instance (the ECS agent's registration).
    host = ecs.register_container_instance(cluster=f"apps-{region}", instanceIdentityDocument=json.dumps(
        {"instanceId": running, "region": region, "availabilityZone": zone, "instanceType": "m5.large"}
    ))["containerInstance"]
    out["ecs"] = {"cluster": f"apps-{region}", "service": "api", "container_instance": host["containerInstanceArn"]}

    # Lambda: an arm64 function with environment variables (which must never be stored).
    role = session.client("iam").create_role(
        RoleName=f"fn-role-{region}", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    session.client("lambda").create_function(
        FunctionName=f"resize-{region}", Runtime="python3.12", Role=role, Handler="handler.handler",
        Code={"ZipFile": _zip()}, MemorySize=1024, Architectures=["arm64"], Timeout=30,
        Environment={"Variables": {"API_TOKEN": PLANTED_SECRETS["lambda"]}},
    )
    out["lambda"] = f"resize-{region}"
    out["provisioned_concurrency"] = f"resize-{region}:{PROVISIONED_QUALIFIER}"

    # Commitments and provisioned concurrency: APIs moto lacks, served by the front for this account.
    if local_aws is not None:
        local_aws.load_fixtures({
            f"ec2:DescribeReservedInstances?region={region}": {"pages": [{"ReservedInstances": [
                reserved_instance(region)]}]},
            f"rds:DescribeReservedDBInstances?region={region}": {"pages": [{"ReservedDBInstances": [
                reserved_db_instance(region, account.account_id)]}]},
            f"lambda:ListProvisionedConcurrencyConfigs?region={region}&FunctionName=resize-{region}": {"pages": [
                {"ProvisionedConcurrencyConfigs": [provisioned_concurrency(region, account.account_id)]}]},
        }, account.account_id)
        out["reserved_instance"] = f"ri-{region}-0001"
        out["reserved_db_instance"] = f"rdsri-{region}"

    # S3: a bucket in this region with versioning and a lifecycle rule.
    s3 = session.client("s3")
    bucket = f"finops-test-{region}"
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [{
        "ID": "logs-to-ia", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
        "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
        "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
    }]})
    s3.put_object(Bucket=bucket, Key="logs/a.txt", Body=b"x" * 2048)
    out["bucket"] = bucket

    # CloudWatch: the series AWS would publish for these resources, two and three days ago.
    cloudwatch = session.client("cloudwatch")
    days = [now - timedelta(days=2), now - timedelta(days=3)]

    def put(namespace: str, name: str, dims: dict[str, str], values: list[float]) -> None:
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": name, "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
             "Timestamp": day, "Value": value}
            for day, value in zip(days, values, strict=True)
        ])

    put("AWS/EC2", "CPUUtilization", {"InstanceId": running}, [CPU_MAX, 2.5])
    put("AWS/EC2", "NetworkIn", {"InstanceId": running}, [NETWORK_IN_BYTES, 0.0])
    put("AWS/EC2", "NetworkOut", {"InstanceId": running}, [NETWORK_OUT_BYTES, 0.0])
    put("AWS/NATGateway", "BytesOutToDestination", {"NatGatewayId": out["nat"]}, [NAT_BYTES, 0.0])
    put("AWS/RDS", "DatabaseConnections", {"DBInstanceIdentifier": f"orders-{region}"}, [RDS_CONNECTIONS, 1.0])
    put("AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": f"orders-{region}"}, [RDS_CPU_MAX, 5.0])
    put("AWS/Lambda", "Invocations", {"FunctionName": f"resize-{region}"}, [LAMBDA_INVOCATIONS, 0.0])
    put("AWS/Lambda", "Duration", {"FunctionName": f"resize-{region}"}, [LAMBDA_DURATION_MS, 0.0])
    put("AWS/Lambda", "ProvisionedConcurrencyUtilization",
        {"FunctionName": f"resize-{region}", "Resource": out["provisioned_concurrency"]}, [PC_UTILIZATION_MAX, 0.1])
    put("AWS/ECS", "CPUUtilization", {"ClusterName": f"apps-{region}", "ServiceName": "api"}, [ECS_CPU_MAX, 20.0])
    put("AWS/ECS", "MemoryUtilization", {"ClusterName": f"apps-{region}", "ServiceName": "api"},
        [ECS_MEMORY_MAX, 30.0])
    put("AWS/S3", "BucketSizeBytes", {"BucketName": bucket, "StorageType": "StandardIAStorage"},
        [BUCKET_IA_BYTES, BUCKET_IA_BYTES - 1])
    put("AWS/S3", "NumberOfObjects", {"BucketName": bucket, "StorageType": "AllStorageTypes"},
        [BUCKET_OBJECTS, BUCKET_OBJECTS - 1])
    put("AWS/EBS", "VolumeReadOps", {"VolumeId": volume}, [VOLUME_READ_OPS_MAX, 600.0])
    put("AWS/EBS", "VolumeWriteBytes", {"VolumeId": volume}, [VOLUME_WRITE_BYTES_MAX, 1024.0])
    put("AWS/EBS", "VolumeReadOps", {"VolumeId": out["baseline_volume"]}, [10.0, 10.0])  # must not be queried
    return out
