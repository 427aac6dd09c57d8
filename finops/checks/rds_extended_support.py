"""Database on a major version in paid RDS Extended Support: a per-vCPU-hour surcharge until it is upgraded.

An available RDS for MySQL or PostgreSQL DB instance, or an Aurora MySQL or Aurora PostgreSQL cluster, whose
major version is, on the review's date, between the first day of Extended Support charges and the end of
Extended Support in the published release calendars (kept with their sources in ``_rds.py``), and whose
``engine_lifecycle_support`` is not "open-source-rds-extended-support-disabled".

Priced from the catalogue's Extended Support rate for the engine and band (year 1-2, or year 3 once the
calendar's year-3 date is reached; Aurora MySQL version 3 has no year-3 rate) x the class's vCPUs (sourced
table) x 730 hours. "RDS Extended Support charges apply to standby instances in Multi-AZ deployments"
(Amazon RDS User Guide, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/extended-support-charges.html),
so a Multi-AZ DB instance counts its vCPUs twice; each instance of a Multi-AZ DB cluster is its own
finding. An Aurora cluster is one finding priced over every provisioned instance (``cluster_members``).
The saving is the surcharge only: the instances keep running after the upgrade.

Unpriced, with the reason: a class whose vCPUs the sourced table lacks, and Aurora Serverless v2 instances
(Extended Support is billed per ACU-hour there). Not reported: versions not yet charged (between the end of
standard support and the first charged day), majors the calendars do not date, MariaDB (no Extended
Support), stopped databases.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._rds import (
    AURORA_TARGET_VERSIONS,
    ENGINE_NAMES,
    SERVERLESS_CLASS,
    SupportDates,
    add_extended_support,
    extended_support_charge,
    extended_support_copies,
    newest_standard_major,
    vcpus,
)
from finops.checks.context import CheckContext
from finops.models import Finding, InventoryItem

RDS_ENGINES = ("mysql", "postgres")
AURORA_ENGINES = ("aurora-mysql", "aurora-postgresql")
BANDS = {"yr1-2": "year 1-2 rate", "yr3": "year 3 rate"}
CLUSTER_REMEDIATION = (
    "aws rds modify-db-cluster --region {region} --db-cluster-identifier {cluster_id} "
    "--engine-version {target_version} --allow-major-version-upgrade"
)


CLUSTER_CONSOLE = "https://{region}.console.aws.amazon.com/rds/home?region={region}#database:id={resource_id};is-cluster=true"


@check(
    coh_comparable=False,  # COH's RDS "Upgrade" is an instance-class change, not an engine version
    title="Databases in paid RDS Extended Support",
    category="Databases",
    service="rds",
    resource_type="rds:db",
    action="Upgrade",
    needs=("rds.instances", "rds.clusters"),
    prices=("rds.extended_support.*",),
    effort="Medium",
    restart_needed=True,
    rollback_possible=False,
    confidence="High",
    rule=(
        "Available RDS for MySQL/PostgreSQL DB instance or Aurora MySQL/PostgreSQL cluster whose major version is "
        "in charged RDS Extended Support on the review's date (AWS release calendars), unless "
        "`engine_lifecycle_support` is `open-source-rds-extended-support-disabled`."
    ),
    formula=(
        "vCPUs x 730 hours x Extended Support price per vCPU-hour (year 1-2 or year 3 rate); a Multi-AZ standby "
        "counts again; an Aurora cluster sums its provisioned instances"
    ),
    remediation=(
        "aws rds modify-db-instance --region {region} --db-instance-identifier {resource_id} "
        "--engine-version {target_version} --allow-major-version-upgrade"
    ),
    console="https://{region}.console.aws.amazon.com/rds/home?region={region}#database:id={resource_id};is-cluster=false",
)
def rds_extended_support(ctx: CheckContext) -> Iterator[Finding]:
    for db in ctx.of("rds.instances"):
        if db.data.get("engine") in RDS_ENGINES:
            found = _instance(ctx, db)
            if found is not None:
                yield found
    for cluster in ctx.of("rds.clusters"):
        if cluster.data.get("engine") in AURORA_ENGINES:
            found = _cluster(ctx, cluster)
            if found is not None:
                yield found


def _target(ctx: CheckContext, engine: str) -> tuple[str, str]:
    """(major version to recommend, engine version to pass to the CLI)."""
    major = newest_standard_major(engine, ctx.now) or ""
    return major, AURORA_TARGET_VERSIONS.get((engine, major), major)


def _dates_evidence(dates: SupportDates) -> dict[str, str | None]:
    return {
        "end_of_standard_support": dates.end_of_standard.isoformat(), "year1_charges_from": dates.year1.isoformat(),
        "year3_rate_from": dates.year3.isoformat() if dates.year3 else None,
        "end_of_extended_support": dates.end_of_extended.isoformat(),
    }


def _instance(ctx: CheckContext, db: InventoryItem) -> Finding | None:
    charged = extended_support_charge(db, ctx.now)
    if charged is None:
        return None
    major, dates, band = charged
    data = db.data
    engine, db_class = data.get("engine") or "", data.get("instance_class") or ""
    count = vcpus(db_class)
    in_cluster = bool(data.get("cluster_id"))
    copies = extended_support_copies(db)
    current = ctx.bill()
    unavailable = ""
    if not add_extended_support(current, db.region, engine, band, db_class, copies):
        unavailable = f"the vCPU count of {db_class} is not in FinOps Pack's sourced table of DB instance classes"
    target_major, target_version = _target(ctx, engine)
    name = ENGINE_NAMES.get(engine, engine)
    return ctx.finding(
        db,
        # a Multi-AZ DB cluster is upgraded as a cluster
        remediation_template=CLUSTER_REMEDIATION if in_cluster else None,
        title=f"{name} {major} on {db_class} is in paid RDS Extended Support ({BANDS[band]})",
        current=current,
        unavailable=unavailable,
        recommended=f"Upgrade to a major version in standard support (newest: {name} {target_major})",
        remediation_args={"target_version": target_version, "cluster_id": data.get("cluster_id")},
        evidence={
            "engine": engine, "engine_version": data.get("engine_version"), "major_version": major,
            "instance_class": db_class, "vcpus": count, "multi_az": bool(data.get("multi_az")),
            "billed_copies": copies, "band": band, **_dates_evidence(dates),
            "engine_lifecycle_support": data.get("engine_lifecycle_support"), "target_major_version": target_major,
            "upgrade_targets_command": (
                f"aws rds describe-db-engine-versions --region {db.region} --engine {engine} --engine-version "
                f"{data.get('engine_version')} --query 'DBEngineVersions[].ValidUpgradeTarget[?IsMajorVersionUpgrade]"
                ".EngineVersion'"
            ),
        },
    )


def _cluster(ctx: CheckContext, cluster: InventoryItem) -> Finding | None:
    charged = extended_support_charge(cluster, ctx.now)
    if charged is None:
        return None
    members = ctx.cluster_members(cluster)
    if not members:
        return None  # no instance, no vCPU-hours
    major, dates, band = charged
    data = cluster.data
    engine = data.get("engine") or ""
    current = ctx.bill()
    reasons: list[str] = []
    described = []
    for member in sorted(members, key=lambda m: m.resource_id):
        db_class = member.data.get("instance_class") or ""
        described.append({"db_instance": member.resource_id, "instance_class": db_class, "vcpus": vcpus(db_class)})
        if db_class == SERVERLESS_CLASS:
            reasons.append("Extended Support for Aurora Serverless v2 is billed per ACU-hour, which the price "
                           "catalogue does not hold")
        elif not add_extended_support(current, cluster.region, engine, band, db_class, label=member.resource_id):
            reasons.append(f"the vCPU count of {db_class} is not in FinOps Pack's sourced table of DB instance classes")
    target_major, target_version = _target(ctx, engine)
    name = ENGINE_NAMES.get(engine, engine)
    return ctx.finding(
        cluster,
        remediation_template=CLUSTER_REMEDIATION,
        console_template=CLUSTER_CONSOLE,
        title=f"{name} {major} cluster ({len(members)} instance{'s' if len(members) != 1 else ''}) is in paid RDS "
              f"Extended Support ({BANDS[band]})",
        current=current,
        unavailable="; ".join(dict.fromkeys(reasons)),
        recommended=f"Upgrade the cluster to a major version in standard support (newest: {name} {target_major})",
        evidence={
            "engine": engine, "engine_version": data.get("engine_version"), "major_version": major, "band": band,
            **_dates_evidence(dates), "members": described, "engine_lifecycle_support": data.get(
                "engine_lifecycle_support"), "target_major_version": target_major,
        },
        remediation_args={"target_version": target_version, "cluster_id": cluster.resource_id},
    )
