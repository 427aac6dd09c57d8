"""gp3 volume paying for IOPS or throughput above its 3,000 IOPS / 125 MiB/s baseline that it never uses.

gp3 bills every IOPS above 3,000 and every MiB/s above 125 monthly, whether used or not; both can
be lowered online with ``modify-volume``.

Evidence: CloudWatch ``VolumeReadOps``, ``VolumeWriteOps``, ``VolumeReadBytes`` and
``VolumeWriteBytes`` daily Maximum, i.e. the busiest data point of each day. Data points are
assumed to be one minute long, so a day's peak IOPS = (read ops + write ops) / 60 and its peak
throughput = (read bytes + write bytes) / 60 / 2^20 MiB/s (adding the read and the write peaks
may add two different minutes: an overstatement). Where the data points are really five
minutes long, the peak is overstated and less is recommended: the conservative side. The 95th
percentile of the daily peaks (nearest rank) plus ``ebs_iops_headroom_percent`` gives the
recommendation: IOPS rounded up to a multiple of 100, at least 3,000; MiB/s rounded up to a
multiple of 5, at least 125; neither above what is provisioned, and IOPS at least 4 x MiB/s
(gp3 allows at most 0.25 MiB/s per IOPS).

Priced as the volume now against the same volume with the recommended IOPS and throughput: the
storage cancels out, the saving is the IOPS and MiB/s lowered x the gp3 IOPS and throughput
prices. Confidence Medium (a rare burst beyond the 95th percentile would be throttled).

Skipped: volumes with fewer than ``metrics_min_days`` days of data (an unattached volume reports
none), volumes where any of the four series was not collected, and volumes where nothing can be
lowered.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._ec2 import VOLUME_CONSOLE, ceil_to, metrics_evidence, p95
from finops.checks.context import CheckContext
from finops.checks.costs import GP3_BASE_IOPS, GP3_BASE_THROUGHPUT, add_volume, add_volume_item
from finops.models import Finding

SECONDS_PER_DATAPOINT = 60
MIB = 2**20
SERIES = ("VolumeReadOps.Maximum", "VolumeWriteOps.Maximum", "VolumeReadBytes.Maximum", "VolumeWriteBytes.Maximum")


@check(
    title="Over-provisioned gp3 volumes",
    category="Storage",
    service="ec2",
    resource_type="ec2:volume",
    action="Rightsize",
    needs=("ec2.volumes", "cloudwatch.metrics"),
    prices=("ebs.gp3.storage", "ebs.gp3.iops", "ebs.gp3.throughput"),
    thresholds=("metrics_min_days", "ebs_iops_headroom_percent"),
    effort="VeryLow",
    restart_needed=False,
    rollback_possible=True,
    confidence="Medium",
    rule=(
        "gp3 provisioned above 3,000 IOPS or 125 MiB/s whose 95th-percentile daily peak (busiest minute) plus "
        "`ebs_iops_headroom_percent` is below what is provisioned, over at least `metrics_min_days` days."
    ),
    formula=(
        "IOPS lowered x gp3 IOPS price + MiB/s lowered x gp3 throughput price; recommended = max(3,000 IOPS / 125 "
        "MiB/s, p95 of daily peak x (1 + headroom)), rounded up to 100 IOPS / 5 MiB/s"
    ),
    remediation=(
        "aws ec2 modify-volume --region {region} --volume-id {resource_id} --iops {iops} --throughput {throughput}"
    ),
    console=VOLUME_CONSOLE,
)
def ec2_ebs_gp3_overprovisioned(ctx: CheckContext) -> Iterator[Finding]:
    min_days = ctx.thresholds["metrics_min_days"]
    headroom = 1 + ctx.thresholds["ebs_iops_headroom_percent"] / 100
    for volume in ctx.of("ec2.volumes"):
        data = volume.data
        if data.get("volume_type") != "gp3":
            continue
        iops = int(data.get("iops") or GP3_BASE_IOPS)
        throughput = int(data.get("throughput") or GP3_BASE_THROUGHPUT)
        if iops <= GP3_BASE_IOPS and throughput <= GP3_BASE_THROUGHPUT:
            continue
        read_ops, write_ops, read_bytes, write_bytes = summaries = [ctx.metric(volume, key) for key in SERIES]
        if read_ops is None or write_ops is None or read_bytes is None or write_bytes is None:
            continue
        days = sorted(set().union(*(s.daily for s in (read_ops, write_ops, read_bytes, write_bytes))))
        if len(days) < min_days:
            continue
        daily_iops = [(read_ops.daily.get(d, 0) + write_ops.daily.get(d, 0)) / SECONDS_PER_DATAPOINT for d in days]
        daily_mibps = [(read_bytes.daily.get(d, 0) + write_bytes.daily.get(d, 0)) / SECONDS_PER_DATAPOINT / MIB
                       for d in days]
        peak_iops, peak_mibps = p95(daily_iops) or 0.0, p95(daily_mibps) or 0.0
        new_throughput = min(throughput, max(GP3_BASE_THROUGHPUT, ceil_to(peak_mibps * headroom, 5)))
        new_iops = min(iops, max(GP3_BASE_IOPS, ceil_to(peak_iops * headroom, 100), ceil_to(4 * new_throughput, 100)))
        if new_iops >= iops and new_throughput >= throughput:
            continue
        size = data.get("size_gib") or 0
        yield ctx.finding(
            volume,
            title=f"gp3 volume, {size} GiB: {iops} IOPS and {throughput} MiB/s provisioned, peak {peak_iops:,.0f} "
                  f"IOPS and {peak_mibps:,.0f} MiB/s",
            current=add_volume_item(ctx.bill(), volume),
            after=add_volume(ctx.bill("recommended"), volume.region, "gp3", size, new_iops, new_throughput),
            recommended=f"gp3, {new_iops} IOPS, {new_throughput} MiB/s",
            remediation_args={"iops": new_iops, "throughput": new_throughput},
            evidence={
                "metrics": metrics_evidence(*summaries),
                "size_gib": size, "provisioned_iops": iops, "provisioned_throughput_mibps": throughput,
                "days_with_data": len(days), "peak_iops_p95": round(peak_iops, 1),
                "peak_throughput_mibps_p95": round(peak_mibps, 2), "peak_iops_max": round(max(daily_iops), 1),
                "peak_throughput_mibps_max": round(max(daily_mibps), 2),
                "headroom_percent": ctx.thresholds["ebs_iops_headroom_percent"],
                "recommended_iops": new_iops, "recommended_throughput_mibps": new_throughput,
                "assumption": "one-minute data points: peak per second = the day's busiest data point / 60 "
                              "(five-minute points overstate the peak, so less is recommended)",
            },
        )
