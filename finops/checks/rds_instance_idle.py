"""Idle RDS DB instance: nobody connected to it for the whole lookback, yet every hour and GiB is billed.

An available DB instance (not an Aurora cluster member: ``rds_aurora_cluster_idle`` judges those as a
cluster) at least ``metrics_min_days`` old, with CloudWatch ``DatabaseConnections`` (daily maximum) on at
least ``metrics_min_days`` days and no day above ``rds_idle_max_connections``. Priced as a Delete: its
On-Demand hours (Single-AZ or Multi-AZ), allocated storage and provisioned IOPS, plus the RDS Extended
Support surcharge when its major version pays it on the review's date (see ``rds_extended_support``;
left out, and said so, when the class's vCPUs are not in the sourced table). The remediation takes a
final snapshot; its cost is shown beside the saving as an upper bound (allocated GiB x backup storage
price: a snapshot holds at most the used blocks), never inside the saving.

Skipped: stopped or transitional instances, instances younger than the evidence window, instances with
fewer days of data, and any day with a connection (a weekly batch job keeps an instance). Engines the
catalogue does not price (Oracle, SQL Server, Db2) are shown unpriced with the reason. Not seen by this
check: read replicas reading from it, or applications that connect less often than the lookback.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._rds import (
    AVAILABLE,
    CONNECTIONS_MAX,
    INSTANCE_PRICES,
    STORAGE_PRICES,
    add_extended_support,
    add_hours,
    add_storage,
    db_facts,
    enough,
    extended_support_charge,
    extended_support_copies,
    price_keys,
    storage_unpriced,
    unpriced_instance,
)
from finops.checks.context import CheckContext
from finops.models import Finding


@check(
    title="Idle RDS DB instances",
    category="Databases",
    service="rds",
    resource_type="rds:db",
    action="Delete",
    needs=("rds.instances", "cloudwatch.metrics"),
    prices=(*INSTANCE_PRICES, *STORAGE_PRICES, "rds.snapshot", "rds.extended_support.*"),
    thresholds=("metrics_min_days", "rds_idle_max_connections"),
    effort="Low",
    restart_needed=False,
    rollback_possible=False,
    confidence="Medium",
    rule=(
        "Available DB instance outside an Aurora cluster, created at least `metrics_min_days` days ago, with "
        "`DatabaseConnections` (daily maximum) on at least `metrics_min_days` days and never above "
        "`rds_idle_max_connections`."
    ),
    formula=(
        "On-Demand hourly price x 730 + allocated GiB x storage price + provisioned IOPS x IOPS price (+ the "
        "Extended Support surcharge when the major version pays it)"
    ),
    remediation=(
        "aws rds delete-db-instance --region {region} --db-instance-identifier {resource_id} "
        "--final-db-snapshot-identifier {snapshot_id}"
    ),
    console="https://{region}.console.aws.amazon.com/rds/home?region={region}#database:id={resource_id};is-cluster=false",
)
def rds_instance_idle(ctx: CheckContext) -> Iterator[Finding]:
    min_days = ctx.thresholds["metrics_min_days"]
    max_connections = ctx.thresholds["rds_idle_max_connections"]
    keys = price_keys(ctx)
    for db in ctx.of("rds.instances"):
        data = db.data
        if data.get("status") != AVAILABLE or data.get("cluster_id"):
            continue
        age = ctx.days_since(data.get("create_time"))
        if age is None or age < min_days:
            continue
        connections = ctx.metric(db, CONNECTIONS_MAX)
        if not enough(connections, min_days) or connections.max is None or connections.max > max_connections:
            continue
        unavailable = unpriced_instance(db, keys) or storage_unpriced(db)
        current = ctx.bill()
        extended = extended_support_charge(db, ctx.now)
        surcharge = "not charged"
        if not unavailable:
            add_hours(current, db)
            add_storage(current, db)
            if extended is not None:
                added = add_extended_support(current, db.region, data.get("engine") or "", extended[2],
                                             data.get("instance_class") or "", extended_support_copies(db))
                surcharge = "included" if added else "left out (vCPUs unknown): the saving is a lower bound"
        size = data.get("allocated_storage_gib") or 0
        snapshot = ctx.bill("note").add(
            "rds.snapshot", db.region, size, "final snapshot before deleting (upper bound: allocated size)"
        )
        yield ctx.finding(
            db,
            title=f"Idle {data.get('engine')} DB instance {data.get('instance_class')}: "
                  f"no connection on any of {connections.days} days",
            current=current,
            notes=snapshot,
            unavailable=unavailable,
            recommended="Delete (after a final snapshot)",
            remediation_args={"snapshot_id": f"{db.resource_id}-final"},
            evidence={
                **db_facts(db), "age_days": round(age, 1),
                "max_daily_connections": connections.max, "days_with_data": connections.days,
                "metrics": {CONNECTIONS_MAX: connections.evidence()},
                "final_snapshot_monthly_upper_bound": str(snapshot.total) if snapshot.total is not None else None,
                "extended_support_surcharge": surcharge,
            },
        )
