"""Over-sized EC2 instance: its CPU peaks stay low enough for the next smaller size of the same family.

Evidence: CloudWatch ``CPUUtilization`` daily Maximum over at least ``metrics_min_days`` days. When
the 95th percentile (nearest rank) of the daily maxima is at most ``ec2_rightsize_cpu_percent``,
one size down (half the vCPUs on most steps of the ladder) keeps the peak under about twice that.

Recommended: the next smaller size of the same family on the ladder nano < micro < small <
medium < large < xlarge < 2xlarge < 4xlarge < 8xlarge < 9xlarge < 12xlarge < 16xlarge < 18xlarge
< 24xlarge < 32xlarge < 48xlarge that the price catalogue knows (a size the catalogue does not
know is never recommended; none smaller: no finding). Priced as the On-Demand Linux hourly
price difference x 730; a platform the catalogue does not price gives an unpriced finding.

Confidence Medium: memory use is not visible without the CloudWatch agent, and the smaller size
has half the memory; network and EBS bandwidth also shrink with size. Burstable (t*) sizes below
xlarge keep their vCPUs and change memory and CPU credits instead.

Skipped: instances not running, Spot or scheduled instances, Auto Scaling group members (resized
through their launch template, not one by one), instances launched (or last started) less than
``metrics_min_days`` days ago, sizes off the ladder (metal...).
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._ec2 import (
    INSTANCE_CONSOLE,
    RESIZE_REMEDIATION,
    instance_facts,
    metrics_evidence,
    running_on_demand,
    smaller_type,
    unpriceable,
)
from finops.checks.context import CheckContext
from finops.checks.costs import INSTANCE_PRICES, add_instance_hours
from finops.models import Finding


@check(
    title="Over-sized EC2 instances",
    category="Compute",
    service="ec2",
    resource_type="ec2:instance",
    action="Rightsize",
    needs=("ec2.instances", "cloudwatch.metrics"),
    prices=INSTANCE_PRICES,
    thresholds=("metrics_min_days", "ec2_rightsize_cpu_percent"),
    effort="Medium",
    restart_needed=True,
    rollback_possible=True,
    confidence="Medium",
    rule=(
        "Running On-Demand instance outside Auto Scaling whose 95th percentile of daily maximum CPU is at most "
        "`ec2_rightsize_cpu_percent` over at least `metrics_min_days` days, with a smaller size of its family."
    ),
    formula="(current type - next smaller type of the same family) On-Demand hourly price x 730 hours",
    remediation=RESIZE_REMEDIATION,
    console=INSTANCE_CONSOLE,
)
def ec2_instance_rightsize(ctx: CheckContext) -> Iterator[Finding]:
    min_days = ctx.thresholds["metrics_min_days"]
    max_cpu = ctx.thresholds["ec2_rightsize_cpu_percent"]
    for instance in ctx.of("ec2.instances"):
        data = instance.data
        if not running_on_demand(instance):
            continue
        launched = ctx.days_since(data.get("launch_time"))
        if launched is None or launched < min_days:
            continue
        cpu = ctx.metric(instance, "CPUUtilization.Maximum")
        if cpu is None or cpu.days < min_days or cpu.p95 is None or cpu.p95 > max_cpu:
            continue
        instance_type = str(data.get("instance_type") or "")
        target = smaller_type(ctx, instance_type)
        if target is None:
            continue
        reason = unpriceable(instance)
        current, after = ctx.bill(), ctx.bill("recommended")
        if not reason:
            add_instance_hours(current, instance.region, instance_type)
            add_instance_hours(after, instance.region, target)
        yield ctx.finding(
            instance,
            title=f"{instance_type} to {target}: 95th percentile of daily maximum CPU {cpu.p95:.1f}% over "
                  f"{cpu.days} days",
            current=current,
            after=after,
            recommended=target,
            unavailable=reason,
            remediation_args={"target_type": target},
            evidence={
                "metrics": metrics_evidence(cpu), **instance_facts(instance),
                "cpu_max_p95_percent": round(cpu.p95, 2), "threshold_percent": max_cpu,
                "recommended_type": target,
                "not_visible": "memory use (needs the CloudWatch agent); the smaller size has less memory, network "
                               "and EBS bandwidth",
            },
        )
