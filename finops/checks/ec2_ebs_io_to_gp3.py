"""io1/io2 volume whose provisioned IOPS gp3 can deliver for much less.

Provisioned IOPS SSDs bill every provisioned IOPS monthly on top of a higher storage price. gp3
delivers up to 16,000 IOPS and 1,000 MiB/s, 3,000 IOPS and 125 MiB/s included.

Priced as the io volume now (storage + provisioned IOPS, io2 tiered) against gp3 of the same size
with IOPS = max(3,000, provisioned IOPS) and throughput matching what the io volume delivers:
io1/io2 move up to 256 KiB per I/O at the provisioned rate, so IOPS / 4 MiB/s (rounded up, at
least 125, at most gp3's 1,000, and at most 0.25 MiB/s per gp3 IOPS as gp3 requires).

What is given up, hence confidence Medium: io2's 99.999% durability (gp3: 99.8-99.9%) and
io1/io2's sub-millisecond, consistent latency; an io2 volume above 4,000 IOPS can move more than
gp3's 1,000 MiB/s. The evidence says so.

Skipped: provisioned IOPS above ``io_to_gp3_max_iops`` (or above gp3's 16,000 whatever the
threshold), volumes larger than gp3's 16 TiB, volumes whose IOPS exceed gp3's 500 IOPS per GiB,
Multi-Attach volumes (gp3 cannot be attached to several instances), volumes being deleted or in error.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from finops.checks import check
from finops.checks._ec2 import VOLUME_CONSOLE
from finops.checks.context import CheckContext
from finops.checks.costs import (
    GP3_BASE_IOPS,
    GP3_BASE_THROUGHPUT,
    GP3_MAX_IOPS,
    GP3_MAX_THROUGHPUT,
    VOLUME_PRICES,
    add_volume,
    add_volume_item,
)
from finops.models import Finding

GP3_MAX_GIB = 16384
GP3_IOPS_PER_GIB = 500
GONE = ("deleting", "deleted", "error")


def gp3_equivalent(provisioned_iops: int) -> tuple[int, int]:
    """(IOPS, MiB/s) of a gp3 volume matching an io1/io2 volume's provisioned IOPS."""
    iops = max(GP3_BASE_IOPS, provisioned_iops)
    throughput = max(GP3_BASE_THROUGHPUT, min(GP3_MAX_THROUGHPUT, math.ceil(provisioned_iops / 4), iops // 4))
    return iops, throughput


@check(
    title="io1 and io2 volumes that gp3 can serve",
    category="Storage",
    service="ec2",
    resource_type="ec2:volume",
    action="Rightsize",
    needs=("ec2.volumes",),
    prices=VOLUME_PRICES,
    thresholds=("io_to_gp3_max_iops",),
    effort="Low",
    restart_needed=False,
    rollback_possible=True,
    confidence="Medium",
    rule=(
        "Volume type `io1` or `io2` provisioned with at most `io_to_gp3_max_iops` IOPS (and within gp3's limits: "
        "16,000 IOPS, 500 IOPS per GiB, 16 TiB, no Multi-Attach)."
    ),
    formula=(
        "(GiB x io storage price + provisioned IOPS x io IOPS price) - (GiB x gp3 price + IOPS above 3,000 x gp3 "
        "IOPS price + MiB/s above 125 x gp3 throughput price), gp3 IOPS = max(3,000, provisioned), MiB/s = "
        "provisioned IOPS / 4 (256 KiB per I/O), 125 to 1,000"
    ),
    remediation=(
        "aws ec2 modify-volume --region {region} --volume-id {resource_id} --volume-type gp3 --iops {iops} "
        "--throughput {throughput}"
    ),
    console=VOLUME_CONSOLE,
)
def ec2_ebs_io_to_gp3(ctx: CheckContext) -> Iterator[Finding]:
    max_iops = min(ctx.thresholds["io_to_gp3_max_iops"], GP3_MAX_IOPS)
    for volume in ctx.of("ec2.volumes"):
        data = volume.data
        volume_type = data.get("volume_type")
        if volume_type not in ("io1", "io2") or data.get("state") in GONE:
            continue
        provisioned = int(data.get("iops") or 0)
        size = int(data.get("size_gib") or 0)
        if provisioned <= 0 or provisioned > max_iops or size <= 0 or size > GP3_MAX_GIB:
            continue
        if data.get("multi_attach_enabled") or len(data.get("attachments") or []) > 1:
            continue
        iops, throughput = gp3_equivalent(provisioned)
        if iops > GP3_BASE_IOPS and iops > GP3_IOPS_PER_GIB * size:
            continue
        yield ctx.finding(
            volume,
            title=f"{volume_type} volume, {size} GiB, {provisioned} IOPS: gp3 at {iops} IOPS and {throughput} MiB/s "
                  f"costs less",
            current=add_volume_item(ctx.bill(), volume),
            after=add_volume(ctx.bill("recommended"), volume.region, "gp3", size, iops, throughput),
            recommended=f"gp3, {iops} IOPS, {throughput} MiB/s",
            remediation_args={"iops": iops, "throughput": throughput},
            evidence={
                "volume_type": volume_type, "size_gib": size, "provisioned_iops": provisioned,
                "io_throughput_mibps": provisioned / 4, "state": data.get("state"),
                "gp3_iops": iops, "gp3_throughput_mibps": throughput,
                "attached_to": [a.get("instance_id") for a in data.get("attachments") or []],
                "given_up": "the sub-millisecond, consistent latency of Provisioned IOPS SSDs"
                + (", and io2's 99.999% durability (gp3: 99.8-99.9%)" if volume_type == "io2" else "")
                + "; gp3 tops out at 1,000 MiB/s",
            },
        )
