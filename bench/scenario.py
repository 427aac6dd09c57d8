"""A synthetic customer account: N resources over the 17 default-enabled commercial regions.

Bulk resources (EBS volumes, snapshots, Elastic IPs, S3 buckets) are created straight in moto's
backends, which takes about a second for 10,000; the few resources that need moto's API logic
(instances and their root volumes, NAT gateways, EIP associations) go through boto3 against the
local AWS. Deterministic: the same ``total`` and ``seed`` give the same mix (ids are moto's).

Every resource counted here is one the product reads (or will read) as inventory; instance root
volumes count as volumes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

# The regions enabled by default in every commercial AWS account (no opt-in needed).
DEFAULT_REGIONS: tuple[str, ...] = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
)

# Share of the account by resource type (volumes take what is left).
INSTANCES_PER_REGION = 5  # moto's run_instances is slow: keep few (each adds a root volume)
NAT_PER_REGION = 1
EIP_SHARE = 0.17
SNAPSHOT_SHARE = 0.12
BUCKETS = 60  # global service, one bucket location per region spread

VOLUME_TYPES = (("gp3", 0.45), ("gp2", 0.35), ("io1", 0.05), ("st1", 0.08), ("sc1", 0.07))
TEAMS = ("payments", "search", "data", "platform", "web", "ml")


@dataclass(frozen=True)
class Plan:
    regions: tuple[str, ...]
    instances: int
    root_volumes: int
    nat_gateways: int
    eips: int
    snapshots: int
    buckets: int
    volumes: int

    @property
    def total(self) -> int:
        return (self.instances + self.root_volumes + self.nat_gateways + self.eips + self.snapshots
                + self.buckets + self.volumes)

    def as_dict(self) -> dict[str, int]:
        return {
            "instances": self.instances, "volumes": self.volumes + self.root_volumes,
            "snapshots": self.snapshots, "elastic_ips": self.eips, "nat_gateways": self.nat_gateways,
            "s3_buckets": self.buckets, "total": self.total, "regions": len(self.regions),
        }


def plan(total: int = 10_000, regions: Sequence[str] = DEFAULT_REGIONS) -> Plan:
    n = len(regions)
    small = total < 500  # a tiny scenario (tests) skips the slow-to-create types
    instances = 0 if small else INSTANCES_PER_REGION * n
    nat = 0 if small else NAT_PER_REGION * n
    buckets = 0 if small else min(BUCKETS, total // 100)
    eips = int(total * EIP_SHARE)
    snapshots = int(total * SNAPSHOT_SHARE)
    volumes = total - instances * 2 - nat - eips - snapshots - buckets
    if volumes < 0:
        raise ValueError(f"{total} resources is too few for {n} regions")
    return Plan(tuple(regions), instances, instances, nat, eips, snapshots, buckets, volumes)


def _spread(count: int, regions: Sequence[str]) -> dict[str, int]:
    base, extra = divmod(count, len(regions))
    return {region: base + (1 if i < extra else 0) for i, region in enumerate(regions)}


def seed(account, total: int = 10_000, regions: Sequence[str] = DEFAULT_REGIONS, rng_seed: int = 7) -> Plan:  # noqa: ANN001
    """Create the account's resources in the local AWS (which must already be running in-process).

    ``account`` is a ``finops.sandbox.seed.CustomerAccount`` (its session reaches the local AWS).
    """
    from moto.ec2.models import ec2_backends
    from moto.s3.models import s3_backends

    layout = plan(total, regions)
    rng = random.Random(rng_seed)
    kinds = [k for k, _ in VOLUME_TYPES]
    weights = [w for _, w in VOLUME_TYPES]
    volumes, eips, snaps = _spread(layout.volumes, regions), _spread(layout.eips, regions), _spread(
        layout.snapshots, regions)

    for region in regions:
        backend = ec2_backends[account.account_id][region]
        zones = [zone.name for zone in backend.describe_availability_zones()][:3]

        # API-seeded (few, need moto's logic): instances with root volumes, NAT gateways, associations
        ec2 = account.session(region).client("ec2")
        instance_ids: list[str] = []
        if layout.instances:
            reservation = ec2.run_instances(
                ImageId="ami-12345678", InstanceType=rng.choice(["t3.micro", "m5.large", "c5.xlarge"]),
                MinCount=INSTANCES_PER_REGION, MaxCount=INSTANCES_PER_REGION,
            )
            instance_ids = [i["InstanceId"] for i in reservation["Instances"]]

        # Bulk, straight in the backend: volumes (some attached to the instances), tags, snapshots
        volume_ids: list[str] = []
        for i in range(volumes[region]):
            kind = rng.choices(kinds, weights)[0]
            size = rng.choice([8, 20, 50, 100, 200, 500, 1000]) if kind not in ("st1", "sc1") else rng.choice(
                [125, 500, 2000])
            volume = backend.create_volume(
                size=size, zone_name=rng.choice(zones), volume_type=kind,
                iops=rng.choice([1000, 3000, 6000]) if kind == "io1" else None,
            )
            volume_ids.append(volume.id)
            backend.create_tags([volume.id], {
                "Name": f"{kind}-{region}-{i:05d}", "team": rng.choice(TEAMS),
                "env": rng.choice(("prod", "staging", "dev")),
            })
        for n, instance_id in enumerate(instance_ids):
            instance = backend.get_instance(instance_id)
            for k, volume_id in enumerate(volume_ids[n * 2:n * 2 + 2]):
                vol = backend.get_volume(volume_id)
                if vol.zone.name == instance.placement:
                    backend.attach_volume(volume_id, instance_id, f"/dev/sd{'fg'[k]}")
        for i in range(snaps[region]):
            source = volume_ids[i % len(volume_ids)]
            backend.create_snapshot(source, f"daily backup {i:05d}")

        # Elastic IPs: most idle, one per instance associated, one per NAT gateway
        allocation_ids = [backend.allocate_address(domain="vpc").allocation_id for _ in range(eips[region])]
        for instance_id, allocation_id in zip(instance_ids, allocation_ids, strict=False):
            ec2.associate_address(AllocationId=allocation_id, InstanceId=instance_id)
        if layout.nat_gateways:
            subnet = backend.describe_subnets()[0].id
            spare = allocation_ids[len(instance_ids):len(instance_ids) + NAT_PER_REGION]
            for allocation_id in spare:
                ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation_id)

    s3 = s3_backends[account.account_id]["aws"]
    for i in range(layout.buckets):
        s3.create_bucket(f"synthetic-{account.account_id}-{i:03d}", regions[i % len(regions)])
    return layout
