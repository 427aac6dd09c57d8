"""Idle EC2 instance: running (and billed by the hour) while doing almost nothing.

Evidence: CloudWatch ``CPUUtilization`` daily Average and ``NetworkIn`` + ``NetworkOut`` daily Sum
(bytes). An instance is idle when on every day with data its average CPU was at most
``ec2_idle_cpu_percent`` and its network traffic (in + out) at most ``ec2_idle_network_mb_per_day``
MB (10^6 bytes), over at least ``metrics_min_days`` days on which CPU and both network series
all have data (a day without network data is not evidence of silence).

Priced as the instance's On-Demand Linux hours (hourly price x 730) that stopping it saves; its
EBS volumes stay billed while stopped (terminating would save them too, which is the customer's
call: ``ec2_instance_stopped`` reports them once it has been stopped long enough). A platform the
catalogue does not price (Windows, RHEL, SUSE, dedicated tenancy...) gives an unpriced finding
with the reason. Confidence Medium: a low-CPU, quiet instance may still be a standby or a
scheduled job outside the window.

Skipped: instances not running, Spot or scheduled instances, Auto Scaling group members (the
group would replace a stopped instance), instances launched (or last started) less than
``metrics_min_days`` days ago, and instances with too little data.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._ec2 import INSTANCE_CONSOLE, instance_facts, metrics_evidence, running_on_demand, unpriceable
from finops.checks.context import CheckContext
from finops.checks.costs import INSTANCE_PRICES, add_instance_hours
from finops.models import Finding

BYTES_PER_MB = 10**6


@check(
    title="Idle EC2 instances",
    category="Compute",
    service="ec2",
    resource_type="ec2:instance",
    action="Stop",
    needs=("ec2.instances", "cloudwatch.metrics"),
    prices=INSTANCE_PRICES,
    thresholds=("metrics_min_days", "ec2_idle_cpu_percent", "ec2_idle_network_mb_per_day"),
    effort="Low",
    restart_needed=True,
    rollback_possible=True,
    confidence="Medium",
    rule=(
        "Running On-Demand instance outside Auto Scaling whose daily average CPU never exceeded "
        "`ec2_idle_cpu_percent` and daily network in + out never exceeded `ec2_idle_network_mb_per_day` MB, "
        "over at least `metrics_min_days` days."
    ),
    formula="On-Demand hourly price x 730 hours (EBS volumes stay billed while stopped)",
    remediation="aws ec2 stop-instances --region {region} --instance-ids {resource_id}",
    console=INSTANCE_CONSOLE,
)
def ec2_instance_idle(ctx: CheckContext) -> Iterator[Finding]:
    min_days = ctx.thresholds["metrics_min_days"]
    max_cpu = ctx.thresholds["ec2_idle_cpu_percent"]
    max_bytes = ctx.thresholds["ec2_idle_network_mb_per_day"] * BYTES_PER_MB
    for instance in ctx.of("ec2.instances"):
        data = instance.data
        if not running_on_demand(instance):
            continue
        launched = ctx.days_since(data.get("launch_time"))
        if launched is None or launched < min_days:
            continue
        cpu = ctx.metric(instance, "CPUUtilization.Average")
        net_in = ctx.metric(instance, "NetworkIn.Sum")
        net_out = ctx.metric(instance, "NetworkOut.Sum")
        if cpu is None or net_in is None or net_out is None:
            continue
        observed = set(cpu.daily) & set(net_in.daily) & set(net_out.daily)
        if len(observed) < min_days:
            continue
        if any(value > max_cpu for value in cpu.daily.values()):
            continue
        traffic = {day: net_in.daily.get(day, 0) + net_out.daily.get(day, 0)
                   for day in set(net_in.daily) | set(net_out.daily)}
        if any(value > max_bytes for value in traffic.values()):
            continue
        instance_type = data.get("instance_type") or "instance"
        reason = unpriceable(instance)
        current = ctx.bill() if reason else add_instance_hours(ctx.bill(), instance.region, instance_type)
        busiest = max(traffic.values()) if traffic else 0
        yield ctx.finding(
            instance,
            title=f"Idle {instance_type}: daily average CPU at most {cpu.max:.1f}%, network at most "
                  f"{busiest / BYTES_PER_MB:.1f} MB a day over {len(observed)} days",
            current=current,
            recommended="Stop it (or terminate it if nobody needs it)",
            unavailable=reason,
            evidence={
                "metrics": metrics_evidence(cpu, net_in, net_out),
                **instance_facts(instance), "days_evaluated": len(observed),
                "max_daily_average_cpu_percent": round(cpu.max or 0, 2),
                "max_daily_network_mb": round(busiest / BYTES_PER_MB, 3),
                "thresholds": {"cpu_percent": max_cpu, "network_mb_per_day": ctx.thresholds[
                    "ec2_idle_network_mb_per_day"], "min_days": min_days},
            },
        )
