"""x86 EC2 instance with an AWS Graviton (arm64) counterpart of the same size, which costs less an hour.

Families with a Graviton equivalent: t3/t3a -> t4g; m5/m5a/m6i/m6a -> m6g; m7i -> m7g;
c5/c5a/c6i/c6a -> c6g; c7i -> c7g; r5/r5a/r6i/r6a -> r6g; r7i -> r7g. The target is the same size
in the Graviton family, and only when the price catalogue knows that type.

Priced as the On-Demand Linux hourly price difference x 730; only a positive difference is
reported. Confidence Medium: the software must run on arm64 (interpreted languages and
containers usually do; native binaries need an arm64 build). Effort High: the instance cannot be
resized in place; it is rebuilt from an arm64 AMI, tested, and the x86 one terminated. The
remediation is that launch, with ``ARM64_AMI_ID`` to be replaced by the customer's arm64 AMI.

Skipped: instances not running, Spot or scheduled instances, Auto Scaling group members (moved
through their launch template), Windows (not offered on Graviton), and arm64 instances. Other
non-Linux/UNIX platforms (RHEL, SUSE...) and dedicated tenancy give an unpriced finding.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks import check
from finops.checks._ec2 import (
    GRAVITON,
    INSTANCE_CONSOLE,
    instance_facts,
    running_on_demand,
    same_size_in,
    unpriceable,
)
from finops.checks.context import CheckContext
from finops.checks.costs import INSTANCE_PRICES, add_instance_hours
from finops.models import Finding


@check(
    title="EC2 instances with a Graviton equivalent",
    category="Compute",
    service="ec2",
    resource_type="ec2:instance",
    action="MigrateToGraviton",
    needs=("ec2.instances",),
    prices=INSTANCE_PRICES,
    effort="High",
    restart_needed=True,
    rollback_possible=True,
    confidence="Medium",
    rule=(
        "Running On-Demand x86_64 instance outside Auto Scaling, not Windows, whose family has a Graviton "
        "counterpart (t4g, m6g, m7g, c6g, c7g, r6g, r7g) of the same size that costs less."
    ),
    formula="(current type - Graviton type of the same size) On-Demand hourly price x 730 hours",
    remediation=(
        "aws ec2 run-instances --region {region} --instance-type {target_type} --image-id ARM64_AMI_ID "
        "--placement AvailabilityZone={availability_zone} "
        "# then, once the workload runs on it: aws ec2 terminate-instances --region {region} "
        "--instance-ids {resource_id}"
    ),
    console=INSTANCE_CONSOLE,
)
def ec2_instance_graviton(ctx: CheckContext) -> Iterator[Finding]:
    for instance in ctx.of("ec2.instances"):
        data = instance.data
        if not running_on_demand(instance) or (data.get("architecture") or "x86_64") != "x86_64":
            continue
        if data.get("platform") == "windows" or "windows" in str(data.get("platform_details") or "").lower():
            continue
        instance_type = str(data.get("instance_type") or "")
        target = same_size_in(ctx, instance_type, GRAVITON)
        if target is None:
            continue
        reason = unpriceable(instance)
        current, after = ctx.bill(), ctx.bill("recommended")
        if not reason:
            add_instance_hours(current, instance.region, instance_type)
            add_instance_hours(after, instance.region, target)
        yield ctx.finding(
            instance,
            title=f"{instance_type} on x86: Graviton {target} costs less",
            current=current,
            after=after,
            recommended=f"{target} (arm64): rebuild on an arm64 AMI, move the workload, then terminate this instance",
            unavailable=reason,
            remediation_args={"target_type": target, "availability_zone": data.get("availability_zone") or ""},
            evidence={**instance_facts(instance), "graviton_type": target,
                      "requires": "the software must run on arm64 (an arm64 AMI and arm64 builds of native code)"},
        )
