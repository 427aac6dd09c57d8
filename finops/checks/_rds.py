"""Shared pieces of the RDS and Aurora checks: prices of a DB instance, its storage, and sourced facts.

Formulas add priced lines to a ``Bill`` (unit price, quantity and source kept on every line); a
configuration the catalogue cannot price is reported as a sentence (``unpriced_engine`` and
friends), never estimated. The facts below (Extended Support calendar, vCPUs per DB instance
class, gp3 baselines) come from the AWS documentation named beside each table; a value that is not
in a table is unknown, and the finding that needs it is shown unpriced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from finops.checks.context import CheckContext, MetricSummary
from finops.models import Finding, InventoryItem
from finops.money import HOURS_PER_MONTH
from finops.pricing import Bill

# Engines the price catalogue holds On-Demand instance prices for (rds.instance.<engine>.<az>.<class>).
PRICED_ENGINES = ("mysql", "postgres", "mariadb", "aurora-mysql", "aurora-postgresql")
AURORA_ENGINES = ("aurora-mysql", "aurora-postgresql")
ENGINE_NAMES = {
    "mysql": "MySQL", "postgres": "PostgreSQL", "mariadb": "MariaDB",
    "aurora-mysql": "Aurora MySQL", "aurora-postgresql": "Aurora PostgreSQL",
}
SERVERLESS_CLASS = "db.serverless"
AVAILABLE = "available"
MANUAL = "manual"
EXTENDED_SUPPORT_DISABLED = "open-source-rds-extended-support-disabled"
CONNECTIONS_MAX = "DatabaseConnections.Maximum"
CPU_MAX = "CPUUtilization.Maximum"

# Price-key patterns, for the checks' ``prices`` declarations.
INSTANCE_PRICES = ("rds.instance.*",)
STORAGE_PRICES = ("rds.storage.*", "rds.iops.*")

# Size ladder for "one size down" (smallest first).
SIZES = ("micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge",
         "24xlarge", "32xlarge", "48xlarge")

# gp3 storage on RDS: baseline 3,000 IOPS / 125 MiBps, rising to 12,000 IOPS / 500 MiBps at the striping
# threshold (MariaDB, MySQL, PostgreSQL: 400 GiB; Oracle: 200 GiB; SQL Server: none). Extra IOPS can be
# provisioned only at or above the threshold, up to 64,000 IOPS; the ratio of IOPS to GiB is at most 500.
# Source: Amazon RDS User Guide, "Amazon RDS DB instance storage", gp3 storage,
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html#gp3-storage
GP3_BASE_IOPS, GP3_STRIPED_IOPS, GP3_MAX_IOPS = 3000, 12000, 64000
GP3_BASE_THROUGHPUT, GP3_STRIPED_THROUGHPUT = 125, 500
GP3_STRIPING_GIB = {"mysql": 400, "mariadb": 400, "postgres": 400, "oracle": 200}
# Same page: "When you raise the IOPS above 32,000 for MariaDB and MySQL, the storage throughput value
# automatically increases from 500 MiBps" (extra throughput is billed; the catalogue has no RDS throughput price).
GP3_AUTO_THROUGHPUT_IOPS = {"mysql": 32000, "mariadb": 32000}


# -- DB instance classes -------------------------------------------------------------------------------
# Default vCPUs of each DB instance class, for Extended Support (billed per vCPU-hour).
# Source: Amazon RDS User Guide, "Hardware specifications for DB instance classes",
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html
# (as extracted by AWS's own sample github.com/aws-samples/rds-extended-support-cost-estimator,
# scripts/rds_instance_mapping.json; db.m4/db.m5/db.r3/db.r4/db.r5 also match the "Default vCPUs" column of
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.html#USER_ConfigureProcessor).
# Only the families the price catalogue prices are listed; any other class is "vCPUs unknown".
_NITRO_VCPUS = {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "12xlarge": 48, "16xlarge": 64,
                "24xlarge": 96, "32xlarge": 128}


def _family(sizes: str, table: dict[str, int] = _NITRO_VCPUS) -> dict[str, int]:
    return {size: table[size] for size in sizes.split()}


VCPUS: dict[str, dict[str, int]] = {
    "db.t2": {"micro": 1, "small": 1, "medium": 2, "large": 2, "xlarge": 4, "2xlarge": 8},
    "db.t3": {"micro": 2, "small": 2, "medium": 2, "large": 2, "xlarge": 4, "2xlarge": 8},
    "db.t4g": {"micro": 2, "small": 2, "medium": 2, "large": 2, "xlarge": 4, "2xlarge": 8},
    "db.m3": {"medium": 1, "large": 2, "xlarge": 4, "2xlarge": 8},
    "db.m4": {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "10xlarge": 40, "16xlarge": 64},
    "db.m5": _family("large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "db.m6i": _family("large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge"),
    "db.m6g": _family("large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "db.m7g": _family("large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "db.r3": _family("large xlarge 2xlarge 4xlarge 8xlarge"),
    "db.r4": _family("large xlarge 2xlarge 4xlarge 8xlarge 16xlarge"),
    "db.r5": _family("large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "db.r6i": _family("large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge"),
    "db.r6g": _family("large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "db.r7g": _family("large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
}


def split_class(db_class: str | None) -> tuple[str, str] | None:
    """("db.m5", "large") from "db.m5.large"; None for anything else (db.serverless, tpc/mem variants)."""
    parts = (db_class or "").split(".")
    if len(parts) != 3 or parts[0] != "db":
        return None
    return f"db.{parts[1]}", parts[2]


def vcpus(db_class: str | None) -> int | None:
    split = split_class(db_class)
    return VCPUS.get(split[0], {}).get(split[1]) if split else None


# -- Extended Support calendar ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SupportDates:
    end_of_standard: date  # last day of standard support
    year1: date  # first day Extended Support is charged (year 1-2 rate)
    year3: date | None  # first day of the year-3 rate (None: the year 1-2 rate applies to the end)
    end_of_extended: date  # last day of Extended Support


def _d(text: str) -> date:
    return date.fromisoformat(text)


def _dates(std: str, yr1: str, yr3: str | None, end: str) -> SupportDates:
    return SupportDates(_d(std), _d(yr1), _d(yr3) if yr3 else None, _d(end))


# engine -> major version -> dates. Only majors whose dates are published are listed.
EXTENDED_SUPPORT: dict[str, dict[str, SupportDates]] = {
    # Amazon RDS User Guide, "Supported MySQL major versions on Amazon RDS",
    # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/MySQL.Concepts.VersionMgmt.html#MySQL.Concepts.VersionMgmt.ReleaseCalendar
    "mysql": {
        "5.7": _dates("2024-02-29", "2024-03-01", "2026-03-01", "2027-02-28"),
        "8.0": _dates("2026-07-31", "2026-08-01", "2028-08-01", "2029-07-31"),
        "8.4": _dates("2029-07-31", "2029-08-01", "2031-08-01", "2032-07-31"),
    },
    # Amazon RDS for PostgreSQL Release Notes, "Release calendar for Amazon RDS for PostgreSQL major versions",
    # https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html
    # (PostgreSQL 18 is left out: its published year-1 date, 1 March 2032, does not follow its end of
    # standard support, 28 February 2031.)
    "postgres": {
        "11": _dates("2024-02-29", "2024-04-01", "2026-04-01", "2027-03-31"),
        "12": _dates("2025-02-28", "2025-03-01", "2027-03-01", "2028-02-29"),
        "13": _dates("2026-02-28", "2026-03-01", "2028-03-01", "2029-02-28"),
        "14": _dates("2027-02-28", "2027-03-01", "2029-03-01", "2030-02-28"),
        "15": _dates("2028-02-29", "2028-03-01", "2030-03-01", "2031-02-28"),
        "16": _dates("2029-02-28", "2029-03-01", "2031-03-01", "2032-02-29"),
        "17": _dates("2030-02-28", "2030-03-01", "2032-03-01", "2033-02-28"),
    },
    # Aurora MySQL Release Notes, "Release calendar for Aurora MySQL major versions" (version 2 = MySQL 5.7,
    # version 3 = MySQL 8.0, which has no year-3 rate),
    # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraMySQLReleaseNotes/AuroraMySQL.release-calendars.html
    "aurora-mysql": {
        "5.7": _dates("2024-10-31", "2024-12-01", "2026-12-01", "2029-06-30"),
        "8.0": _dates("2028-04-30", "2028-05-01", None, "2029-07-31"),
    },
    # Aurora PostgreSQL Release Notes, "Release calendar for Aurora PostgreSQL major versions",
    # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/aurorapostgresql-release-calendar.html
    "aurora-postgresql": {
        "11": _dates("2024-02-29", "2024-04-01", "2026-04-01", "2027-03-31"),
        "12": _dates("2025-02-28", "2025-03-01", "2027-03-01", "2028-02-29"),
        "13": _dates("2026-02-28", "2026-03-01", "2028-03-01", "2029-02-28"),
        "14": _dates("2027-02-28", "2027-03-01", "2029-03-01", "2030-02-28"),
        "15": _dates("2028-02-29", "2028-03-01", "2030-03-01", "2031-02-28"),
        "16": _dates("2029-02-28", "2029-03-01", "2031-03-01", "2032-02-28"),
        "17": _dates("2030-02-28", "2030-03-01", "2032-03-01", "2033-02-28"),
    },
}
# A full engine version to upgrade an Aurora cluster to (modify-db-cluster needs one): the long-term-support
# minor version each release calendar above names for that major version (Aurora MySQL 3.10 is the LTS of
# version 3; Aurora PostgreSQL LTS versions are listed per major version).
AURORA_TARGET_VERSIONS = {
    ("aurora-mysql", "8.0"): "8.0.mysql_aurora.3.10.0",
    ("aurora-postgresql", "14"): "14.6", ("aurora-postgresql", "15"): "15.10",
    ("aurora-postgresql", "16"): "16.8", ("aurora-postgresql", "17"): "17.7",
}


def major_version(engine: str, engine_version: str | None) -> str | None:
    """The major version the release calendars use: "5.7"/"8.0" for MySQL engines, "11" for PostgreSQL ones.

    "5.7.44-RDS.20240808" -> "5.7"; "5.7.mysql_aurora.2.11.2" -> "5.7"; "11.22-rds.20240509" -> "11".
    """
    parts = (engine_version or "").split("-", 1)[0].split(".")
    if engine in ("mysql", "aurora-mysql", "mariadb"):
        return ".".join(parts[:2]) if len(parts) >= 2 and all(p.isdigit() for p in parts[:2]) else None
    if engine in ("postgres", "aurora-postgresql"):
        return parts[0] if parts and parts[0].isdigit() else None
    return None


def extended_support_band(dates: SupportDates, now: datetime) -> str | None:
    """"yr1-2" or "yr3" when Extended Support is being charged on ``now``'s date, else None."""
    today = now.date()
    if today < dates.year1 or today > dates.end_of_extended:
        return None
    return "yr3" if dates.year3 is not None and today >= dates.year3 else "yr1-2"


def newest_standard_major(engine: str, now: datetime) -> str | None:
    """The newest major version of ``engine`` in the calendar whose standard support runs past ``now``."""
    table = EXTENDED_SUPPORT.get(engine, {})
    current = [major for major, dates in table.items() if dates.end_of_standard >= now.date()]
    return max(current, key=lambda v: tuple(int(p) for p in v.split("."))) if current else None


def extended_support_charge(item: InventoryItem, now: datetime) -> tuple[str, SupportDates, str] | None:
    """(major version, its dates, band) when ``item`` (a DB instance or an Aurora cluster) pays Extended Support
    on ``now``'s date: available, not opted out, on a major version the calendar dates as charged then."""
    data = item.data
    if data.get("status") != AVAILABLE or data.get("engine_lifecycle_support") == EXTENDED_SUPPORT_DISABLED:
        return None
    engine = data.get("engine") or ""
    if engine not in ("mysql", "postgres") and not (item.collector == "rds.clusters" and engine in AURORA_ENGINES):
        return None
    major = major_version(engine, data.get("engine_version"))
    dates = EXTENDED_SUPPORT.get(engine, {}).get(major or "")
    if major is None or dates is None:
        return None
    band = extended_support_band(dates, now)
    return None if band is None else (major, dates, band)


def add_extended_support(bill: Bill, region: str, engine: str, band: str, db_class: str, copies: int = 1,
                         label: str = "") -> bool:
    """Add the Extended Support surcharge of one instance (x ``copies``); False when its vCPUs are unknown."""
    count = vcpus(db_class)
    if count is None:
        return False
    who = {1: "", 2: " (primary and Multi-AZ standby)"}.get(copies, f" x {copies}")
    prefix = f"{label}: " if label else ""
    bill.add(f"rds.extended_support.{engine}.{band}", region, Decimal(count * copies) * HOURS_PER_MONTH,
             f"{prefix}Extended Support, {count} vCPUs x {copies}{who} x 730 hours")
    return True


def extended_support_copies(db: InventoryItem) -> int:
    """Instances billed for Extended Support: a Multi-AZ DB instance's standby counts (not a cluster member's)."""
    return 2 if db.data.get("multi_az") and not db.data.get("cluster_id") and not is_aurora(db) else 1


# -- prices --------------------------------------------------------------------------------------------
def engine_family(engine: str | None) -> str:
    """"oracle" for oracle-ee, "sqlserver" for sqlserver-se, the engine itself otherwise."""
    engine = engine or ""
    for family in ("oracle", "sqlserver", "db2", "custom"):
        if engine.startswith(family):
            return family
    return engine


def is_aurora(db: InventoryItem) -> bool:
    return (db.data.get("engine") or "").startswith("aurora")


def deployment(db: InventoryItem, multi_az: bool | None = None) -> str:
    """"multi" or "single" in the catalogue's terms (Aurora prices every instance as "single")."""
    multi = db.data.get("multi_az") if multi_az is None else multi_az
    return "multi" if multi and not is_aurora(db) else "single"


def az_name(az: str) -> str:
    return "Multi-AZ" if az == "multi" else "Single-AZ"


def instance_key(engine: str, az: str, db_class: str) -> str:
    return f"rds.instance.{engine}.{az}.{db_class}"


def unpriced_engine(engine: str | None) -> str:
    """The sentence for an engine whose On-Demand prices the catalogue does not hold, or "" when it does."""
    if engine in PRICED_ENGINES:
        return ""
    return f"On-Demand prices for {engine or 'this engine'} are not in the price catalogue"


def unpriced_instance(db: InventoryItem, keys: set[str]) -> str:
    """Why this DB instance's hours cannot be priced (engine or deployment outside the catalogue), or ""."""
    engine = db.data.get("engine")
    reason = unpriced_engine(engine)
    if reason:
        return reason
    if db.data.get("cluster_id") and not is_aurora(db):
        return "Multi-AZ DB cluster prices are not in the price catalogue"
    db_class = db.data.get("instance_class") or ""
    if db_class == SERVERLESS_CLASS:
        return "Aurora Serverless v2 capacity is billed in ACU-hours, which the price catalogue does not hold"
    key = instance_key(engine, deployment(db), db_class)
    if key not in keys:
        return f"On-Demand prices for {db_class} ({engine}, {az_name(deployment(db))}) are not in the price catalogue"
    return ""


def add_hours(bill: Bill, db: InventoryItem, db_class: str | None = None, az: str | None = None,
              label: str = "") -> Bill:
    engine = db.data.get("engine") or ""
    db_class = db_class or db.data.get("instance_class") or ""
    az = az or deployment(db)
    prefix = f"{label}: " if label else ""
    return bill.add(instance_key(engine, az, db_class), db.region, HOURS_PER_MONTH,
                    f"{prefix}{db_class} {ENGINE_NAMES.get(engine, engine)} {az_name(az)} On-Demand, 730 hours")


def gp3_baseline(engine: str | None, size_gib: Any) -> tuple[int, int] | None:
    """(IOPS, MiBps) included with gp3 of this size, or None for an engine whose threshold is not sourced."""
    family = engine_family(engine)
    if family == "sqlserver":
        return GP3_BASE_IOPS, GP3_BASE_THROUGHPUT
    threshold = GP3_STRIPING_GIB.get(family)
    if threshold is None:
        return None
    if Decimal(str(size_gib or 0)) >= threshold:
        return GP3_STRIPED_IOPS, GP3_STRIPED_THROUGHPUT
    return GP3_BASE_IOPS, GP3_BASE_THROUGHPUT


def storage_unpriced(db: InventoryItem) -> str:
    """Why this instance's storage cannot be fully priced, or "" (the IOPS keys price themselves)."""
    data = db.data
    if data.get("storage_type") != "gp3":
        return ""
    baseline = gp3_baseline(data.get("engine"), data.get("allocated_storage_gib"))
    if baseline is None:
        return f"the gp3 baseline of {data.get('engine')} storage is not in FinOps Pack's sourced facts"
    if Decimal(str(data.get("storage_throughput") or 0)) > baseline[1]:
        return "gp3 storage throughput above the included baseline is not priced by the price catalogue"
    return ""


def add_storage(bill: Bill, db: InventoryItem, az: str | None = None, storage_type: str | None = None,
                size_gib: Any = None, iops: Any = None, label: str = "") -> Bill:
    """Allocated storage plus provisioned IOPS (io1/io2: all of them; gp3: those above the baseline).

    Aurora storage is billed by the cluster for what it uses and is not part of an instance's bill.
    """
    data = db.data
    if is_aurora(db):
        return bill
    az = az or deployment(db)
    storage_type = storage_type or data.get("storage_type") or "standard"
    size = Decimal(str((data.get("allocated_storage_gib") if size_gib is None else size_gib) or 0))
    iops = Decimal(str((data.get("iops") if iops is None else iops) or 0))
    prefix = f"{label}: " if label else ""
    bill.add(f"rds.storage.{storage_type}.{az}", db.region, size,
             f"{prefix}{storage_type} storage, {size} GiB {az_name(az)}")
    if storage_type in ("io1", "io2"):
        bill.add(f"rds.iops.{storage_type}.{az}", db.region, iops, f"{prefix}{storage_type} provisioned IOPS")
    elif storage_type == "gp3":
        baseline = gp3_baseline(data.get("engine"), size)
        if baseline is not None:
            bill.add(f"rds.iops.gp3.{az}", db.region, max(iops - baseline[0], 0),
                     f"{prefix}gp3 IOPS above the included {baseline[0]:,}")
    return bill


def catalogue_classes(keys: set[str]) -> set[str]:
    """Every DB instance class the catalogue names ("rds.instance.mysql.single.db.m5.large" -> "db.m5.large")."""
    return {"db." + key.split(".db.", 1)[1] for key in keys if key.startswith("rds.instance.") and ".db." in key}


def nearest_smaller_class(db_class: str, known: set[str]) -> str | None:
    """The next smaller size of the same family among ``known`` classes (``catalogue_classes``), or None."""
    split = split_class(db_class)
    if split is None or split[1] not in SIZES:
        return None
    family, size = split
    for smaller in reversed(SIZES[: SIZES.index(size)]):
        if f"{family}.{smaller}" in known:
            return f"{family}.{smaller}"
    return None


def price_keys(ctx: CheckContext) -> set[str]:
    return set(ctx.prices.keys())


# -- evidence ------------------------------------------------------------------------------------------
def enough(summary: MetricSummary | None, min_days: int) -> bool:
    return summary is not None and summary.days >= min_days


def db_facts(db: InventoryItem) -> dict[str, Any]:
    data = db.data
    return {
        "engine": data.get("engine"), "engine_version": data.get("engine_version"),
        "instance_class": data.get("instance_class"), "multi_az": bool(data.get("multi_az")),
        "status": data.get("status"), "storage_type": data.get("storage_type"),
        "allocated_storage_gib": data.get("allocated_storage_gib"), "iops": data.get("iops"),
        "storage_throughput": data.get("storage_throughput"), "cluster_id": data.get("cluster_id"),
        "created": data.get("create_time"),
    }


def quantity(value: Decimal) -> str:
    """Decimal as plain text for titles (100 not 1E+2)."""
    return f"{value.normalize():f}"


# -- snapshots -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    item: InventoryItem
    cluster: bool  # a DB cluster snapshot (Aurora or Multi-AZ DB cluster)
    source_id: str | None
    source_exists: bool
    age_days: float


SNAPSHOT_PRICES = ("rds.snapshot", "aurora.backup")
SNAPSHOT_CONSOLE = "https://{region}.console.aws.amazon.com/rds/home?region={region}#snapshots-list:"
DB_SNAPSHOT_DELETE = "aws rds delete-db-snapshot --region {region} --db-snapshot-identifier {resource_id}"
CLUSTER_SNAPSHOT_DELETE = (
    "aws rds delete-db-cluster-snapshot --region {region} --db-cluster-snapshot-identifier {resource_id}"
)


def manual_snapshots(ctx: CheckContext) -> list[Snapshot]:
    """Available manual DB and DB cluster snapshots of the view's region, with whether their source still exists.

    A source exists when a DB instance (or cluster) of that identifier is in the same region's inventory.
    """
    instances = {db.resource_id for db in ctx.of("rds.instances")}
    clusters = {cluster.resource_id for cluster in ctx.of("rds.clusters")}
    found: list[Snapshot] = []
    for collector, is_cluster, source_key, sources in (
        ("rds.snapshots", False, "db_instance_id", instances),
        ("rds.cluster_snapshots", True, "cluster_id", clusters),
    ):
        for item in ctx.of(collector):
            data = item.data
            if data.get("snapshot_type") != MANUAL or data.get("status") != AVAILABLE:
                continue
            age = ctx.days_since(data.get("create_time"))
            if age is None:
                continue
            source = data.get(source_key)
            found.append(Snapshot(item, is_cluster, source, bool(source) and source in sources, age))
    return found


def snapshot_bill(ctx: CheckContext, snapshot: Snapshot) -> tuple[Bill, str]:
    """Upper-bound monthly cost of the snapshot (allocated GiB x backup storage price), or a not-estimated reason."""
    data = snapshot.item.data
    size = Decimal(str(data.get("allocated_storage_gib") or 0))
    bill = ctx.bill()
    if size <= 0:
        return bill, "the snapshot's allocated size is not reported, so no upper bound can be computed"
    key, what = ("aurora.backup", "cluster snapshot") if snapshot.cluster else ("rds.snapshot", "DB snapshot")
    bill.add(key, snapshot.item.region, size, f"{what}, {quantity(size)} GiB (upper bound: allocated size)")
    return bill, ""


def snapshot_finding(ctx: CheckContext, snapshot: Snapshot, title: str, extra: dict[str, Any]) -> Finding:
    data = snapshot.item.data
    bill, not_estimated = snapshot_bill(ctx, snapshot)
    return ctx.finding(
        snapshot.item,
        title=title,
        current=bill,
        remediation_template=CLUSTER_SNAPSHOT_DELETE if snapshot.cluster else None,
        not_estimated=not_estimated,
        recommended="Delete the snapshot (copy or export it first if it must be kept)",
        evidence={
            "snapshot_kind": "DB cluster snapshot" if snapshot.cluster else "DB snapshot",
            "source": snapshot.source_id, "source_exists": snapshot.source_exists,
            "engine": data.get("engine"), "snapshot_type": data.get("snapshot_type"),
            "allocated_storage_gib": data.get("allocated_storage_gib"), "storage_type": data.get("storage_type"),
            "created": data.get("create_time"), "age_days": round(snapshot.age_days, 1), **extra,
            "upper_bound": "a snapshot is billed for the blocks it holds beyond the free backup allowance, at most "
                           "its allocated size",
        },
    )
