"""RDS DB instance on a previous-generation class: the current generation of the same size costs less.

db.t2 -> db.t3, db.m3/db.m4 -> db.m5, db.r3/db.r4 -> db.r5, same size, same engine and deployment, when
the catalogue prices the successor (a class it never names is not recommended). Priced as the difference of
the two classes' On-Demand hours (x 730); a successor that is not cheaper is not reported. Aurora members
are included (each Aurora instance is priced on its own).

AWS has been moving these classes itself (Amazon RDS User Guide, "DB instance class types",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Types.html: automatic
upgrades of db.m3/db.r3 from February 2023, of db.m4/db.r4/db.t2 from June 2024), so such instances are rare;
those that remain pay the older price. Skipped: stopped or transitional instances and sizes the successor
family lacks (db.m3.medium, db.m4.10xlarge). Engines the catalogue does not price are shown unpriced.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._rds import (
    AVAILABLE,
    INSTANCE_PRICES,
    PRICED_ENGINES,
    add_hours,
    catalogue_classes,
    db_facts,
    deployment,
    instance_key,
    price_keys,
    split_class,
    unpriced_instance,
)
from finops.checks.context import CheckContext
from finops.models import Finding

SUCCESSORS = {"db.t2": "db.t3", "db.m3": "db.m5", "db.m4": "db.m5", "db.r3": "db.r5", "db.r4": "db.r5"}


@check(
    title="RDS DB instances on previous-generation classes",
    category="Databases",
    service="rds",
    resource_type="rds:db",
    action="Upgrade",
    needs=("rds.instances",),
    prices=INSTANCE_PRICES,
    effort="Low",
    restart_needed=True,
    rollback_possible=True,
    confidence="High",
    rule=(
        "Available DB instance on db.t2, db.m3, db.m4, db.r3 or db.r4; the successor of the same size "
        "(db.t3, db.m5, db.r5) is in the price catalogue for the same engine and deployment."
    ),
    formula="(previous-generation hourly price - successor hourly price) x 730",
    remediation=(
        "aws rds modify-db-instance --region {region} --db-instance-identifier {resource_id} "
        "--db-instance-class {target_class}"
    ),
    console="https://{region}.console.aws.amazon.com/rds/home?region={region}#database:id={resource_id};is-cluster=false",
)
def rds_instance_previous_generation(ctx: CheckContext) -> Iterator[Finding]:
    keys = price_keys(ctx)
    known = catalogue_classes(keys)
    for db in ctx.of("rds.instances"):
        data = db.data
        split = split_class(data.get("instance_class"))
        if data.get("status") != AVAILABLE or split is None or split[0] not in SUCCESSORS:
            continue
        family, size = split
        target = f"{SUCCESSORS[family]}.{size}"
        engine = data.get("engine") or ""
        if engine in PRICED_ENGINES:
            if instance_key(engine, deployment(db), target) not in keys:
                continue
        elif target not in known:  # a class the catalogue never names is not recommended
            continue
        unavailable = unpriced_instance(db, keys)
        current, after = ctx.bill(), ctx.bill("recommended")
        if not unavailable:
            add_hours(current, db)
            add_hours(after, db, target)
        yield ctx.finding(
            db,
            title=f"{data.get('instance_class')} ({engine}) is a previous generation: {target} is its successor",
            current=current,
            after=after,
            unavailable=unavailable,
            recommended=target,
            remediation_args={"target_class": target},
            evidence={**db_facts(db), "target_class": target, "previous_generation_family": family},
        )
