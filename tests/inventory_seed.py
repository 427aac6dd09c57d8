"""Seed one of every resource type the collectors read, in a region, through the customer's
own boto3 session against the local AWS. Returns the ids the tests expect to find again.

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


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


def seed_region(account: CustomerAccount, region: str, now: datetime | None = None) -> dict[str, Any]:
    """Seed ``region``; return {"instances": {...}, ...} naming what was created."""
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

    # RDS: an instance, an Aurora cluster, a manual snapshot of each.
    rds = session.client("rds")
    rds.create_db_instance(DBInstanceIdentifier=f"orders-{region}", DBInstanceClass="db.m5.large", Engine="postgres",
                           AllocatedStorage=100, MasterUsername="dbadmin",
                           MasterUserPassword=PLANTED_SECRETS["rds_password"], MultiAZ=True)
    rds.create_db_cluster(DBClusterIdentifier=f"analytics-{region}", Engine="aurora-postgresql",
                          MasterUsername="dbadmin", MasterUserPassword=PLANTED_SECRETS["rds_password"])
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
    out["ecs"] = {"cluster": f"apps-{region}", "service": "api"}

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
    put("AWS/NATGateway", "BytesOutToDestination", {"NatGatewayId": out["nat"]}, [NAT_BYTES, 0.0])
    put("AWS/RDS", "DatabaseConnections", {"DBInstanceIdentifier": f"orders-{region}"}, [RDS_CONNECTIONS, 1.0])
    put("AWS/Lambda", "Invocations", {"FunctionName": f"resize-{region}"}, [LAMBDA_INVOCATIONS, 0.0])
    put("AWS/S3", "BucketSizeBytes", {"BucketName": bucket, "StorageType": "StandardIAStorage"},
        [BUCKET_IA_BYTES, BUCKET_IA_BYTES - 1])
    return out
