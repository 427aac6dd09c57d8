"""Idle Lambda provisioned concurrency: pre-initialised environments billed every second, barely used.

Finds provisioned concurrency configurations (status READY) whose daily maximum
``ProvisionedConcurrencyUtilization`` stayed at or below ``lambda_pc_idle_percent`` on every day
with data, over at least ``metrics_min_days`` days.

CloudWatch reports this metric as a fraction from 0 to 1 (provisioned concurrent executions /
allocated provisioned concurrency). A series whose values are all at most 1 is read as fractions
and compared with ``lambda_pc_idle_percent`` / 100; a series with a value above 1 can only be in
percent and is compared as it is. Either reading errs towards not flagging.

Why it costs money: provisioned concurrency is billed for every GB-second it is allocated, used
or not, on top of the duration of the invocations it serves.

Priced as allocated concurrency x memory (GB) x 730 x 3,600 GB-seconds x the provisioned
concurrency rate of the function's architecture (x86 or arm64) in its region: the saving of
deleting the configuration. After the deletion, the invocations it served run at on-demand
duration rates; that cost is at most the peak utilisation x the allocated GB-seconds at the
on-demand duration rate, shown beside the saving as a note (never in it).

Skipped on purpose: configurations that are not READY (allocating or failed: nothing or not all
billed yet), with no allocated concurrency, or with fewer than ``metrics_min_days`` days of data.
A configuration whose function's memory is not in the inventory is reported unpriced.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from finops.checks import check
from finops.checks._lambda import SECONDS_PER_HOUR, arch, memory_gb
from finops.checks.context import CheckContext
from finops.models import Finding
from finops.money import HOURS_PER_MONTH

UTILISATION = "ProvisionedConcurrencyUtilization.Maximum"


def is_idle(values: list[float], idle_percent: float) -> tuple[bool, float, bool]:
    """(idle, peak in percent, whether the series was read as fractions).

    A fraction series is compared with the threshold / 100 (no float error from scaling the values)."""
    peak = max(values)
    if peak <= 1:
        return peak <= idle_percent / 100, peak * 100, True
    return peak <= idle_percent, peak, False


@check(
    title="Idle Lambda provisioned concurrency configurations",
    category="Serverless",
    service="lambda",
    resource_type="lambda:provisioned-concurrency",
    action="Delete",
    needs=("lambda.provisioned_concurrency", "cloudwatch.metrics"),
    prices=("lambda.provisioned.*", "lambda.duration.*"),
    thresholds=("lambda_pc_idle_percent", "metrics_min_days"),
    effort="Low",
    restart_needed=False,
    rollback_possible=True,
    confidence="Medium",
    rule=(
        "READY provisioned concurrency whose daily maximum `ProvisionedConcurrencyUtilization` stayed at or below "
        "`lambda_pc_idle_percent` on each of at least `metrics_min_days` days."
    ),
    formula="allocated concurrency x memory GB x 730 h x 3,600 s x provisioned concurrency GB-second price",
    remediation=(
        "aws lambda delete-provisioned-concurrency-config --region {region} --function-name {function} "
        "--qualifier {qualifier}"
    ),
    console="https://{region}.console.aws.amazon.com/lambda/home?region={region}#/functions/{function}?tab=configure",
)
def lambda_provisioned_concurrency_idle(ctx: CheckContext) -> Iterator[Finding]:
    min_days = ctx.thresholds["metrics_min_days"]
    idle_percent = float(ctx.thresholds["lambda_pc_idle_percent"])
    for config in ctx.of("lambda.provisioned_concurrency"):
        data = config.data
        if data.get("status") != "READY":
            continue
        allocated = int(data.get("allocated") or 0)
        if allocated <= 0:
            continue
        utilisation = ctx.metric(config, UTILISATION)
        if utilisation is None or utilisation.days < min_days:
            continue
        idle, peak_percent, fractions = is_idle(utilisation.values, idle_percent)
        if not idle:
            continue
        function, _, qualifier = config.resource_id.partition(":")
        function = data.get("function_name") or function
        qualifier = str(data.get("qualifier") or qualifier)
        architecture = arch(data.get("architectures"))
        gb = memory_gb(data)
        current, notes = ctx.bill(), ctx.bill("note")
        unavailable = ""
        gb_seconds = None
        if gb is None:
            unavailable = "the function's memory size is not in the inventory"
        else:
            gb_seconds = allocated * gb * HOURS_PER_MONTH * SECONDS_PER_HOUR
            current.add(
                f"lambda.provisioned.{architecture}", config.region, gb_seconds,
                f"{allocated} provisioned x {data.get('memory_mb')} MB x 730 h ({architecture})",
            )
            peak = Decimal(str(utilisation.max))
            served = (gb_seconds * (peak if fractions else peak / 100)).quantize(Decimal("0.001"))
            notes.add(
                f"lambda.duration.{architecture}", config.region, served,
                "upper bound, not in the saving: the work it serves now, at on-demand duration rates",
            )
        yield ctx.finding(
            config,
            title=(
                f"Provisioned concurrency of {allocated} x {data.get('memory_mb')} MB on {function}:{qualifier}, "
                f"peak utilisation {round(peak_percent, 2):g}%"
            ),
            current=current,
            notes=notes,
            recommended="Delete the provisioned concurrency configuration (invocations then run on demand)",
            unavailable=unavailable,
            evidence={
                "metrics": {UTILISATION: utilisation.evidence()},
                "peak_utilisation_percent": round(peak_percent, 4), "read_as_fractions": fractions,
                "idle_percent": idle_percent, "allocated": allocated, "requested": data.get("requested"),
                "memory_mb": data.get("memory_mb"), "architecture": architecture, "qualifier": qualifier,
                "function_name": function, "status": data.get("status"), "last_modified": data.get("last_modified"),
                "monthly_gb_seconds": None if gb_seconds is None else str(gb_seconds),
                "on_demand_after_upper_bound": (
                    str(notes.total) if notes.lines and notes.total is not None else None
                ),
            },
            remediation_args={"function": function, "qualifier": qualifier},
        )
