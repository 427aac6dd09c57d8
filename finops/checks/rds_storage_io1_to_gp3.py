"""Provisioned IOPS (io1/io2) RDS storage whose IOPS gp3 serves for less.

RDS gp3 for MariaDB, MySQL and PostgreSQL includes 3,000 IOPS below 400 GiB and 12,000 IOPS from 400 GiB,
and from 400 GiB provisions up to 64,000 IOPS (Amazon RDS User Guide, gp3 storage,
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html#gp3-storage). An available DB
instance (not Aurora, not a Multi-AZ DB cluster member: gp3 is not offered there) on io1 or io2 with at most
64,000 provisioned IOPS is reported with the gp3 configuration that keeps its IOPS: the same size when the
included IOPS suffice or it is already 400 GiB or more, otherwise 400 GiB (the smallest size where gp3 can
exceed 3,000 IOPS; storage cannot shrink later, and the larger size is priced).

Savings = (io storage + io provisioned IOPS) - (gp3 storage + gp3 IOPS above the included baseline), in the
instance's deployment (Single-AZ or Multi-AZ). io2 IOPS are priced with the catalogue's io2 key; where the
catalogue has none the finding is unpriced with that reason. Unpriced too: MySQL/MariaDB above 32,000 IOPS,
where RDS raises gp3 throughput above 500 MiBps and bills it (no catalogue price).

Confidence Medium: io1/io2 throughput scales with IOPS while gp3 includes 125 MiBps (below 400 GiB) or
500 MiBps, and io latency is more consistent; storage throughput is not measured here. The change is a
storage modification without a restart, but storage cannot be modified again for six hours (or until the
storage-optimization status ends, whichever is longer). Other engines (Oracle, SQL Server, Db2) have other
gp3 thresholds and are not considered.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from finops.checks import check
from finops.checks._rds import (
    AVAILABLE,
    GP3_AUTO_THROUGHPUT_IOPS,
    GP3_BASE_IOPS,
    GP3_MAX_IOPS,
    GP3_STRIPING_GIB,
    STORAGE_PRICES,
    add_storage,
    az_name,
    db_facts,
    deployment,
    gp3_baseline,
    quantity,
)
from finops.checks.context import CheckContext
from finops.models import Finding

ENGINES = ("mysql", "mariadb", "postgres")
WITH_IOPS = (
    "aws rds modify-db-instance --region {region} --db-instance-identifier {resource_id} --storage-type gp3 "
    "--allocated-storage {target_size} --iops {target_iops} --apply-immediately"
)


@check(
    title="RDS io1/io2 storage that gp3 can serve",
    category="Databases",
    service="rds",
    resource_type="rds:db",
    action="Rightsize",
    needs=("rds.instances",),
    prices=STORAGE_PRICES,
    effort="Low",
    restart_needed=False,
    rollback_possible=True,
    confidence="Medium",
    rule=(
        "Available MariaDB, MySQL or PostgreSQL DB instance on io1/io2 storage with at most 64,000 provisioned "
        "IOPS; gp3 at the same size, or at 400 GiB when more than 3,000 IOPS are needed below 400 GiB."
    ),
    formula="(io GiB x io storage price + IOPS x io IOPS price) - (gp3 GiB x gp3 price + IOPS above the gp3 "
            "baseline x gp3 IOPS price)",
    remediation=(
        "aws rds modify-db-instance --region {region} --db-instance-identifier {resource_id} --storage-type gp3 "
        "--allocated-storage {target_size} --apply-immediately"
    ),
    console="https://{region}.console.aws.amazon.com/rds/home?region={region}#database:id={resource_id};is-cluster=false",
)
def rds_storage_io1_to_gp3(ctx: CheckContext) -> Iterator[Finding]:
    for db in ctx.of("rds.instances"):
        data = db.data
        storage_type, engine = data.get("storage_type"), data.get("engine") or ""
        if storage_type not in ("io1", "io2") or engine not in ENGINES:
            continue
        if data.get("status") != AVAILABLE or data.get("cluster_id"):
            continue
        iops = int(data.get("iops") or 0)
        size = Decimal(str(data.get("allocated_storage_gib") or 0))
        if iops <= 0 or size <= 0 or iops > GP3_MAX_IOPS:
            continue
        threshold = GP3_STRIPING_GIB[engine]
        target_size = size if size >= threshold or iops <= GP3_BASE_IOPS else Decimal(threshold)
        baseline = gp3_baseline(engine, target_size)
        if baseline is None:  # every engine of ENGINES has a sourced threshold; kept for safety
            continue
        target_iops = max(iops, baseline[0])
        unavailable = ""
        if engine in GP3_AUTO_THROUGHPUT_IOPS and target_iops > GP3_AUTO_THROUGHPUT_IOPS[engine]:
            unavailable = (f"above {GP3_AUTO_THROUGHPUT_IOPS[engine]:,} IOPS RDS raises {engine} gp3 throughput above "
                           f"{baseline[1]} MiBps and bills it, which the price catalogue does not price")
        az = deployment(db)
        current = add_storage(ctx.bill(), db, label="now")
        after = add_storage(ctx.bill("recommended"), db, storage_type="gp3", size_gib=target_size, iops=target_iops,
                            label="gp3")
        grown = target_size != size
        extra = target_iops - baseline[0]
        recommended = (
            f"gp3, {quantity(target_size)} GiB"
            + (f" (gp3 provisions more than {GP3_BASE_IOPS:,} IOPS only from {threshold} GiB)" if grown else "")
            + f", {target_iops:,} IOPS ({baseline[0]:,} included); storage cannot be modified again for 6 hours"
        )
        yield ctx.finding(
            db,
            # more IOPS than gp3 includes at this size are provisioned explicitly
            remediation_template=WITH_IOPS if extra > 0 else None,
            title=f"{storage_type} storage, {quantity(size)} GiB with {iops:,} IOPS ({az_name(az)}) could be gp3"
                  + (f" at {quantity(target_size)} GiB" if grown else ""),
            current=current,
            after=after,
            unavailable=unavailable,
            recommended=recommended,
            rollback_possible=not grown,
            remediation_args={"target_size": quantity(target_size), "target_iops": target_iops},
            evidence={
                **db_facts(db), "target_storage_type": "gp3", "target_size_gib": quantity(target_size),
                "target_iops": target_iops, "gp3_included_iops": baseline[0],
                "gp3_included_throughput_mibps": baseline[1], "gp3_extra_iops": extra, "storage_grown": grown,
                "not_judged": "storage throughput and latency (io1/io2 throughput scales with IOPS)",
            },
        )
