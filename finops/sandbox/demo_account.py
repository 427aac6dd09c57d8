"""The demo customer account: a small company's AWS estate on which every savings check fires.

    demo = seed_demo_account(customer)            # resources, history and CloudWatch series in moto
    load_demo_cost_data(local_aws, demo)          # Cost Explorer, COH, RIs/Savings Plans, ... in the front

Resources look real (names, tags, sizes, ages) and come with busy look-alikes that must not be
told to stop or be deleted: a busy web server, a NAT gateway carrying traffic, a database with
connections. Ages AWS cannot be asked to fake (a volume created 45 days ago, an instance stopped
two months ago, a 200-day-old snapshot) are set in the local AWS's own state. CloudWatch series
are written as AWS would publish them, one value per day over the last 30 days. The Cost
Optimization Hub recommendations name the demo's real resources, several of them also flagged by
a native check, so the merge can be seen; resource-level costs cap two estimates.

Everything priced is in us-east-1, where the bundled catalogue has every price; one volume in
eu-west-1 shows regional pricing.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from finops.sandbox.seed import CustomerAccount

REGION = "us-east-1"
SECOND_REGION = "eu-west-1"
OTHER_ACCOUNT = "333333333333"  # a member account a management account's COH would also show
DAYS = 30  # the metric series cover the default lookback
GB = 10**9
GIB = 2**30


@dataclass
class DemoAccount:
    """What was seeded: resource ids by role, and when."""

    account_id: str
    now: datetime
    ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.ids[name]


def _days_ago(now: datetime, days: float) -> datetime:
    return now - timedelta(days=days)


def _tags(**tags: str) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buf.getvalue()


class _Metrics:
    """One value per day for the last DAYS days, written as CloudWatch data points."""

    def __init__(self, client: Any, now: datetime):
        self.client = client
        self.days = [
            (now - timedelta(days=n)).replace(hour=12, minute=0, second=0, microsecond=0) for n in range(1, DAYS + 1)
        ]

    def put(self, namespace: str, name: str, dims: dict[str, str], *per_day: float) -> None:
        """``per_day``: one or more values written for every day (their max / average / sum apply)."""
        data = [
            {"MetricName": name, "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
             "Timestamp": day + timedelta(minutes=n), "Value": value}
            for day in self.days for n, value in enumerate(per_day)
        ]
        for start in range(0, len(data), 500):
            self.client.put_metric_data(Namespace=namespace, MetricData=data[start:start + 500])


def seed_demo_account(account: CustomerAccount, now: datetime | None = None) -> DemoAccount:
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    demo = DemoAccount(account.account_id, now)
    session = account.session(REGION)
    ec2 = session.client("ec2")
    metrics = _Metrics(session.client("cloudwatch"), now)
    _seed_ec2(account, demo, ec2, metrics)
    _seed_network(account, demo, ec2, metrics)
    _seed_rds(account, demo, session.client("rds"), metrics)
    _seed_ecs(account, demo, session, ec2, metrics)
    _seed_lambda(demo, session, metrics)
    _seed_s3(demo, session.client("s3"), metrics)
    west = account.session(SECOND_REGION).client("ec2")
    demo.ids["eu_unattached_volume"] = west.create_volume(
        AvailabilityZone=f"{SECOND_REGION}b", Size=200, VolumeType="gp3",
        TagSpecifications=[{"ResourceType": "volume", "Tags": _tags(Name="eu-migration-scratch")}],
    )["VolumeId"]
    _backdate_volume(account, SECOND_REGION, demo["eu_unattached_volume"], 40)
    return demo


# -- EC2 and EBS -----------------------------------------------------------------------------------
def _run(account: CustomerAccount, ec2: Any, name: str, instance_type: str, **extra: Any) -> str:
    instance_id = ec2.run_instances(
        ImageId="ami-12345678", InstanceType=instance_type, MinCount=1, MaxCount=1,
        Placement={"AvailabilityZone": f"{REGION}a"},
        TagSpecifications=[{"ResourceType": "instance", "Tags": _tags(Name=name, **extra)}],
    )["Instances"][0]["InstanceId"]
    _launched_ago(account, instance_id, 400)  # running for more than a year, like the rest of the estate
    return instance_id


def _volume(ec2: Any, name: str, size: int, volume_type: str, **extra: Any) -> str:
    return ec2.create_volume(
        AvailabilityZone=f"{REGION}a", Size=size, VolumeType=volume_type,
        TagSpecifications=[{"ResourceType": "volume", "Tags": _tags(Name=name)}], **extra,
    )["VolumeId"]


def _seed_ec2(account: CustomerAccount, demo: DemoAccount, ec2: Any, metrics: _Metrics) -> None:
    ids = demo.ids
    # Busy web server: Graviton candidate, never idle. A 500 GiB gp2 data volume: gp2 -> gp3.
    ids["web_frontend"] = _run(account, ec2, "web-frontend", "m5.xlarge", Environment="production")
    ids["web_data_volume"] = _volume(ec2, "web-frontend-data", 500, "gp2")
    ec2.attach_volume(VolumeId=ids["web_data_volume"], InstanceId=ids["web_frontend"], Device="/dev/sdf")
    # Over-sized worker (COH agrees: Rightsize) with an over-provisioned gp3 volume.
    ids["api_worker"] = _run(account, ec2, "api-worker", "m5.2xlarge", Environment="production")
    ids["gp3_volume"] = _volume(ec2, "api-worker-scratch", 300, "gp3", Iops=10000, Throughput=500)
    ec2.attach_volume(VolumeId=ids["gp3_volume"], InstanceId=ids["api_worker"], Device="/dev/sdf")
    # An idle bastion nobody logs into (COH agrees: Stop).
    ids["idle_bastion"] = _run(account, ec2, "staging-bastion", "t3.medium", Environment="staging")
    # A previous-generation cron box with an io1 volume gp3 can serve.
    ids["billing_cron"] = _run(account, ec2, "billing-cron", "m4.large", Environment="production")
    ids["io1_volume"] = _volume(ec2, "billing-cron-db", 200, "io1", Iops=5000)
    ec2.attach_volume(VolumeId=ids["io1_volume"], InstanceId=ids["billing_cron"], Device="/dev/sdf")
    # Stopped two months ago, still paying for a 200 GiB volume and an Elastic IP.
    ids["stopped"] = _run(account, ec2, "legacy-reporting", "m5.large", Environment="production")
    ids["stopped_volume"] = _volume(ec2, "legacy-reporting-data", 200, "gp2")
    ec2.attach_volume(VolumeId=ids["stopped_volume"], InstanceId=ids["stopped"], Device="/dev/sdf")
    ids["stopped_eip"] = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=ids["stopped_eip"], InstanceId=ids["stopped"])
    ec2.stop_instances(InstanceIds=[ids["stopped"]])
    _stopped_since(account, ids["stopped"], _days_ago(demo.now, 64))
    # Waste nobody owns: a build cache volume (COH agrees: Delete) and an unassociated address.
    ids["unattached_volume"] = _volume(ec2, "old-build-cache", 100, "gp2")
    _backdate_volume(account, REGION, ids["unattached_volume"], 45)
    ids["spare_eip"] = ec2.allocate_address(Domain="vpc")["AllocationId"]
    # Snapshots: an old one of a live volume (with a newer one after it), and one whose volume is gone.
    ids["old_snapshot"] = ec2.create_snapshot(
        VolumeId=ids["web_data_volume"], Description="before-upgrade")["SnapshotId"]
    ec2.create_snapshot(VolumeId=ids["web_data_volume"], Description="nightly")
    _backdate_snapshot(account, ids["old_snapshot"], 200)
    gone = _volume(ec2, "decommissioned-etl", 150, "gp2")
    ids["orphaned_snapshot"] = ec2.create_snapshot(VolumeId=gone, Description="etl-final")["SnapshotId"]
    ec2.delete_volume(VolumeId=gone)
    _backdate_snapshot(account, ids["orphaned_snapshot"], 120)
    # A golden image from 2025 whose instances are long gone.
    builder = _run(account, ec2, "ami-builder", "t3.micro")
    ids["unused_ami"] = ec2.create_image(InstanceId=builder, Name="golden-2025-q2")["ImageId"]
    ec2.terminate_instances(InstanceIds=[builder])
    _backdate_image(account, ids["unused_ami"], 150)

    cpu, net = ("AWS/EC2", "CPUUtilization"), ("AWS/EC2", "NetworkIn")
    for key, values, traffic in (
        ("web_frontend", (40.0, 70.0), 20 * GB),  # busy: average 55 %, maximum 70 %
        ("api_worker", (2.0, 22.0), 2 * GB),  # peaks at 22 %: one size smaller is enough
        ("idle_bastion", (0.4,), 0.5e6),  # idle: 0.4 % and half a megabyte a day
        ("billing_cron", (30.0, 75.0), 1 * GB),
    ):
        dims = {"InstanceId": ids[key]}
        metrics.put(*cpu, dims, *values)
        metrics.put(net[0], "NetworkIn", dims, traffic / 2)
        metrics.put(net[0], "NetworkOut", dims, traffic / 2)
    # gp3 volume: the busiest minute of each day does 1,200 I/O per second and 40 MiB/s.
    vol = {"VolumeId": ids["gp3_volume"]}
    metrics.put("AWS/EBS", "VolumeReadOps", vol, 800 * 60)
    metrics.put("AWS/EBS", "VolumeWriteOps", vol, 400 * 60)
    metrics.put("AWS/EBS", "VolumeReadBytes", vol, 30 * 2**20 * 60)
    metrics.put("AWS/EBS", "VolumeWriteBytes", vol, 10 * 2**20 * 60)
    io1 = {"VolumeId": ids["io1_volume"]}
    for name in ("VolumeReadOps", "VolumeWriteOps"):
        metrics.put("AWS/EBS", name, io1, 2000 * 60)


def _seed_network(account: CustomerAccount, demo: DemoAccount, ec2: Any, metrics: _Metrics) -> None:
    ids = demo.ids
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    for key, cidr, name, traffic in (("idle_nat", "10.20.1.0/24", "nat-staging", None),
                                     ("busy_nat", "10.20.2.0/24", "nat-production", 50 * GB)):
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        ids[f"{key}_eip"] = allocation
        ids[key] = ec2.create_nat_gateway(
            SubnetId=subnet, AllocationId=allocation,
            TagSpecifications=[{"ResourceType": "natgateway", "Tags": _tags(Name=name)}],
        )["NatGateway"]["NatGatewayId"]
        _backdate_nat(account, ids[key], 60)
        if traffic:
            metrics.put("AWS/NATGateway", "BytesOutToDestination", {"NatGatewayId": ids[key]}, traffic)
            metrics.put("AWS/NATGateway", "BytesInFromDestination", {"NatGatewayId": ids[key]}, traffic / 4)


# -- RDS -------------------------------------------------------------------------------------------
def _seed_rds(account: CustomerAccount, demo: DemoAccount, rds: Any, metrics: _Metrics) -> None:
    ids = demo.ids
    password = "demo-only-not-a-secret-1"  # noqa: S105 - the local AWS's demo database

    def db(name: str, engine: str, db_class: str, version: str | None = None, **extra: Any) -> str:
        params: dict[str, Any] = dict(
            DBInstanceIdentifier=name, DBInstanceClass=db_class, Engine=engine, AllocatedStorage=100,
            MasterUsername="dbadmin", MasterUserPassword=password, StorageType="gp2",
            Tags=_tags(Name=name, **extra.pop("tags", {})),
        )
        if version:
            params["EngineVersion"] = version
        params.update(extra)
        rds.create_db_instance(**params)
        _backdate_db(account, name, 400)
        return name

    ids["orders_db"] = db("orders-db", "postgres", "db.m5.xlarge", tags={"Environment": "production"})
    ids["idle_db"] = db("reports-replica", "postgres", "db.m5.large", tags={"Environment": "production"})
    ids["legacy_db"] = db("legacy-crm", "mysql", "db.m4.large", "8.4.3", tags={"Environment": "production"})
    ids["extended_db"] = db("analytics-57", "mysql", "db.m5.large", "5.7.44", tags={"Environment": "production"})
    ids["io1_db"] = db("ledger-db", "postgres", "db.m5.large", StorageType="io1", AllocatedStorage=400, Iops=3000,
                       tags={"Environment": "production"})
    ids["qa_db"] = db("qa-db", "postgres", "db.m5.large", MultiAZ=True, tags={"Environment": "staging"})
    rds.create_db_cluster(DBClusterIdentifier="events-aurora", Engine="aurora-postgresql", EngineVersion="16.4",
                          MasterUsername="dbadmin", MasterUserPassword=password)
    cluster = _rds(account).clusters["events-aurora"]
    cluster.created -= timedelta(days=300)
    cluster.cluster_create_time = cluster.created
    rds.create_db_instance(DBInstanceIdentifier="events-aurora-1", DBInstanceClass="db.r6g.large",
                           Engine="aurora-postgresql", DBClusterIdentifier="events-aurora")
    _backdate_db(account, "events-aurora-1", 300)
    ids["idle_cluster"], ids["idle_cluster_member"] = "events-aurora", "events-aurora-1"
    # Manual snapshots: one old snapshot of a live database, one of a database deleted since.
    rds.create_db_snapshot(DBSnapshotIdentifier="orders-db-pre-migration", DBInstanceIdentifier="orders-db")
    _backdate_db_snapshot(account, "orders-db-pre-migration", 150)
    db("crm-2019", "postgres", "db.t3.medium")
    rds.create_db_snapshot(DBSnapshotIdentifier="crm-2019-final", DBInstanceIdentifier="crm-2019")
    rds.delete_db_instance(DBInstanceIdentifier="crm-2019", SkipFinalSnapshot=True)
    _backdate_db_snapshot(account, "crm-2019-final", 60)
    ids["old_db_snapshot"], ids["orphaned_db_snapshot"] = "orders-db-pre-migration", "crm-2019-final"

    for name, connections, cpu in (
        ("orders-db", 40.0, 15.0),  # busy: never idle, but one size too big
        ("reports-replica", 0.0, 3.0),  # nobody connects
        ("legacy-crm", 12.0, 50.0), ("analytics-57", 8.0, 60.0), ("ledger-db", 20.0, 45.0), ("qa-db", 3.0, 35.0),
        ("events-aurora-1", 0.0, 4.0),
    ):
        dims = {"DBInstanceIdentifier": name}
        metrics.put("AWS/RDS", "DatabaseConnections", dims, connections)
        metrics.put("AWS/RDS", "CPUUtilization", dims, cpu)


# -- ECS -------------------------------------------------------------------------------------------
def _seed_ecs(account: CustomerAccount, demo: DemoAccount, session: Any, ec2: Any, metrics: _Metrics) -> None:
    ids = demo.ids
    ecs = session.client("ecs")
    ecs.create_cluster(clusterName="apps")
    for family, cpu, memory in (("thumbnail-api", "1024", "2048"), ("legacy-sync", "512", "1024")):
        ecs.register_task_definition(
            family=family, cpu=cpu, memory=memory, requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
            containerDefinitions=[{"name": family, "image": f"example/{family}:1", "essential": True}],
        )
    ecs.create_service(cluster="apps", serviceName="thumbnail-api", taskDefinition="thumbnail-api", desiredCount=2,
                       launchType="FARGATE")
    ecs.create_service(cluster="apps", serviceName="legacy-sync", taskDefinition="legacy-sync", desiredCount=1,
                       launchType="FARGATE")
    _backdate_services(account, "apps", 200)
    _set_running(account, "apps", {"thumbnail-api": 2, "legacy-sync": 1})
    ids["busy_service"], ids["idle_service"] = "apps/thumbnail-api", "apps/legacy-sync"
    for service, cpu in (("thumbnail-api", 30.0), ("legacy-sync", 0.2)):
        metrics.put("AWS/ECS", "CPUUtilization", {"ClusterName": "apps", "ServiceName": service}, cpu)
    # An EC2-backed cluster whose only container instance has run nothing for three weeks.
    ecs.create_cluster(clusterName="batch")
    ids["batch_node"] = _run(account, ec2, "batch-node-1", "m5.large", Environment="production")
    document = json.dumps({"instanceId": ids["batch_node"], "region": REGION, "accountId": account.account_id})
    arn = ecs.register_container_instance(cluster="batch", instanceIdentityDocument=document)[
        "containerInstance"]["containerInstanceArn"]
    ids["idle_container_instance"] = arn.rsplit("/", 1)[-1]
    _backdate_container_instances(account, "batch", 21)
    metrics.put("AWS/EC2", "CPUUtilization", {"InstanceId": ids["batch_node"]}, 0.3)


# -- Lambda ----------------------------------------------------------------------------------------
def _seed_lambda(demo: DemoAccount, session: Any, metrics: _Metrics) -> None:
    role = session.client("iam").create_role(
        RoleName="demo-lambda-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    )["Role"]["Arn"]
    lam = session.client("lambda")
    for name, memory in (("image-resizer", 1024), ("checkout-api", 2048)):
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="handler.handler",
                            Code={"ZipFile": _zip()}, MemorySize=memory, Architectures=["x86_64"], Timeout=30)
    demo.ids["x86_function"], demo.ids["pc_function"] = "image-resizer", "checkout-api"
    # image-resizer runs 1 hour of compute a day (3,600,000 ms) over 40,000 invocations.
    metrics.put("AWS/Lambda", "Duration", {"FunctionName": "image-resizer"}, 3_600_000.0)
    metrics.put("AWS/Lambda", "Invocations", {"FunctionName": "image-resizer"}, 40_000.0)
    # checkout-api keeps 10 provisioned environments on its "live" alias that almost nothing uses.
    metrics.put("AWS/Lambda", "Invocations", {"FunctionName": "checkout-api"}, 120.0)
    metrics.put("AWS/Lambda", "Duration", {"FunctionName": "checkout-api"}, 24_000.0)
    metrics.put("AWS/Lambda", "ProvisionedConcurrencyUtilization",
                {"FunctionName": "checkout-api", "Resource": "checkout-api:live"}, 0.02)


# -- S3 --------------------------------------------------------------------------------------------
def _seed_s3(demo: DemoAccount, s3: Any, metrics: _Metrics) -> None:
    archive, uploads = "acme-logs-archive", "acme-app-uploads"
    s3.create_bucket(Bucket=archive)
    s3.create_bucket(Bucket=uploads)
    s3.put_bucket_versioning(Bucket=uploads, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=uploads, LifecycleConfiguration={"Rules": [{
        "ID": "old-uploads-to-ia", "Status": "Enabled", "Filter": {"Prefix": ""},
        "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
    }]})
    demo.ids["archive_bucket"], demo.ids["uploads_bucket"] = archive, uploads
    for bucket, standard, objects in ((archive, 2048 * GIB, 4_000_000), (uploads, 300 * GIB, 900_000)):
        metrics.put("AWS/S3", "BucketSizeBytes", {"BucketName": bucket, "StorageType": "StandardStorage"},
                    float(standard))
        metrics.put("AWS/S3", "NumberOfObjects", {"BucketName": bucket, "StorageType": "AllStorageTypes"},
                    float(objects))


# -- what AWS cannot be asked to fake: ages, stop times, running counts -------------------------------
def _ec2(account: CustomerAccount, region: str = REGION) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account.account_id][region]


def _backdate_volume(account: CustomerAccount, region: str, volume_id: str, days: float) -> None:
    volume = _ec2(account, region).get_volume(volume_id)
    volume.create_time -= timedelta(days=days)


def _backdate_snapshot(account: CustomerAccount, snapshot_id: str, days: float) -> None:
    snapshot = _ec2(account).get_snapshot(snapshot_id)
    snapshot.start_time -= timedelta(days=days)


def _backdate_image(account: CustomerAccount, image_id: str, days: float) -> None:
    image = _ec2(account).describe_images(ami_ids=[image_id])[0]
    image.creation_date -= timedelta(days=days)


def _launched_ago(account: CustomerAccount, instance_id: str, days: float) -> None:
    _ec2(account).get_instance(instance_id).launch_time -= timedelta(days=days)


def _stopped_since(account: CustomerAccount, instance_id: str, when: datetime) -> None:
    instance = _ec2(account).get_instance(instance_id)
    instance._reason = f"User initiated ({when.strftime('%Y-%m-%d %H:%M:%S')} GMT)"
    instance.launch_time = when - timedelta(days=300)


def _backdate_nat(account: CustomerAccount, nat_id: str, days: float) -> None:
    nat = _ec2(account).nat_gateways[nat_id]
    nat._created_at -= timedelta(days=days)


def _rds(account: CustomerAccount) -> Any:
    from moto.rds.models import rds_backends

    return rds_backends[account.account_id][REGION]


def _backdate_db(account: CustomerAccount, name: str, days: float) -> None:
    database = _rds(account).databases[name]
    database.created -= timedelta(days=days)
    database.instance_create_time = database.created


def _backdate_db_snapshot(account: CustomerAccount, name: str, days: float) -> None:
    snapshot = _rds(account).database_snapshots[name]
    snapshot.created -= timedelta(days=days)


def _ecs(account: CustomerAccount) -> Any:
    from moto.ecs.models import ecs_backends

    return ecs_backends[account.account_id][REGION]


def _services(account: CustomerAccount, cluster: str) -> Any:
    for pair, service in _ecs(account).services.items():  # keyed "cluster:service"
        cluster_name, _, name = pair.partition(":")
        if cluster_name == cluster:
            yield name, service


def _backdate_services(account: CustomerAccount, cluster: str, days: float) -> None:
    """moto's services carry no creation time; AWS's do (createdAt): give them one, ``days`` ago."""
    for _, service in _services(account, cluster):
        service.created_at = datetime.now(UTC) - timedelta(days=days)


def _set_running(account: CustomerAccount, cluster: str, counts: dict[str, int]) -> None:
    """moto starts no tasks for a service: set the running count AWS would report."""
    for name, service in _services(account, cluster):
        if name in counts:
            service.running_count = counts[name]
            service.pending_count = 0


def _backdate_container_instances(account: CustomerAccount, cluster: str, days: float) -> None:
    for instance in _ecs(account).container_instances.get(cluster, {}).values():
        instance.registered_at -= timedelta(days=days)


# -- cost data, commitments and the APIs moto lacks, served by the front --------------------------------
def _rec(demo: DemoAccount, n: int, resource_id: str, arn: str, resource_type: str, action: str, savings: float,
         cost: float, current: str, recommended: str, effort: str, restart: bool, rollback: bool,
         account: str | None = None, region: str = REGION) -> dict[str, Any]:
    return {
        "recommendationId": f"rec-demo-{n:04d}", "accountId": account or demo.account_id, "region": region,
        "resourceId": resource_id, "resourceArn": arn, "currentResourceType": resource_type,
        "recommendedResourceType": resource_type, "estimatedMonthlySavings": savings,
        "estimatedSavingsPercentage": round(100 * savings / cost, 1) if cost else 0.0,
        "estimatedMonthlyCost": cost, "currencyCode": "USD", "implementationEffort": effort, "restartNeeded": restart,
        "rollbackPossible": rollback, "actionType": action, "currentResourceSummary": current,
        "recommendedResourceSummary": recommended,
        "lastRefreshTimestamp": (demo.now - timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "recommendationLookbackPeriodInDays": 14, "source": "ComputeOptimizer",
    }


def coh_recommendations(demo: DemoAccount) -> list[dict[str, Any]]:
    """Cost Optimization Hub's answer for the demo: AWS's own figures, naming the demo's resources.

    Six overlap native findings with the same action (merged: both sources), one names a
    resource FinOps Pack does not inventory (a finding of its own), two are commitment purchases
    (overlapping: one counted), and two are outside the review (another account; an unscanned
    region) and are left out.
    """
    acct, ids = demo.account_id, demo.ids

    def ec2_arn(kind: str, key: str) -> str:
        return f"arn:aws:ec2:{REGION}:{acct}:{kind}/{ids[key]}"

    return [
        _rec(demo, 1, ids["api_worker"], ec2_arn("instance", "api_worker"), "Ec2Instance", "Rightsize", 135.78, 271.56,
             "m5.2xlarge", "m5.xlarge", "Medium", True, True),
        _rec(demo, 2, ids["idle_bastion"], ec2_arn("instance", "idle_bastion"), "Ec2Instance", "Stop", 29.20, 29.20,
             "t3.medium", "Stop", "Low", True, True),
        _rec(demo, 3, ids["unattached_volume"], ec2_arn("volume", "unattached_volume"), "EbsVolume", "Delete", 9.50,
             9.50, "100 GiB gp2", "Delete", "VeryLow", False, False),
        _rec(demo, 4, "legacy-crm", f"arn:aws:rds:{REGION}:{acct}:db:legacy-crm", "RdsDbInstance", "Upgrade", 9.49,
             248.20, "db.m4.large MySQL", "db.m5.large MySQL", "Medium", True, True),
        _rec(demo, 5, f"arn:aws:lambda:{REGION}:{acct}:function:image-resizer",
             f"arn:aws:lambda:{REGION}:{acct}:function:image-resizer", "LambdaFunction", "MigrateToGraviton", 3.40,
             18.25, "x86_64, 1024 MB", "arm64, 1024 MB", "Low", False, True),
        _rec(demo, 6, "apps/legacy-sync", f"arn:aws:ecs:{REGION}:{acct}:service/apps/legacy-sync", "EcsService",
             "ScaleIn", 17.50, 17.99, "1 task, 0.5 vCPU, 1 GB", "0 tasks", "Low", False, True),
        _rec(demo, 7, "sessions", f"arn:aws:dynamodb:{REGION}:{acct}:table/sessions", "DynamoDBTable", "Rightsize",
             22.40, 64.00, "provisioned 200 RCU / 100 WCU", "on-demand capacity", "Low", False, True),
        _rec(demo, 8, acct, f"arn:aws:savingsplans::{acct}:savingsplan/recommended", "ComputeSavingsPlans",
             "PurchaseSavingsPlans", 96.36, 730.00, "$1.00/hour On-Demand spend", "$0.72/hour, 1 year, No Upfront",
             "VeryLow", False, False, region="global"),
        _rec(demo, 9, acct, f"arn:aws:ec2:{REGION}:{acct}:reserved-instances/recommended", "Ec2ReservedInstances",
             "PurchaseReservedInstances", 61.32, 280.32, "4 x m5.large On-Demand", "4 x m5.large, 1 year, No Upfront",
             "VeryLow", False, False),
        _rec(demo, 10, "i-0otheraccount000", f"arn:aws:ec2:{REGION}:{OTHER_ACCOUNT}:instance/i-0otheraccount000",
             "Ec2Instance", "Stop", 70.08, 70.08, "m5.large", "Stop", "Low", True, True, account=OTHER_ACCOUNT),
        _rec(demo, 11, "vol-0saopaulo0000000", f"arn:aws:ec2:sa-east-1:{acct}:volume/vol-0saopaulo0000000",
             "EbsVolume", "Delete", 15.20, 15.20, "100 GiB gp2", "Delete", "VeryLow", False, False, region="sa-east-1"),
    ]


def resource_costs(demo: DemoAccount) -> list[tuple[str, str, float]]:
    """(service, resource id, cost per day) for 14 days: what resource-level Cost Explorer reports."""
    acct, ids = demo.account_id, demo.ids
    return [
        ("EC2 - Other", ids["unattached_volume"], 0.20),  # 14 x 0.20 = $2.80: run rate $6.08 caps the $10.00
        ("EC2 - Other", f"arn:aws:ec2:{REGION}:{acct}:natgateway/{ids['idle_nat']}", 1.08),  # caps the NAT
        ("Amazon Elastic Compute Cloud - Compute", ids["api_worker"], 9.216),
        ("AWS Lambda", f"arn:aws:lambda:{REGION}:{acct}:function:image-resizer", 0.60),
        ("Amazon Relational Database Service", f"arn:aws:rds:{REGION}:{acct}:db:orders-db", 8.544),
    ]


def _resources_fixture(demo: DemoAccount) -> dict[str, Any]:
    end = demo.now.date()
    days = [end - timedelta(days=n) for n in range(14, 0, -1)]
    rows = resource_costs(demo)
    pages = []
    for half in (days[:7], days[7:]):
        pages.append({
            "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "RESOURCE_ID"}],
            "DimensionValueAttributes": [],
            "ResultsByTime": [
                {"TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()}, "Total": {},
                 "Estimated": False,
                 "Groups": [{"Keys": [service, resource], "Metrics": {"UnblendedCost": {
                     "Amount": f"{cost:.3f}", "Unit": "USD"}}} for service, resource, cost in rows]}
                for day in half
            ],
        })
    return {"pages": pages}


def commitments(demo: DemoAccount) -> dict[str, dict[str, Any]]:
    """Reserved Instances and a Savings Plan ending soon (served by the front: moto lacks these APIs)."""
    acct, now = demo.account_id, demo.now
    year, three_years = 365 * 86400, 3 * 365 * 86400

    def stamp(days: float) -> str:
        return (now + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    return {
        f"ec2:DescribeReservedInstances?region={REGION}": {"pages": [{"ReservedInstances": [{
            "ReservedInstancesId": "ri-0demo-m5large-2025", "InstanceType": "m5.large", "InstanceCount": 4,
            "ProductDescription": "Linux/UNIX", "State": "active", "Start": stamp(-340), "End": stamp(25),
            "Duration": year, "OfferingClass": "standard", "OfferingType": "No Upfront", "Scope": "Region",
            "InstanceTenancy": "default", "FixedPrice": 0.0, "UsagePrice": 0.0, "CurrencyCode": "USD",
            "RecurringCharges": [{"Frequency": "Hourly", "Amount": 0.06}],
        }]}]},
        f"rds:DescribeReservedDBInstances?region={REGION}": {"pages": [{"ReservedDBInstances": [{
            "ReservedDBInstanceId": "orders-db-ri-2023", "ReservedDBInstancesOfferingId": "demo-offering",
            "ReservedDBInstanceArn": f"arn:aws:rds:{REGION}:{acct}:ri:orders-db-ri-2023",
            "DBInstanceClass": "db.m5.xlarge", "ProductDescription": "postgresql", "MultiAZ": False,
            "DBInstanceCount": 1, "StartTime": stamp(-1055), "Duration": three_years, "State": "active",
            "OfferingType": "All Upfront", "FixedPrice": 5600.0, "UsagePrice": 0.0, "CurrencyCode": "USD",
            "RecurringCharges": [],
        }]}]},
        "savingsplans:DescribeSavingsPlans": {"pages": [{"savingsPlans": [{
            "savingsPlanId": "sp-0demo-compute-2023",
            "savingsPlanArn": f"arn:aws:savingsplans::{acct}:savingsplan/sp-0demo-compute-2023",
            "savingsPlanType": "Compute", "paymentOption": "No Upfront", "commitment": "0.5",
            "upfrontPaymentAmount": "0.0", "recurringPaymentAmount": "0.5", "currency": "USD",
            "start": stamp(-1045), "end": stamp(50), "state": "active", "termDurationInSeconds": three_years,
            "productTypes": ["EC2", "Fargate", "Lambda"],
        }]}]},
        f"lambda:ListProvisionedConcurrencyConfigs?region={REGION}&FunctionName=checkout-api": {"pages": [{
            "ProvisionedConcurrencyConfigs": [{
                "FunctionArn": f"arn:aws:lambda:{REGION}:{acct}:function:checkout-api:live",
                "RequestedProvisionedConcurrentExecutions": 10, "AllocatedProvisionedConcurrentExecutions": 10,
                "AvailableProvisionedConcurrentExecutions": 10, "Status": "READY",
                "LastModified": (now - timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            }],
        }]},
    }


def load_demo_cost_data(local_aws: Any, demo: DemoAccount) -> dict[str, Any]:
    """Spend (the demo's Cost Explorer file), COH, resource-level costs and commitments for the demo."""
    from finops.sandbox.cost_fixtures import demo_costs, load_costs

    data = demo_costs(demo.account_id, demo.now.date())
    recs = coh_recommendations(demo)
    in_scope = [r for r in recs if r["accountId"] == demo.account_id and r["region"] in (REGION, "global")]
    by_action: dict[str, list[dict[str, Any]]] = {}
    for rec in in_scope:
        by_action.setdefault(rec["actionType"], []).append(rec)
    commitment_actions = ("PurchaseSavingsPlans", "PurchaseReservedInstances")
    deduped = sum(r["estimatedMonthlySavings"] for r in in_scope if r["actionType"] not in commitment_actions)
    deduped += max(r["estimatedMonthlySavings"] for r in in_scope if r["actionType"] in commitment_actions)
    data["fixtures"].update({
        "CostOptimizationHubService.ListRecommendations": {"pages": [{"items": recs[:6]}, {"items": recs[6:]}]},
        "CostOptimizationHubService.ListRecommendationSummaries": {"pages": [{
            "items": [{"group": action,
                       "estimatedMonthlySavings": round(sum(r["estimatedMonthlySavings"] for r in rs), 2),
                       "recommendationCount": len(rs)} for action, rs in sorted(by_action.items())],
            "groupBy": "ActionType", "estimatedTotalDedupedSavings": round(deduped, 2), "currencyCode": "USD",
        }]},
        "AWSInsightsIndexService.GetCostAndUsageWithResources": _resources_fixture(demo),
    })
    load_costs(local_aws, demo.account_id, data)
    local_aws.load_fixtures(commitments(demo), demo.account_id)
    return data
