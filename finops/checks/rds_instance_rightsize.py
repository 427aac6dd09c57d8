"""Over-provisioned RDS or Aurora DB instance: its CPU stays low, so one size smaller does the work.

An available DB instance (Aurora cluster members included) with CloudWatch ``CPUUtilization`` (daily
maximum) on at least ``metrics_min_days`` days whose 95th percentile is at most
``rds_rightsize_cpu_percent``: the next smaller size of the same family, same engine and deployment,
roughly halves the capacity and keeps the peak well below saturation. Priced as the difference of the two
classes' On-Demand hours (x 730); storage is unchanged.

Only CPU is judged: memory (buffer cache), network and storage throughput are not, so the confidence is
Medium and the change needs a restart (the class change is applied in the next maintenance window unless
applied immediately). Skipped: sizes with no smaller size the catalogue knows for the family (a class it
never names is not recommended), Aurora Serverless v2 and other classes outside the size ladder, instances
with too few days of data. Engines the catalogue does not price are shown unpriced with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._rds import (
    AVAILABLE,
    CPU_MAX,
    INSTANCE_PRICES,
    PRICED_ENGINES,
    add_hours,
    catalogue_classes,
    db_facts,
    deployment,
    enough,
    instance_key,
    nearest_smaller_class,
    price_keys,
    unpriced_instance,
)
from finops.checks.context import CheckContext
from finops.models import Finding


@check(
    title="Over-provisioned RDS DB instances",
    category="Databases",
    service="rds",
    resource_type="rds:db",
    action="Rightsize",
    needs=("rds.instances", "cloudwatch.metrics"),
    prices=INSTANCE_PRICES,
    thresholds=("metrics_min_days", "rds_rightsize_cpu_percent"),
    effort="Low",
    restart_needed=True,
    rollback_possible=True,
    confidence="Medium",
    rule=(
        "Available DB instance (Aurora members included) whose `CPUUtilization` daily maximum has a 95th "
        "percentile at most `rds_rightsize_cpu_percent` over at least `metrics_min_days` days; the next smaller "
        "size of the same family the catalogue knows."
    ),
    formula="(current class hourly price - one-size-smaller class hourly price) x 730",
    remediation=(
        "aws rds modify-db-instance --region {region} --db-instance-identifier {resource_id} "
        "--db-instance-class {target_class}"
    ),
    console="https://{region}.console.aws.amazon.com/rds/home?region={region}#database:id={resource_id};is-cluster=false",
)
def rds_instance_rightsize(ctx: CheckContext) -> Iterator[Finding]:
    min_days = ctx.thresholds["metrics_min_days"]
    limit = ctx.thresholds["rds_rightsize_cpu_percent"]
    keys = price_keys(ctx)
    known = catalogue_classes(keys)
    for db in ctx.of("rds.instances"):
        data = db.data
        if data.get("status") != AVAILABLE:
            continue
        cpu = ctx.metric(db, CPU_MAX)
        if not enough(cpu, min_days) or cpu.p95 is None or cpu.p95 > limit:
            continue
        current_class = data.get("instance_class") or ""
        target = nearest_smaller_class(current_class, known)
        if target is None:
            continue
        engine = data.get("engine") or ""
        az = deployment(db)
        if engine in PRICED_ENGINES and instance_key(engine, az, target) not in keys:
            continue  # the smaller class is not offered for this engine and deployment
        unavailable = unpriced_instance(db, keys)
        current, after = ctx.bill(), ctx.bill("recommended")
        if not unavailable:
            add_hours(current, db)
            add_hours(after, db, target)
        yield ctx.finding(
            db,
            title=f"{current_class} ({engine}) could be {target}: CPU 95th percentile {cpu.p95:g}%",
            current=current,
            after=after,
            unavailable=unavailable,
            recommended=target,
            remediation_args={"target_class": target},
            evidence={
                **db_facts(db), "target_class": target, "cpu_p95_percent": cpu.p95, "cpu_max_percent": cpu.max,
                "days_with_data": cpu.days, "metrics": {CPU_MAX: cpu.evidence()},
                "not_judged": "memory, network and storage throughput",
            },
        )
