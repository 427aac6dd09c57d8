"""Cost Optimization Hub recommendations as findings (shared by the coh_* checks).

COH's figures are AWS's own (after discounts when the account's savings estimation mode says so);
they are taken as they are, with COH named as the source, and never re-priced. A recommendation
is attached to the inventory item it names (by ARN, then by id), so the merge can see a native
finding on the same resource; a resource FinOps Pack does not inventory (a DynamoDB table, an
Auto Scaling group) keeps COH's own id. The scope filter (this account, the scanned regions) is
``CheckContext.coh_recommendations``.
"""

from __future__ import annotations

from collections.abc import Iterator

from finops.checks.context import CheckContext
from finops.models import COMMITMENT, EFFORTS, Finding, InventoryItem

# COH currentResourceType -> (our resource type, collector, category)
RESOURCE_TYPES = {
    "Ec2Instance": ("ec2:instance", "ec2.instances", "Compute"),
    "Ec2AutoScalingGroup": ("autoscaling:group", "", "Compute"),
    "EbsVolume": ("ec2:volume", "ec2.volumes", "Storage"),
    "LambdaFunction": ("lambda:function", "lambda.functions", "Serverless"),
    "EcsService": ("ecs:service", "ecs.services", "Containers"),
    "RdsDbInstance": ("rds:db", "rds.instances", "Databases"),
    "RdsDbInstanceStorage": ("rds:db", "rds.instances", "Databases"),
    "AuroraDbClusterStorage": ("rds:cluster", "rds.clusters", "Databases"),
    "NatGateway": ("ec2:natgateway", "ec2.nat_gateways", "Networking"),
    # types FinOps Pack does not inventory: COH's word and ids are all there is
    "DynamoDBTable": ("dynamodb:table", "", "Databases"),
    "ElastiCacheCluster": ("elasticache:cluster", "", "Databases"),
    "MemoryDBCluster": ("memorydb:cluster", "", "Databases"),
    "DocumentDBCluster": ("docdb:cluster", "", "Databases"),
    "WorkSpaces": ("workspaces:workspace", "", "Compute"),
    "SageMakerEndpoint": ("sagemaker:endpoint", "", "Compute"),
}
ACTION_WORDS = {
    "Rightsize": "Rightsize", "Stop": "Stop", "Delete": "Delete", "Upgrade": "Upgrade",
    "MigrateToGraviton": "Move to Graviton:", "ScaleIn": "Scale in", "PurchaseSavingsPlans": "Buy a Savings Plan:",
    "PurchaseReservedInstances": "Buy Reserved Instances:",
}


def _item(ctx: CheckContext, rec) -> InventoryItem | None:  # type: ignore[no-untyped-def]
    """The inventory item the recommendation is about, a stand-in carrying COH's identifiers for a
    type FinOps Pack does not inventory, or None when the resource is gone: COH refreshes daily,
    so a recommendation can name a resource deleted since; counting it would claim a saving that
    no longer exists."""
    arn = rec.resource_arn or ""
    found = ctx.by_arn(arn) if arn else None
    if found is None and arn.count(":") > 6 and ":function:" in arn:  # a Lambda ARN with a qualifier
        found = ctx.by_arn(arn.rsplit(":", 1)[0])
    resource_type, collector, _ = RESOURCE_TYPES.get(rec.current_resource_type, ("", "", ""))
    if found is None and collector:
        found = ctx.get(collector, rec.resource_id) or ctx.get(collector, arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1])
    if found is not None:
        return found
    if collector and ctx.was_read(collector, rec.region or "global"):
        return None  # inventoried type, read fine, not there: deleted since COH's last refresh
    return InventoryItem(
        collector="coh.recommendations", resource_type=resource_type or f"coh:{rec.current_resource_type}",
        account_id=rec.account_id or ctx.account_id, region=rec.region or "global",
        resource_id=rec.resource_id or arn, arn=arn, data={"tags": dict(rec.tags)},
    )


def coh_findings(ctx: CheckContext, action_type: str) -> Iterator[Finding]:
    mode = ctx.costs.coh_savings_estimation_mode
    for rec in ctx.coh_recommendations(action_type):
        item = _item(ctx, rec)
        if item is None:
            continue
        known = RESOURCE_TYPES.get(rec.current_resource_type)
        category = known[2] if known else ("Commitments" if ctx.spec and ctx.spec.kind == COMMITMENT else "Other")
        summary = rec.recommended_resource_summary or rec.recommended_resource_type
        what = rec.current_resource_summary or rec.current_resource_type
        title = f"{ACTION_WORDS.get(action_type, action_type)} {what}" + (f" -> {summary}" if summary else "")
        figure = {
            "recommendation_id": rec.recommendation_id, "action": rec.action_type,
            "monthly_savings": str(rec.estimated_monthly_savings),
            "monthly_cost": None if rec.estimated_monthly_cost is None else str(rec.estimated_monthly_cost),
            "savings_percentage": None if rec.estimated_savings_percentage is None else str(
                rec.estimated_savings_percentage),
            "recommended": summary, "current": what, "estimation_mode": mode, "lookback_days": rec.lookback_days,
            "source": rec.source, "last_refresh": rec.last_refresh, "currency": rec.currency,
        }
        yield ctx.finding(
            item,
            title=title,
            savings=rec.estimated_monthly_savings if rec.currency == "USD" else None,
            current_cost=rec.estimated_monthly_cost,
            unavailable="" if rec.currency == "USD" else f"Cost Optimization Hub answered in {rec.currency}, not USD",
            recommended=summary or action_type,
            confidence="Medium",
            category=category,
            effort=rec.implementation_effort if rec.implementation_effort in EFFORTS else None,
            restart_needed=rec.restart_needed,
            rollback_possible=rec.rollback_possible,
            formula=(
                f"Cost Optimization Hub's own estimate ({mode or 'estimation mode unknown'}), over its "
                f"{rec.lookback_days or '?'}-day lookback; FinOps Pack shows it as AWS computed it"
            ),
            evidence={"cost_optimization_hub": figure},
            coh=figure,
        )
