"""The coh_* checks: Cost Optimization Hub recommendations as findings, scoped, attached to inventory."""

from decimal import Decimal

import pytest

from finops.checks.merge import merge
from finops.models import COH, NATIVE, Coverage
from tests.checks.kit import ACCOUNT, coh, context, instance, item, one, run, volume


@pytest.mark.parametrize("check_id, action", [
    ("coh_rightsize", "Rightsize"), ("coh_stop", "Stop"), ("coh_delete", "Delete"), ("coh_upgrade", "Upgrade"),
    ("coh_migrate_to_graviton", "MigrateToGraviton"), ("coh_scale_in", "ScaleIn"),
])
def test_each_action_becomes_a_finding_with_cohs_figures(check_id, action):
    rec = coh("i-1", action, "70.08", cost="140.16", arn=f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-1",
              current_resource_summary="m5.2xlarge", recommended_resource_summary="m5.xlarge",
              implementation_effort="Medium", restart_needed=True, rollback_possible=True)
    finding = one(context([instance("i-1")], recommendations=[rec]), check_id)
    assert finding.monthly_savings == Decimal("70.08") and finding.current_monthly_cost == Decimal("140.16")
    assert finding.sources == (COH,) and finding.action == action and finding.kind == "usage"
    assert finding.resource_id == "i-1" and finding.resource_type == "ec2:instance"  # attached to the inventory item
    assert (finding.effort, finding.restart_needed, finding.category) == ("Medium", True, "Compute")
    assert finding.coh["recommendation_id"] == rec.recommendation_id
    # other actions are not this check's
    assert run(context([instance("i-1")], recommendations=[coh("i-1", "Other", "1")]), check_id) == []


@pytest.mark.parametrize("rec, flagged", [
    (coh("i-1", "Rightsize", "5"), True),
    (coh("i-1", "Rightsize", "5", account="999999999999"), False),  # another account (seen from a management one)
    (coh("i-1", "Rightsize", "5", region="sa-east-1"), False),  # a region this review did not scan
])
def test_recommendations_are_filtered_to_the_reviewed_scope(rec, flagged):
    assert bool(run(context([instance("i-1")], recommendations=[rec]), "coh_rightsize")) is flagged


def test_a_recommendation_for_a_resource_gone_since_is_left_out():
    """COH refreshes daily: an instance it names that the (fully read) inventory no longer has is gone."""
    rec = coh("i-deleted", "Stop", "30")
    assert run(context([instance("i-1")], recommendations=[rec]), "coh_stop") == []
    # ... unless the inventory of that type could not be read there: then COH's word is all there is
    unread = [Coverage("ec2.instances", "us-east-1", "access_denied"), Coverage("coh.recommendations", "global")]
    assert run(context([], recommendations=[rec], coverage=unread), "coh_stop")


def test_a_resource_not_in_the_inventory_keeps_cohs_ids():
    rec = coh("my-table", "Rightsize", "12.5", resource_type="DynamoDBTable",
              arn=f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/my-table")
    finding = one(context([], recommendations=[rec]), "coh_rightsize")
    assert finding.resource_id == "my-table" and finding.resource_type == "dynamodb:table"
    assert finding.category == "Databases"


def test_lambda_arn_with_a_qualifier_finds_the_function():
    fn = item("lambda.functions", "lambda:function", "thumbnailer",
              arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:thumbnailer", architectures=["x86_64"])
    rec = coh(fn.arn + ":$LATEST", "MigrateToGraviton", "0.14", resource_type="LambdaFunction", arn=fn.arn + ":$LATEST")
    assert one(context([fn], recommendations=[rec]), "coh_migrate_to_graviton").resource_id == "thumbnailer"


def test_commitment_purchases_are_commitments_and_run_in_global():
    rec = coh(ACCOUNT, "PurchaseSavingsPlans", "45.12", region="global", resource_type="ComputeSavingsPlans")
    finding = one(context([], recommendations=[rec]), "coh_purchase_savings_plans")
    assert finding.kind == "commitment" and finding.category == "Commitments"
    result = merge([finding])
    assert result.findings == [] and result.commitment_monthly_savings == Decimal("45.12")


def test_same_resource_same_action_merges_with_the_native_finding():
    vol = volume("vol-1", state="available")
    rec = coh("vol-1", "Delete", "9.80", resource_type="EbsVolume", arn=vol.arn)
    ctx = context([vol], recommendations=[rec])
    merged = merge([*run(ctx, "ec2_ebs_volume_unattached"), *run(ctx, "coh_delete")])
    (finding,) = merged.findings
    assert finding.sources == (NATIVE, COH) and finding.check_id == "ec2_ebs_volume_unattached"
    assert finding.coh["monthly_savings"] == "9.80" and finding.monthly_savings == Decimal("10.00")


def test_non_usd_figures_are_not_counted():
    finding = one(context([instance("i-1")], recommendations=[coh("i-1", "Stop", "5", currency="EUR")]), "coh_stop")
    assert finding.monthly_savings is None and "EUR" in finding.price_note
