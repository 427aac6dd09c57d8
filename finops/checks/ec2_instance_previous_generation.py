"""Previous-generation EC2 instance: its current-generation successor of the same size costs less an hour.

Older families (t2, m3, m4, c3, c4, r3, r4) cost the same or more than their successors (t3, m5,
c5, r5) for less performance. The successor is the same size in the mapped family, and only
when the price catalogue knows that type (m4.10xlarge has no m5.10xlarge: no finding).

Priced as the On-Demand Linux hourly price difference x 730; only a positive difference is
reported (the runner drops the rest). A platform the catalogue does not price (Windows, RHEL,
dedicated tenancy...) gives an unpriced finding with the reason.

Effort Medium: the successors are Nitro instances, which need the ENA network driver and NVMe
storage drivers in the AMI (check before the resize). t3 starts in "unlimited" CPU credit mode,
where sustained use above the baseline is billed extra: set ``standard`` mode where that matters.
m3, c3 and r3 come with instance-store volumes that m5, c5 and r5 do not have.

Skipped: instances not running, Spot or scheduled instances (the On-Demand delta does not apply),
and Auto Scaling group members (changed through their launch template, not one by one).
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._ec2 import (
    INSTANCE_CONSOLE,
    PREVIOUS_GENERATION,
    RESIZE_REMEDIATION,
    instance_facts,
    running_on_demand,
    same_size_in,
    unpriceable,
)
from finops.checks.context import CheckContext
from finops.checks.costs import INSTANCE_PRICES, add_instance_hours
from finops.models import Finding


@check(
    title="Previous-generation EC2 instances",
    category="Compute",
    service="ec2",
    resource_type="ec2:instance",
    action="Upgrade",
    needs=("ec2.instances",),
    prices=INSTANCE_PRICES,
    effort="Medium",
    restart_needed=True,
    rollback_possible=True,
    confidence="High",
    rule=(
        "Running On-Demand instance outside Auto Scaling in a previous-generation family (t2, m3, m4, c3, c4, r3, "
        "r4) whose successor of the same size (t3, m5, c5, r5) costs less."
    ),
    formula="(current type - successor of the same size) On-Demand hourly price x 730 hours",
    remediation=RESIZE_REMEDIATION,
    console=INSTANCE_CONSOLE,
)
def ec2_instance_previous_generation(ctx: CheckContext) -> Iterator[Finding]:
    for instance in ctx.of("ec2.instances"):
        if not running_on_demand(instance):
            continue
        instance_type = str(instance.data.get("instance_type") or "")
        target = same_size_in(ctx, instance_type, PREVIOUS_GENERATION)
        if target is None:
            continue
        reason = unpriceable(instance)
        current, after = ctx.bill(), ctx.bill("recommended")
        if not reason:
            add_instance_hours(current, instance.region, instance_type)
            add_instance_hours(after, instance.region, target)
        yield ctx.finding(
            instance,
            title=f"Previous-generation {instance_type}: {target} costs less",
            current=current,
            after=after,
            recommended=target,
            unavailable=reason,
            remediation_args={"target_type": target},
            evidence={
                **instance_facts(instance), "successor_type": target,
                "before_resizing": "the AMI needs the ENA and NVMe drivers (Nitro)"
                + ("; t3 defaults to unlimited CPU credits" if target.startswith("t3.") else ""),
            },
        )
