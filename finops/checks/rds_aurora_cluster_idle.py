"""Idle Aurora cluster: none of its instances had a connection during the lookback.

An available Aurora MySQL or Aurora PostgreSQL cluster, at least ``metrics_min_days`` old, whose every
instance (the cluster's ``members`` and the inventory's instances of the cluster agree) has CloudWatch
``DatabaseConnections`` (daily maximum) on at least ``metrics_min_days`` days, none above
``rds_idle_max_connections``. Priced as a Delete of the instances: each provisioned instance's On-Demand
hours (Aurora prices every instance on its own), plus their RDS Extended Support surcharge when the
cluster's major version pays it; the finding covers the instances, so their own findings
are not counted again. Cluster storage is billed for what the cluster volume holds (``VolumeBytesUsed``,
not read here) and I/O per request: the saving leaves both out and is a lower bound. The remediation
deletes the instances, then the cluster with a final snapshot.

Unpriced, with the reason: clusters with Aurora Serverless v2 instances (billed in ACU-hours, not in the
catalogue). Skipped: clusters with no instance, with an instance the inventory lacks or with too few days
of data. Known blind spot: a secondary cluster of an Aurora global database, or a cross-Region replica
cluster, takes no connections by design; the inventory does not say which clusters are replicas, hence
the confidence Medium.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._rds import (
    AURORA_ENGINES,
    AVAILABLE,
    CONNECTIONS_MAX,
    SERVERLESS_CLASS,
    add_extended_support,
    add_hours,
    enough,
    extended_support_charge,
    price_keys,
    unpriced_instance,
)
from finops.checks.context import CheckContext
from finops.models import Finding

DELETE_INSTANCE = "aws rds delete-db-instance --region {region} --db-instance-identifier {member_id}"
DELETE_CLUSTER = (
    "aws rds delete-db-cluster --region {region} --db-cluster-identifier {resource_id} "
    "--final-db-snapshot-identifier {snapshot_id}"
)


@check(
    title="Idle Aurora clusters",
    category="Databases",
    service="rds",
    resource_type="rds:cluster",
    action="Delete",
    needs=("rds.clusters", "rds.instances", "cloudwatch.metrics"),
    prices=("rds.instance.aurora-*", "rds.extended_support.aurora-*"),
    thresholds=("metrics_min_days", "rds_idle_max_connections"),
    effort="Low",
    restart_needed=False,
    rollback_possible=False,
    confidence="Medium",
    rule=(
        "Available Aurora cluster, created at least `metrics_min_days` days ago, whose every instance has "
        "`DatabaseConnections` (daily maximum) on at least `metrics_min_days` days, never above "
        "`rds_idle_max_connections`."
    ),
    formula=(
        "sum of the instances' On-Demand hourly prices x 730 (+ their Extended Support surcharge when charged); "
        "cluster storage and I/O excluded: a lower bound"
    ),
    remediation=DELETE_CLUSTER,
    console="https://{region}.console.aws.amazon.com/rds/home?region={region}#database:id={resource_id};is-cluster=true",
)
def rds_aurora_cluster_idle(ctx: CheckContext) -> Iterator[Finding]:
    min_days = ctx.thresholds["metrics_min_days"]
    max_connections = ctx.thresholds["rds_idle_max_connections"]
    keys = price_keys(ctx)
    for cluster in ctx.of("rds.clusters"):
        data = cluster.data
        if data.get("engine") not in AURORA_ENGINES or data.get("status") != AVAILABLE:
            continue
        age = ctx.days_since(data.get("create_time"))
        if age is None or age < min_days:
            continue
        members = sorted(ctx.cluster_members(cluster), key=lambda m: m.resource_id)
        listed = set(data.get("members") or ())
        if not members or not listed <= {m.resource_id for m in members}:
            continue  # an instance the inventory lacks cannot be judged
        evidence_by_member = {}
        idle = True
        for member in members:
            connections = ctx.metric(member, CONNECTIONS_MAX)
            if not enough(connections, min_days) or connections.max is None or connections.max > max_connections:
                idle = False
                break
            evidence_by_member[member.resource_id] = connections
        if not idle:
            continue
        reasons = [reason for m in members if (reason := unpriced_instance(m, keys))]
        current = ctx.bill()
        extended = extended_support_charge(cluster, ctx.now)
        surcharge = "not charged"
        if not reasons:
            for member in members:
                add_hours(current, member, label=member.resource_id)
            if extended is not None:
                added = [add_extended_support(current, cluster.region, data.get("engine") or "", extended[2],
                                              m.data.get("instance_class") or "", label=m.resource_id) for m in members]
                surcharge = "included" if all(added) else "partly left out (vCPUs unknown): the saving is a lower bound"
        serverless = sum(1 for m in members if m.data.get("instance_class") == SERVERLESS_CLASS)
        # delete each instance, then the cluster (with its final snapshot)
        instances = [DELETE_INSTANCE.replace("{member_id}", f"{{member_{n}}}") for n in range(len(members))]
        yield ctx.finding(
            cluster,
            remediation_template=" && ".join([*instances, DELETE_CLUSTER]),
            title=f"Idle {data.get('engine')} cluster: {len(members)} instance{'s' if len(members) != 1 else ''}, "
                  f"no connection on any of {min(c.days for c in evidence_by_member.values())} days",
            current=current,
            unavailable="; ".join(dict.fromkeys(reasons)),
            recommended="Delete the cluster and its instances (after a final snapshot); the saving excludes cluster "
                        "storage and I/O, so it is a lower bound",
            covers=[m.resource_id for m in members],
            remediation_args={"snapshot_id": f"{cluster.resource_id}-final",
                              **{f"member_{n}": m.resource_id for n, m in enumerate(members)}},
            evidence={
                "engine": data.get("engine"), "engine_version": data.get("engine_version"),
                "engine_mode": data.get("engine_mode"), "created": data.get("create_time"), "age_days": round(age, 1),
                "members": [{"db_instance": m.resource_id, "instance_class": m.data.get("instance_class"),
                             "max_daily_connections": evidence_by_member[m.resource_id].max,
                             "days_with_data": evidence_by_member[m.resource_id].days} for m in members],
                "serverless_v2_instances": serverless,
                "metrics": {f"{member_id}:{CONNECTIONS_MAX}": summary.evidence()
                            for member_id, summary in evidence_by_member.items()},
                "excluded": "cluster storage (VolumeBytesUsed) and I/O requests: the saving is a lower bound",
                "extended_support_surcharge": surcharge,
            },
        )
