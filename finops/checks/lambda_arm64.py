"""Lambda function on x86_64 that could run on arm64 (Graviton) at Lambda's lower arm64 duration rate.

Finds functions whose architecture is ``x86_64`` and that ran in the lookback (CloudWatch
``Duration`` has data on at least one day).

Why it costs money: Lambda bills duration per GB-second, and the arm64 rate is lower than the
x86 rate for the same memory and duration.

Priced from measured duration: monthly GB-seconds = total ``Duration.Sum`` over the lookback (ms)
/ 1000 x memory (MB) / 1024 x 730 / (24 x lookback days); the current bill prices them at the x86
duration rate, the recommended bill at the arm64 rate, in the function's region. Both rates are
tiered; the tiers count an account's GB-seconds across all its functions in a region, and this
check prices each function from the first tier (a simplification: for an account already past
the first tier, the figure is slightly overstated; the merge caps it at the function's actual
billed run rate when resource-level Cost Explorer data has it). The duration is CloudWatch's
measured duration; billed duration rounds each invocation up to the millisecond, so the figure can
only understate. Request charges do not change with the architecture and are not in the figure.

Confidence is Medium: dependencies with native code (and compiled runtimes, container images)
must be rebuilt for arm64. Effort is Low for Zip packages of interpreted runtimes (Python,
Node.js, Ruby), Medium otherwise, High for runtimes Lambda never offered on arm64 (the function
must first move to a current runtime).

Skipped on purpose: functions not invoked in the lookback (nothing to save) and functions whose
CloudWatch duration was not read. Functions with provisioned concurrency are reported unpriced:
part of their duration is billed at provisioned-concurrency rates, which CloudWatch's Duration
does not separate, so pricing it all at on-demand rates would overstate the saving. Lambda@Edge
functions (x86_64 only) cannot be told apart in the inventory: see the report's false-positive notes.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from finops.checks import check
from finops.checks._lambda import arch, arm64_effort, memory_gb
from finops.checks.context import CheckContext
from finops.models import Finding
from finops.money import HOURS_PER_MONTH

DURATION = "Duration.Sum"
INVOCATIONS = "Invocations.Sum"
GB_SECONDS = Decimal("0.001")
IMAGE_REMEDIATION = (
    "aws lambda update-function-code --region {region} --function-name {resource_id} --architectures arm64 "
    "--image-uri {image_uri}"
)
TIER_NOTE = (
    "Lambda duration tiers count the account's GB-seconds across all functions in the region; this function is "
    "priced from the first tier."
)


@check(
    title="Lambda functions on x86_64",
    category="Serverless",
    service="lambda",
    resource_type="lambda:function",
    action="MigrateToGraviton",
    needs=("lambda.functions", "lambda.provisioned_concurrency", "cloudwatch.metrics"),
    prices=("lambda.duration.x86", "lambda.duration.arm64"),
    effort="Medium",
    restart_needed=False,
    rollback_possible=True,
    confidence="Medium",
    rule="Architecture `x86_64` and invoked in the lookback (CloudWatch `Duration` has data).",
    formula=(
        "monthly GB-s = sum of daily Duration (ms) / 1000 x memory GB x 730 / (24 x lookback days); "
        "GB-s x (x86 - arm64 duration rate)"
    ),
    remediation=(
        "aws lambda update-function-code --region {region} --function-name {resource_id} --architectures arm64 "
        "--zip-file fileb://function-arm64.zip"
    ),
    console="https://{region}.console.aws.amazon.com/lambda/home?region={region}#/functions/{resource_id}?tab=code",
)
def lambda_arm64(ctx: CheckContext) -> Iterator[Finding]:
    provisioned: dict[str, list[str]] = {}
    for config in ctx.of("lambda.provisioned_concurrency"):
        name = config.data.get("function_name") or config.resource_id.split(":", 1)[0]
        provisioned.setdefault(name, []).append(str(config.data.get("qualifier") or ""))
    for function in ctx.of("lambda.functions"):
        data = function.data
        architectures = data.get("architectures") or ["x86_64"]
        if arch(architectures) != "x86" or list(architectures) != ["x86_64"]:
            continue
        duration = ctx.metric(function, DURATION)
        if duration is None or duration.days == 0 or duration.sum <= 0 or duration.lookback_days <= 0:
            continue
        invocations = ctx.metric(function, INVOCATIONS)
        gb = memory_gb(data)
        total_ms = Decimal(str(duration.sum))
        monthly = None
        unavailable = ""
        if gb is None:
            unavailable = "the function's memory size is not in the inventory"
        elif function.resource_id in provisioned:
            unavailable = (
                f"it has provisioned concurrency ({', '.join(sorted(provisioned[function.resource_id]))}): part of its "
                "duration is billed at provisioned-concurrency rates, which CloudWatch's Duration does not separate"
            )
        else:
            monthly = (total_ms / 1000 * gb * HOURS_PER_MONTH / (24 * duration.lookback_days)).quantize(GB_SECONDS)
        current, after = ctx.bill(), ctx.bill("recommended")
        if monthly is not None:
            current.add("lambda.duration.x86", function.region, monthly, "duration on x86_64, GB-seconds a month")
            after.add("lambda.duration.arm64", function.region, monthly, "duration on arm64, GB-seconds a month")
        effort, why = arm64_effort(data)
        calls = invocations.sum if invocations is not None else None
        metrics = {DURATION: duration.evidence()}
        if invocations is not None:
            metrics[INVOCATIONS] = invocations.evidence()
        yield ctx.finding(
            function,
            remediation_template=IMAGE_REMEDIATION if data.get("package_type") == "Image" else None,
            remediation_args={"image_uri": "ARM64_IMAGE_URI"},
            title=f"Lambda function on x86_64, {data.get('memory_mb')} MB, {data.get('runtime') or 'container image'}",
            current=current,
            after=after,
            recommended=(
                "Move to arm64: publish the same code built for arm64 with --architectures arm64"
                if effort != "High" else "Move to a current runtime of its language, then to arm64"
            ),
            effort=effort,
            unavailable=unavailable,
            evidence={
                "metrics": metrics,
                "memory_mb": data.get("memory_mb"), "runtime": data.get("runtime"),
                "package_type": data.get("package_type"), "architectures": list(architectures),
                "duration_ms_in_lookback": str(total_ms), "lookback_days": duration.lookback_days,
                "days_invoked": duration.days, "invocations_in_lookback": calls,
                "average_duration_ms": round(float(total_ms) / calls, 1) if calls else None,
                "monthly_gb_seconds": None if monthly is None else str(monthly),
                "effort_reason": why, "tier_note": TIER_NOTE,
                "requests_note": "Request charges do not change with the architecture and are not in the figure.",
            },
        )
