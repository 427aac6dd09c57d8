"""gp2 volume that gp3 serves for less: same performance, lower storage price, changed in place.

gp3 storage is cheaper per GiB than gp2 and includes 3,000 IOPS and 125 MiB/s whatever the
size; gp2's performance grows with size (3 IOPS per GiB, bursting to 3,000 below 1 TiB;
128 MiB/s up to 170 GiB, 250 MiB/s above). ``modify-volume`` changes the type online, with no
detach and no restart.

Priced as gp2 storage now, against gp3 storage plus the IOPS and throughput above gp3's included
baseline that match the gp2 volume's own performance (``gp2_baseline``: max(3,000, 3 x GiB) IOPS
up to 16,000, and 125 or 250 MiB/s). Reported only when that is cheaper (very large volumes can
cost more on gp3 at matched performance; the runner drops those).

Skipped: volumes being deleted or in error. An unattached gp2 volume is reported here too; the
merge counts its deletion instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._ec2 import VOLUME_CONSOLE
from finops.checks.context import CheckContext
from finops.checks.costs import VOLUME_PRICES, add_volume, add_volume_item, gp2_baseline
from finops.models import Finding

GONE = ("deleting", "deleted", "error")


@check(
    title="gp2 EBS volumes",
    category="Storage",
    service="ec2",
    resource_type="ec2:volume",
    action="Upgrade",
    needs=("ec2.volumes",),
    prices=VOLUME_PRICES,
    effort="VeryLow",
    restart_needed=False,
    rollback_possible=True,
    confidence="High",
    rule="Volume type `gp2` (any attachment state) and cheaper as gp3 with the same IOPS and throughput.",
    formula=(
        "gp2 GiB x gp2 price - (GiB x gp3 price + IOPS above 3,000 x gp3 IOPS price + MiB/s above 125 x gp3 "
        "throughput price), IOPS = max(3,000, 3 x GiB) up to 16,000, MiB/s = 125 up to 170 GiB else 250"
    ),
    remediation=(
        "aws ec2 modify-volume --region {region} --volume-id {resource_id} --volume-type gp3 --iops {iops} "
        "--throughput {throughput}"
    ),
    console=VOLUME_CONSOLE,
)
def ec2_ebs_gp2_to_gp3(ctx: CheckContext) -> Iterator[Finding]:
    for volume in ctx.of("ec2.volumes"):
        data = volume.data
        if data.get("volume_type") != "gp2" or data.get("state") in GONE:
            continue
        size = data.get("size_gib") or 0
        iops, throughput = gp2_baseline(size)
        yield ctx.finding(
            volume,
            title=f"gp2 volume, {size} GiB: gp3 at {iops} IOPS and {throughput} MiB/s costs less",
            current=add_volume_item(ctx.bill(), volume),
            after=add_volume(ctx.bill("recommended"), volume.region, "gp3", size, iops, throughput),
            recommended=f"gp3, {iops} IOPS, {throughput} MiB/s",
            remediation_args={"iops": iops, "throughput": throughput},
            evidence={
                "volume_type": "gp2", "size_gib": size, "state": data.get("state"),
                "gp2_baseline_iops": max(min(3 * int(size), 16000), 100),
                "gp2_burst_iops": 3000 if int(size) < 1000 else None,
                "gp2_throughput_mibps": 128 if int(size) <= 170 else 250,
                "gp3_iops": iops, "gp3_throughput_mibps": throughput,
                "attached_to": [a.get("instance_id") for a in data.get("attachments") or []],
            },
        )
