"""Every price key the catalogue holds, and the AWS Price List API filters that select it.

One declarative table. Each :class:`Family` is one ``pricing:GetProducts`` query per region
(``filters`` as ``TERM_MATCH``, ``any_of`` as ``ANY_OF``, plus ``regionCode``); each
:class:`Selector` names the concrete key one product of that answer prices. Products are matched
on their attributes, with the usage type compared without its region prefix (``EUC1-``).

The refresh generator (``finops/pricing/refresh.py``) runs these queries; the catalogue test
checks that every key in ``catalogue.json`` is listed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

# The 36 commercial Regions (botocore partitions.json, partition "aws"). GovCloud and China are
# separate partitions and never appear in the catalogue.
COMMERCIAL_REGIONS: tuple[str, ...] = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
    "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1",
    "eu-south-2", "il-central-1", "me-central-1", "me-south-1", "me-west-1", "mx-central-1", "sa-west-1",
)

# Usage types carry a region prefix (EUC1-, USE1-, EU-) except some us-east-1 SKUs.
_REGION_PREFIX = re.compile(r"^[A-Z]{2,4}[0-9]?-")



def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


def bare_usage_type(usage_type: str) -> str:
    """``EUC1-EBS:VolumeUsage.gp3`` -> ``EBS:VolumeUsage.gp3``."""
    return _REGION_PREFIX.sub("", usage_type, count=1)


@dataclass(frozen=True)
class Selector:
    """The concrete key priced by the products whose attributes match."""

    key: str
    usage_type: str | None = None          # bare usage type, compared exactly
    usage_type_regex: str | None = None    # or a pattern over the bare usage type
    attributes: Mapping[str, str] = field(default_factory=_empty)  # further product attributes that must be equal
    tier_upto: str | None = None           # for a key priced by several SKUs, one per tier
    description: str = ""

    def matches(self, attributes: Mapping[str, str]) -> bool:
        usage = bare_usage_type(attributes.get("usagetype", ""))
        if self.usage_type is not None and usage != self.usage_type:
            return False
        if self.usage_type_regex is not None and not re.fullmatch(self.usage_type_regex, usage):
            return False
        return all(attributes.get(name) == value for name, value in self.attributes.items())


@dataclass(frozen=True)
class Family:
    """One GetProducts query per region, and the keys its answer prices."""

    name: str
    service_code: str
    unit: str                                   # the catalogue's unit
    description: str
    selectors: tuple[Selector, ...]
    filters: Mapping[str, str] = field(default_factory=_empty)  # TERM_MATCH filters
    any_of: Mapping[str, tuple[str, ...]] = field(default_factory=_empty)  # ANY_OF filters
    price_list_unit: str | None = None          # unit AWS states, when it differs from ``unit``
    scale: Decimal = Decimal(1)                 # catalogue price = Price List price x scale
    tiered_by_range: bool = False               # tiers come from beginRange/endRange
    note: str = ""

    def api_filters(self, region: str) -> list[dict[str, str]]:
        out = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
        out += [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in self.filters.items()]
        out += [{"Type": "ANY_OF", "Field": k, "Value": ",".join(v)} for k, v in self.any_of.items()]
        return out

    def admits(self, product: Mapping[str, Any], region: str) -> bool:
        """The query's filters, checked again on the product (an answer is never trusted blindly).

        ``product`` is the offer-file ``product`` object: ``productFamily`` and ``sku`` sit beside
        ``attributes``, every other filter field is an attribute.
        """
        attributes = product.get("attributes") or {}

        def value(name: str) -> Any:
            return attributes.get(name, product.get(name))

        if value("regionCode") != region:
            return False
        if any(value(k) != v for k, v in self.filters.items()):
            return False
        return all(value(k) in values for k, values in self.any_of.items())

    def keys(self) -> list[str]:
        return list(dict.fromkeys(s.key for s in self.selectors))


def _ro(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


_IN_REGION = {"locationType": "AWS Region"}

# ---- EBS -----------------------------------------------------------------------------------------
EBS_VOLUME_TYPES = ("gp2", "gp3", "io1", "io2", "st1", "sc1", "standard")
# io2 IOPS are priced per volume in three tiers. The Price List lists each tier as its own usage
# type with range 0-Inf; the caps (32,000 and 64,000 IOPS) are stated on the EBS pricing page
# (https://aws.amazon.com/ebs/pricing/), so they are declared here rather than read from the API.
IO2_TIER_CAPS = ("32000", "64000", None)

# ---- EC2 -----------------------------------------------------------------------------------------
EC2_SIZES: dict[str, tuple[str, ...]] = {
    # sizes nano..16xlarge that exist in the AWS Price List (us-east-1 list of 2026-07-20)
    "t2": ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"),
    "t3": ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"),
    "t3a": ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"),
    "t4g": ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"),
    "m3": ("medium", "large", "xlarge", "2xlarge"),
    "m4": ("large", "xlarge", "2xlarge", "4xlarge", "10xlarge", "16xlarge"),
    "m5": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "m5a": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "m6i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "m6a": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "m6g": ("medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "m7i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "m7g": ("medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "c3": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge"),
    "c4": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge"),
    "c5": ("large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge"),
    "c5a": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "c6i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "c6a": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "c6g": ("medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "c7i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "c7g": ("medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "r3": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge"),
    "r4": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge"),
    "r5": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "r5a": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "r6i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "r6a": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "r6g": ("medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "r7i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "r7g": ("medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
}


def ec2_instance_types() -> list[str]:
    return [f"{family}.{size}" for family, sizes in EC2_SIZES.items() for size in sizes]


# ---- RDS -----------------------------------------------------------------------------------------
RDS_ENGINES: dict[str, str] = {  # key part -> Price List databaseEngine
    "mysql": "MySQL",
    "postgres": "PostgreSQL",
    "mariadb": "MariaDB",
    "aurora-mysql": "Aurora MySQL",
    "aurora-postgresql": "Aurora PostgreSQL",
}
AURORA_ENGINES = ("aurora-mysql", "aurora-postgresql")  # priced per instance: Single-AZ only

_LARGE_TO_16 = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
_BURST = ("micro", "small", "medium", "large", "xlarge", "2xlarge")
_RDS_OPEN_SOURCE: dict[str, tuple[str, ...]] = {
    "db.t2": _BURST, "db.t3": _BURST, "db.t4g": _BURST,
    "db.m4": ("large", "xlarge", "2xlarge", "4xlarge", "10xlarge", "16xlarge"),
    "db.m5": _LARGE_TO_16, "db.m6i": _LARGE_TO_16, "db.m6g": _LARGE_TO_16, "db.m7g": _LARGE_TO_16,
    "db.r4": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge"),
    "db.r5": _LARGE_TO_16, "db.r6i": _LARGE_TO_16, "db.r6g": _LARGE_TO_16, "db.r7g": _LARGE_TO_16,
}
_AURORA_R = {
    "db.r4": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge"),
    "db.r5": _LARGE_TO_16, "db.r6i": _LARGE_TO_16, "db.r6g": _LARGE_TO_16, "db.r7g": _LARGE_TO_16,
}
# Instance classes per engine (sizes micro..16xlarge that the Price List offers for the engine).
RDS_CLASSES: dict[str, dict[str, tuple[str, ...]]] = {
    "mysql": _RDS_OPEN_SOURCE,
    "postgres": _RDS_OPEN_SOURCE,
    "mariadb": _RDS_OPEN_SOURCE,
    "aurora-mysql": {"db.t2": ("small", "medium"), "db.t3": ("small", "medium", "large"),
                     "db.t4g": ("small", "medium", "large"), **_AURORA_R},
    "aurora-postgresql": {"db.t3": ("medium", "large"), "db.t4g": ("medium", "large"), **_AURORA_R},
}


def rds_instance_keys() -> Iterator[tuple[str, str, str, str]]:
    """(key, engine, deployment, instance class) for every RDS instance-hour key."""
    for engine, families in RDS_CLASSES.items():
        deployments = ("single",) if engine in AURORA_ENGINES else ("single", "multi")
        for deployment in deployments:
            for family, sizes in families.items():
                for size in sizes:
                    cls = f"{family}.{size}"
                    yield f"rds.instance.{engine}.{deployment}.{cls}", engine, deployment, cls


EXTENDED_SUPPORT_ENGINES = {  # key part -> usage type engine token
    "mysql": "MySQL", "postgres": "PostgreSQL", "aurora-mysql": "AuroraMySQL", "aurora-postgresql": "AuroraPostgreSQL",
}


# ---- the table -----------------------------------------------------------------------------------
def _build_families() -> tuple[Family, ...]:
    ebs_storage = Family(
        name="ebs.storage", service_code="AmazonEC2", unit="GB-Mo",
        description="EBS {volume} volume storage",
        filters=_ro({"productFamily": "Storage", **_IN_REGION}),
        selectors=tuple(
            Selector(f"ebs.{v}.storage", usage_type=("EBS:VolumeUsage" if v == "standard" else f"EBS:VolumeUsage.{v}"),
                     attributes=_ro({"volumeApiName": v}), description=f"EBS {v} volume storage")
            for v in EBS_VOLUME_TYPES
        ),
    )
    ebs_iops = Family(
        name="ebs.iops", service_code="AmazonEC2", unit="IOPS-Mo",
        description="EBS provisioned IOPS",
        filters=_ro({"productFamily": "System Operation", **_IN_REGION}),
        selectors=(
            Selector("ebs.gp3.iops", usage_type="EBS:VolumeP-IOPS.gp3",
                     description="EBS gp3 provisioned IOPS above the 3,000 included"),
            Selector("ebs.io1.iops", usage_type="EBS:VolumeP-IOPS.piops", description="EBS io1 provisioned IOPS"),
            Selector("ebs.io2.iops", usage_type="EBS:VolumeP-IOPS.io2", tier_upto=IO2_TIER_CAPS[0],
                     description="EBS io2 provisioned IOPS, tiered per volume (<=32,000; 32,001-64,000; >64,000)"),
            Selector("ebs.io2.iops", usage_type="EBS:VolumeP-IOPS.io2.tier2", tier_upto=IO2_TIER_CAPS[1]),
            Selector("ebs.io2.iops", usage_type="EBS:VolumeP-IOPS.io2.tier3", tier_upto=IO2_TIER_CAPS[2]),
        ),
    )
    ebs_throughput = Family(
        name="ebs.throughput", service_code="AmazonEC2", unit="MiBps-Mo",
        description="EBS gp3 provisioned throughput above the 125 MiB/s included",
        filters=_ro({"productFamily": "Provisioned Throughput", **_IN_REGION}),
        price_list_unit="GiBps-mo", scale=Decimal(1) / Decimal(1024),
        note="The Price List prices gp3 throughput per GiBps-month; divided by 1024 for MiB/s-month.",
        selectors=(Selector("ebs.gp3.throughput", usage_type="EBS:VolumeP-Throughput.gp3",
                            description="EBS gp3 provisioned throughput above the 125 MiB/s included"),),
    )
    ebs_snapshot = Family(
        name="ebs.snapshot", service_code="AmazonEC2", unit="GB-Mo",
        description="EBS snapshot storage",
        filters=_ro({"productFamily": "Storage Snapshot", **_IN_REGION}),
        selectors=(
            Selector("ebs.snapshot.standard", usage_type="EBS:SnapshotUsage",
                     description="EBS snapshot storage, standard tier (incremental)"),
            Selector("ebs.snapshot.archive", usage_type="EBS:SnapshotArchiveStorage",
                     description="EBS snapshot storage, archive tier (full copy, 90-day minimum)"),
        ),
    )
    public_ipv4 = Family(
        name="vpc.public_ipv4", service_code="AmazonVPC", unit="Hrs",
        description="Public IPv4 address hour",
        filters=_ro(_IN_REGION),
        selectors=(
            Selector("vpc.public_ipv4.idle", usage_type="PublicIPv4:IdleAddress",
                     description="Idle public IPv4 address (e.g. an unassociated Elastic IP), per IP-hour"),
            Selector("vpc.public_ipv4.in_use", usage_type="PublicIPv4:InUseAddress",
                     description="In-use public IPv4 address, per IP-hour"),
        ),
    )
    nat = Family(
        name="nat", service_code="AmazonEC2", unit="Hrs",
        description="NAT gateway",
        filters=_ro({"productFamily": "NAT Gateway", **_IN_REGION}),
        selectors=(
            Selector("nat.hours", usage_type="NatGateway-Hours", description="NAT gateway hour"),
            Selector("nat.data", usage_type="NatGateway-Bytes", description="NAT gateway data processed, per GB"),
        ),
    )
    ec2 = Family(
        name="ec2.linux", service_code="AmazonEC2", unit="Hrs",
        description="EC2 On-Demand instance hour, Linux, shared tenancy, no pre-installed software",
        filters=_ro({
            "productFamily": "Compute Instance", "operatingSystem": "Linux", "tenancy": "Shared",
            "preInstalledSw": "NA", "capacitystatus": "Used", "licenseModel": "No License required",
            "marketoption": "OnDemand", **_IN_REGION,
        }),
        selectors=tuple(
            Selector(f"ec2.linux.{t}", usage_type=f"BoxUsage:{t}", attributes=_ro({"instanceType": t}),
                     description=f"EC2 {t} On-Demand, Linux, shared tenancy")
            for t in ec2_instance_types()
        ),
    )
    rds_instance = Family(
        name="rds.instance", service_code="AmazonRDS", unit="Hrs",
        description="RDS On-Demand DB instance hour",
        filters=_ro({"productFamily": "Database Instance", **_IN_REGION}),
        any_of=MappingProxyType({"databaseEngine": tuple(RDS_ENGINES.values()),
                                 "deploymentOption": ("Single-AZ", "Multi-AZ")}),
        note="Aurora Standard instance prices (usage type InstanceUsage:, not InstanceUsageIOOptimized:).",
        selectors=tuple(
            Selector(
                key,
                usage_type=("InstanceUsage:" if deployment == "single" else "Multi-AZUsage:") + cls,
                attributes=_ro({"databaseEngine": RDS_ENGINES[engine], "instanceType": cls,
                                "deploymentOption": "Single-AZ" if deployment == "single" else "Multi-AZ"}),
                description=f"RDS {RDS_ENGINES[engine]} {cls} On-Demand, "
                            + ("Single-AZ" if deployment == "single" else "Multi-AZ") + " instance hour",
            )
            for key, engine, deployment, cls in rds_instance_keys()
        ),
    )
    _storage = (("gp2", "GP2-Storage", "General Purpose"), ("gp3", "GP3-Storage", "General Purpose-GP3"),
                ("io1", "PIOPS-Storage", "Provisioned IOPS"), ("io2", "PIOPS-Storage-IO2", "Provisioned IOPS-IO2"),
                ("standard", "StorageUsage", "Magnetic"))
    rds_storage = Family(
        name="rds.storage", service_code="AmazonRDS", unit="GB-Mo",
        description="RDS database storage",
        filters=_ro({"productFamily": "Database Storage", "databaseEngine": "Any", **_IN_REGION}),
        selectors=tuple(
            Selector(f"rds.storage.{name}.{dep}",
                     usage_type=f"RDS:{'Multi-AZ-' if dep == 'multi' else ''}{usage}",
                     attributes=_ro({"volumeType": volume,
                                     "deploymentOption": "Multi-AZ" if dep == "multi" else "Single-AZ"}),
                     description=f"RDS {name} storage, {'Multi-AZ' if dep == 'multi' else 'Single-AZ'}")
            for name, usage, volume in _storage for dep in ("single", "multi")
        ),
    )
    rds_iops = Family(
        name="rds.iops", service_code="AmazonRDS", unit="IOPS-Mo",
        description="RDS provisioned IOPS",
        filters=_ro({"productFamily": "Provisioned IOPS", "databaseEngine": "Any", **_IN_REGION}),
        selectors=(
            Selector("rds.iops.io1.single", usage_type="RDS:PIOPS", description="RDS io1 provisioned IOPS, Single-AZ"),
            Selector("rds.iops.io1.multi", usage_type="RDS:Multi-AZ-PIOPS",
                     description="RDS io1 provisioned IOPS, Multi-AZ"),
            Selector("rds.iops.gp3.single", usage_type="RDS:GP3-PIOPS",
                     description="RDS gp3 IOPS above the baseline (3,000; 12,000 from 400 GB), Single-AZ"),
            Selector("rds.iops.gp3.multi", usage_type="RDS:Multi-AZ-GP3-PIOPS",
                     description="RDS gp3 IOPS above the baseline (3,000; 12,000 from 400 GB), Multi-AZ"),
        ),
    )
    rds_backup = Family(
        name="rds.backup", service_code="AmazonRDS", unit="GB-Mo",
        description="RDS backup storage beyond the free allowance",
        filters=_ro({"productFamily": "Storage Snapshot", **_IN_REGION}),
        any_of=MappingProxyType({"databaseEngine": ("MySQL", "PostgreSQL", "MariaDB")}),
        note="One SKU per engine; accepted only when MySQL, PostgreSQL and MariaDB agree.",
        selectors=(Selector("rds.snapshot", usage_type="RDS:ChargedBackupUsage",
                            description="RDS backup storage beyond the free allowance (MySQL, PostgreSQL, MariaDB)"),),
    )
    aurora_storage = Family(
        name="aurora.storage", service_code="AmazonRDS", unit="GB-Mo",
        description="Aurora Standard cluster storage",
        filters=_ro({"productFamily": "Database Storage", **_IN_REGION}),
        note="Matched on usage type alone (Aurora MySQL and Aurora PostgreSQL SKUs must agree).",
        selectors=(Selector("aurora.storage", usage_type="Aurora:StorageUsage",
                            description="Aurora Standard storage (not I/O-Optimized)"),),
    )
    aurora_backup = Family(
        name="aurora.backup", service_code="AmazonRDS", unit="GB-Mo",
        description="Aurora backup storage beyond the free allowance",
        filters=_ro({"productFamily": "Storage Snapshot", **_IN_REGION}),
        note="Matched on usage type alone (Aurora MySQL and Aurora PostgreSQL SKUs must agree).",
        selectors=(Selector("aurora.backup", usage_type="Aurora:BackupUsage",
                            description="Aurora backup storage beyond the free allowance (cluster snapshots)"),),
    )
    extended = []
    for year_key, year_value, token in (("yr1-2", "Year 1, Year 2", "Yr1-Yr2"), ("yr3", "Year 3", "Yr3")):
        extended.append(Family(
            name=f"rds.extended_support.{year_key}", service_code="AmazonRDS", unit="vCPU-Hr",
            description=f"RDS Extended Support, {year_value.lower()}, per vCPU-hour",
            filters=_ro({"extendedSupportPricingYear": year_value, **_IN_REGION}),
            price_list_unit="vCPU-hour",
            note="Every major version of an engine has its own usage type; they must agree. "
                 "Aurora Serverless v2 (per ACU-hour) is not included.",
            selectors=tuple(
                Selector(f"rds.extended_support.{engine}.{year_key}",
                         usage_type_regex=rf"ExtendedSupport:{token}:{re.escape(ut)}[0-9.]+",
                         description=f"RDS Extended Support {year_value} for {engine}, per vCPU-hour")
                for engine, ut in EXTENDED_SUPPORT_ENGINES.items()
            ),
        ))
    fargate = Family(
        name="fargate", service_code="AmazonECS", unit="vCPU-Hours",
        description="AWS Fargate, Linux",
        filters=_ro({"productFamily": "Compute", **_IN_REGION}),
        price_list_unit="hours",
        selectors=(
            Selector("fargate.x86.vcpu", usage_type="Fargate-vCPU-Hours:perCPU",
                     description="Fargate Linux/x86 per vCPU-hour"),
            Selector("fargate.x86.memory", usage_type="Fargate-GB-Hours", description="Fargate Linux/x86 per GB-hour"),
            Selector("fargate.arm.vcpu", usage_type="Fargate-ARM-vCPU-Hours:perCPU",
                     description="Fargate Linux/ARM per vCPU-hour"),
            Selector("fargate.arm.memory", usage_type="Fargate-ARM-GB-Hours",
                     description="Fargate Linux/ARM per GB-hour"),
        ),
    )
    lam = Family(
        name="lambda", service_code="AWSLambda", unit="GB-Second",
        description="AWS Lambda",
        filters=_ro({"productFamily": "Serverless", **_IN_REGION}),
        tiered_by_range=True,
        selectors=(
            Selector("lambda.requests", usage_type="Request", description="Lambda requests, price per request"),
            Selector("lambda.duration.x86", usage_type="Lambda-GB-Second",
                     description="Lambda duration, x86 (tiered: first 6B, next 9B, over 15B GB-seconds a month)"),
            Selector("lambda.duration.arm64", usage_type="Lambda-GB-Second-ARM",
                     description="Lambda duration, arm64 "
                                 "(tiered: first 7.5B, next 11.25B, over 18.75B GB-seconds a month)"),
            Selector("lambda.provisioned.x86", usage_type="Lambda-Provisioned-Concurrency",
                     description="Lambda provisioned concurrency, x86, per GB-second configured"),
            Selector("lambda.provisioned.arm64", usage_type="Lambda-Provisioned-Concurrency-ARM",
                     description="Lambda provisioned concurrency, arm64, per GB-second configured"),
            Selector("lambda.provisioned_duration.x86", usage_type="Lambda-Provisioned-GB-Second",
                     description="Lambda duration while provisioned concurrency is on, x86"),
            Selector("lambda.provisioned_duration.arm64", usage_type="Lambda-Provisioned-GB-Second-ARM",
                     description="Lambda duration while provisioned concurrency is on, arm64"),
        ),
    )
    s3 = Family(
        name="s3", service_code="AmazonS3", unit="GB-Mo",
        description="Amazon S3 storage",
        filters=_ro(_IN_REGION),
        tiered_by_range=True,
        selectors=(
            Selector("s3.standard.storage", usage_type="TimedStorage-ByteHrs",
                     description="S3 Standard storage (tiered: first 50 TB, next 450 TB, over 500 TB a month, in GB)"),
            Selector("s3.standard_ia.storage", usage_type="TimedStorage-SIA-ByteHrs",
                     description="S3 Standard-IA storage"),
            Selector("s3.onezone_ia.storage", usage_type="TimedStorage-ZIA-ByteHrs",
                     description="S3 One Zone-IA storage"),
            Selector("s3.glacier_ir.storage", usage_type="TimedStorage-GIR-ByteHrs",
                     description="S3 Glacier Instant Retrieval storage"),
            Selector("s3.glacier.storage", usage_type="TimedStorage-GlacierByteHrs",
                     description="S3 Glacier Flexible Retrieval storage"),
            Selector("s3.deep_archive.storage", usage_type="TimedStorage-GDA-ByteHrs",
                     description="S3 Glacier Deep Archive storage"),
            Selector("s3.intelligent_tiering.frequent", usage_type="TimedStorage-INT-FA-ByteHrs",
                     description="S3 Intelligent-Tiering, Frequent Access tier"),
            Selector("s3.intelligent_tiering.infrequent", usage_type="TimedStorage-INT-IA-ByteHrs",
                     description="S3 Intelligent-Tiering, Infrequent Access tier"),
            Selector("s3.intelligent_tiering.archive_instant", usage_type="TimedStorage-INT-AIA-ByteHrs",
                     description="S3 Intelligent-Tiering, Archive Instant Access tier"),
            Selector("s3.intelligent_tiering.archive", usage_type="TimedStorage-INT-AA-ByteHrs",
                     description="S3 Intelligent-Tiering, Archive Access tier (opt-in)"),
            Selector("s3.intelligent_tiering.deep_archive", usage_type="TimedStorage-INT-DAA-ByteHrs",
                     description="S3 Intelligent-Tiering, Deep Archive Access tier (opt-in)"),
        ),
    )
    s3_monitoring = Family(
        name="s3.monitoring", service_code="AmazonS3", unit="Objects",
        description="S3 Intelligent-Tiering monitoring and automation, per 1,000 objects a month",
        filters=_ro(_IN_REGION),
        price_list_unit="Objects", scale=Decimal(1000),
        note="The Price List prices monitoring per object; multiplied by 1,000 for the per-1,000-objects price.",
        selectors=(Selector("s3.intelligent_tiering.monitoring", usage_type="Monitoring-Automation-INT",
                            description="S3 Intelligent-Tiering monitoring and automation, "
                                        "per 1,000 objects a month"),),
    )
    return (ebs_storage, ebs_iops, ebs_throughput, ebs_snapshot, public_ipv4, nat, ec2, rds_instance, rds_storage,
            rds_iops, rds_backup, aurora_storage, aurora_backup, *extended, fargate, lam, s3, s3_monitoring)


FAMILIES: tuple[Family, ...] = _build_families()

# Catalogue units that differ from the family default.
KEY_UNITS: dict[str, str] = {
    "nat.data": "GB",
    "lambda.requests": "Requests",
    "fargate.x86.memory": "GB-Hours",
    "fargate.arm.memory": "GB-Hours",
}


def family_of(key: str) -> Family:
    for family in FAMILIES:
        if key in family.keys():
            return family
    raise KeyError(key)


def all_keys() -> list[str]:
    """Every concrete key (instance types and RDS classes expanded), in table order."""
    return [key for family in FAMILIES for key in family.keys()]


def key_definitions() -> dict[str, dict[str, str]]:
    """key -> {unit, description, family} for the catalogue writer and its tests."""
    out: dict[str, dict[str, str]] = {}
    for family in FAMILIES:
        for selector in family.selectors:
            if selector.key in out:
                continue
            out[selector.key] = {
                "unit": KEY_UNITS.get(selector.key, family.unit),
                "description": selector.description or family.description,
                "family": family.name,
            }
    return out

