"""Multi-AZ RDS DB instance tagged as non-production: it pays for a standby nobody needs.

An available DB instance outside any cluster (Aurora replicates differently; a Multi-AZ DB cluster is
another product) with ``multi_az`` true and a tag whose key is one of ``non_production_tag_keys`` and whose
value is one of ``non_production_tag_values`` (both case-insensitive, value trimmed). Savings = (Multi-AZ
instance hours + Multi-AZ storage and provisioned IOPS) - (the same on Single-AZ), from the catalogue's two
deployments of the same class and storage.

Confidence Medium: a tag is a claim, not evidence; a staging database may be kept Multi-AZ on purpose
(failover tests, release rehearsals). Converting to Single-AZ needs no restart; it removes automatic
failover. Engines the catalogue does not price are shown unpriced with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._rds import (
    AVAILABLE,
    INSTANCE_PRICES,
    STORAGE_PRICES,
    add_hours,
    add_storage,
    db_facts,
    is_aurora,
    price_keys,
    storage_unpriced,
    unpriced_engine,
)
from finops.checks.context import CheckContext
from finops.models import Finding


def non_production_tag(tags: object, keys: list[str], values: list[str]) -> tuple[str, str] | None:
    """The (key, value) tag that marks a resource non-production, or None."""
    if isinstance(tags, list):  # [{"Key": ..., "Value": ...}] as AWS returns them
        tags = {t.get("Key"): t.get("Value") for t in tags if isinstance(t, dict)}
    if not isinstance(tags, dict):
        return None
    wanted_keys, wanted_values = {k.lower() for k in keys}, {v.lower() for v in values}
    for key, value in sorted(tags.items(), key=lambda kv: str(kv[0])):
        if str(key).strip().lower() in wanted_keys and str(value or "").strip().lower() in wanted_values:
            return str(key), str(value)
    return None


@check(
    title="Multi-AZ RDS DB instances tagged non-production",
    category="Databases",
    service="rds",
    resource_type="rds:db",
    action="Rightsize",
    needs=("rds.instances",),
    prices=(*INSTANCE_PRICES, *STORAGE_PRICES),
    thresholds=("non_production_tag_keys", "non_production_tag_values"),
    effort="VeryLow",
    restart_needed=False,
    rollback_possible=True,
    confidence="Medium",
    rule=(
        "Available Multi-AZ DB instance outside any cluster with a tag key in `non_production_tag_keys` whose value "
        "is in `non_production_tag_values` (case-insensitive)."
    ),
    formula="(Multi-AZ hourly price x 730 + Multi-AZ storage and IOPS) - (Single-AZ hourly price x 730 + Single-AZ "
            "storage and IOPS)",
    remediation=(
        "aws rds modify-db-instance --region {region} --db-instance-identifier {resource_id} --no-multi-az "
        "--apply-immediately"
    ),
    console="https://{region}.console.aws.amazon.com/rds/home?region={region}#database:id={resource_id};is-cluster=false",
)
def rds_multi_az_non_production(ctx: CheckContext) -> Iterator[Finding]:
    tag_keys, tag_values = ctx.thresholds["non_production_tag_keys"], ctx.thresholds["non_production_tag_values"]
    keys = price_keys(ctx)
    for db in ctx.of("rds.instances"):
        data = db.data
        if data.get("status") != AVAILABLE or not data.get("multi_az") or data.get("cluster_id") or is_aurora(db):
            continue
        tag = non_production_tag(data.get("tags"), tag_keys, tag_values)
        if tag is None:
            continue
        engine, db_class = data.get("engine") or "", data.get("instance_class") or ""
        unavailable = unpriced_engine(engine) or storage_unpriced(db)
        if not unavailable:
            for az in ("multi", "single"):
                if f"rds.instance.{engine}.{az}.{db_class}" not in keys:
                    unavailable = f"On-Demand prices for {db_class} ({engine}) are not in the price catalogue"
        current, after = ctx.bill(), ctx.bill("recommended")
        if not unavailable:
            add_hours(current, db, az="multi")
            add_storage(current, db, az="multi")
            add_hours(after, db, az="single")
            add_storage(after, db, az="single")
        yield ctx.finding(
            db,
            title=f"Multi-AZ {db_class} ({engine}) tagged {tag[0]}={tag[1]}",
            current=current,
            after=after,
            unavailable=unavailable,
            recommended="Single-AZ",
            evidence={**db_facts(db), "non_production_tag": {"key": tag[0], "value": tag[1]}},
        )
