"""RDS or Aurora DB instance on an x86 class with a Graviton counterpart of the same size.

MySQL, MariaDB, PostgreSQL, Aurora MySQL and Aurora PostgreSQL on db.t3 -> db.t4g, db.m5/db.m6i -> db.m6g,
db.r5/db.r6i -> db.r6g, same size, same engine and deployment, when the catalogue prices the Graviton class
(sizes the Graviton family lacks, such as db.m5.24xlarge, are skipped). Priced as the difference of the two
classes' On-Demand hours (x 730); a counterpart that is not cheaper is not reported.

Confidence is Medium: the DB engine version must support Graviton classes (older minor versions do not;
``aws rds describe-orderable-db-instance-options`` lists the classes a version supports), and the change is
a class change with a restart. Oracle and SQL Server have no Graviton classes on RDS and are not
considered. Skipped: stopped or transitional instances.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._rds import (
    AVAILABLE,
    INSTANCE_PRICES,
    add_hours,
    db_facts,
    deployment,
    instance_key,
    price_keys,
    split_class,
    unpriced_instance,
)
from finops.checks.context import CheckContext
from finops.models import Finding

ENGINES = ("mysql", "mariadb", "postgres", "aurora-mysql", "aurora-postgresql")
GRAVITON = {"db.t3": "db.t4g", "db.m5": "db.m6g", "db.m6i": "db.m6g", "db.r5": "db.r6g", "db.r6i": "db.r6g"}


@check(
    title="RDS DB instances that could run on Graviton",
    category="Databases",
    service="rds",
    resource_type="rds:db",
    action="MigrateToGraviton",
    needs=("rds.instances",),
    prices=INSTANCE_PRICES,
    effort="Medium",
    restart_needed=True,
    rollback_possible=True,
    confidence="Medium",
    rule=(
        "Available MySQL, MariaDB, PostgreSQL or Aurora DB instance on db.t3, db.m5, db.m6i, db.r5 or db.r6i whose "
        "Graviton counterpart of the same size (db.t4g, db.m6g, db.r6g) is in the price catalogue."
    ),
    formula="(x86 class hourly price - Graviton class hourly price) x 730",
    remediation=(
        "aws rds modify-db-instance --region {region} --db-instance-identifier {resource_id} "
        "--db-instance-class {target_class}"
    ),
    console="https://{region}.console.aws.amazon.com/rds/home?region={region}#database:id={resource_id};is-cluster=false",
)
def rds_instance_graviton(ctx: CheckContext) -> Iterator[Finding]:
    keys = price_keys(ctx)
    for db in ctx.of("rds.instances"):
        data = db.data
        engine = data.get("engine") or ""
        split = split_class(data.get("instance_class"))
        if data.get("status") != AVAILABLE or engine not in ENGINES or split is None or split[0] not in GRAVITON:
            continue
        family, size = split
        target = f"{GRAVITON[family]}.{size}"
        if instance_key(engine, deployment(db), target) not in keys:
            continue
        unavailable = unpriced_instance(db, keys)
        current, after = ctx.bill(), ctx.bill("recommended")
        if not unavailable:
            add_hours(current, db)
            add_hours(after, db, target)
        yield ctx.finding(
            db,
            title=f"{data.get('instance_class')} ({engine}) could run on Graviton as {target}",
            current=current,
            after=after,
            unavailable=unavailable,
            recommended=f"{target} (check that engine version {data.get('engine_version')} supports it)",
            remediation_args={"target_class": target},
            evidence={
                **db_facts(db), "target_class": target,
                "caveat": "the engine version must support Graviton DB instance classes",
            },
        )
