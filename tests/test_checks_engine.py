"""The checks runner and the merge: pure, fast, no AWS."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from finops.checks import CheckSpec, run_checks
from finops.checks.merge import merge
from finops.models import COH, NATIVE, Coverage, Finding, ResourceCost
from tests.checks.kit import ACCOUNT, context, volume


def spec(fn, **meta):
    base = dict(id=fn.__name__, fn=fn, title="Test things", category="Storage", service="ec2",
                resource_type="ec2:volume", action="Delete", needs=("ec2.volumes",), prices=("ebs.*",))
    return CheckSpec(**{**base, **meta})


def priced_volumes(ctx):
    for vol in ctx.of("ec2.volumes"):
        yield ctx.finding(vol, title="t", current=ctx.bill().add("ebs.gp2.storage", vol.region, 10, "storage"))


def test_a_check_runs_once_per_region_and_sees_only_that_region():
    seen = []

    def regional(ctx):
        seen.append(sorted({v.region for v in ctx.of("ec2.volumes")}))
        return []

    ctx = context([volume("vol-1", "us-east-1"), volume("vol-2", "eu-west-1")])
    run = run_checks(ctx, [spec(regional)])
    assert sorted(seen) == [[], ["eu-west-1"], ["us-east-1"]]
    assert run.evaluated == {"regional": ["us-east-1", "eu-west-1", "ap-south-2"]}


def test_unread_input_gives_a_not_evaluated_row_not_a_failure():
    coverage = [Coverage("ec2.volumes", "us-east-1"), Coverage("ec2.volumes", "eu-west-1", "access_denied")]
    ctx = context([volume("vol-1", "us-east-1")], coverage=coverage, regions=("us-east-1", "eu-west-1"))
    run = run_checks(ctx, [spec(priced_volumes)])
    assert [f.resource_id for f in run.findings] == ["vol-1"]
    (row,) = run.coverage
    assert (row.source, row.region, row.status) == ("check:priced_volumes", "eu-west-1", "not_evaluated")
    assert row.detail == "Test things in eu-west-1 were not evaluated: EBS volumes could not be read."


def test_a_check_that_raises_leaves_a_coverage_row_and_the_other_checks_run():
    def broken(ctx):
        raise KeyError("oops")

    ctx = context([volume()], regions=("us-east-1",))
    run = run_checks(ctx, [spec(broken), spec(priced_volumes)])
    assert [f.check_id for f in run.findings] == ["priced_volumes"]
    assert [(c.source, c.status) for c in run.coverage] == [("check:broken", "check_error")]
    assert "KeyError" in run.coverage[0].detail


def test_a_missing_price_gives_an_unpriced_finding_and_a_coverage_row():
    ctx = context([volume("vol-1", "ap-south-2")], regions=("ap-south-2",))
    run = run_checks(ctx, [spec(priced_volumes)])
    (finding,) = run.findings
    assert finding.monthly_savings is None and finding.price_status == "unavailable"
    (row,) = run.coverage
    assert row.status == "price_unavailable" and "1 finding is shown without a price" in row.detail


def test_a_price_key_the_check_did_not_declare_is_refused():
    ctx = context([volume()], regions=("us-east-1",))
    run = run_checks(ctx, [spec(priced_volumes, prices=("nat.*",))])
    assert run.findings == [] and run.coverage[0].status == "check_error"


def f(resource="vol-1", check="c", action="Delete", savings="10", confidence="High", sources=(NATIVE,), **kw):
    return Finding(check_id=check, title=check, resource_type="ec2:volume", resource_id=resource,
                   region="us-east-1", account_id=ACCOUNT,
                   monthly_savings=None if savings is None else Decimal(savings),
                   action=action, confidence=confidence, sources=sources, **kw)


def test_one_counted_opportunity_per_resource_delete_wins():
    result = merge([f(check="gp3", action="Upgrade", savings="20"), f(check="delete", savings="10")])
    (counted,) = result.findings
    assert counted.check_id == "delete" and [a["check_id"] for a in counted.alternatives] == ["gp3"]
    assert result.monthly_savings == Decimal("10.00")


def test_otherwise_the_largest_well_evidenced_saving_wins():
    result = merge([f(check="a", action="Rightsize", savings="50", confidence="Low"),
                    f(check="b", action="Upgrade", savings="20", confidence="Medium")])
    assert result.findings[0].check_id == "b"


def test_covered_resources_are_not_counted_twice():
    stopped = f(resource="i-1", check="stopped", savings="13", covers=("vol-1",))
    gp3 = f(resource="vol-1", check="gp3", action="Upgrade", savings="2")
    result = merge([stopped, gp3])
    assert [x.resource_id for x in result.findings] == ["i-1"]
    assert result.findings[0].alternatives[0]["check_id"] == "gp3"
    assert result.monthly_savings == Decimal("13.00")


def test_coh_with_the_same_action_joins_the_native_finding():
    native = f(check="unattached", savings="10")
    hub = f(check="coh_delete", savings="9.5", sources=(COH,), coh={"action": "Delete", "monthly_savings": "9.5"})
    (merged,) = merge([native, hub]).findings
    assert merged.check_id == "unattached" and merged.sources == (NATIVE, COH)
    assert merged.coh["monthly_savings"] == "9.5" and merged.alternatives == ()


def test_coh_alone_is_a_finding_of_its_own():
    hub = f(resource="i-9", check="coh_rightsize", action="Rightsize", savings="70.08", confidence="Medium",
            sources=(COH,))
    assert merge([hub]).findings[0].sources == (COH,)


def test_commitments_never_enter_the_usage_total_and_overlapping_purchases_count_once():
    sp = f(resource=ACCOUNT, check="coh_purchase_savings_plans", action="PurchaseSavingsPlans", savings="45",
           kind="commitment", sources=(COH,))
    ri = replace(sp, check_id="coh_purchase_reserved_instances", action="PurchaseReservedInstances",
                 monthly_savings=Decimal("30"))
    result = merge([sp, ri, f(savings="10")])
    assert result.monthly_savings == Decimal("10.00")
    assert result.commitment_monthly_savings == Decimal("45.00")
    assert result.commitments[0].alternatives[0]["check_id"] == "coh_purchase_reserved_instances"


def test_unpriced_findings_are_shown_never_added():
    result = merge([f(resource="vol-1", savings=None, price_status="unavailable"), f(resource="vol-2", savings="3")])
    assert len(result.findings) == 2 and result.monthly_savings == Decimal("3.00")


def test_estimates_are_capped_at_the_actual_run_rate():
    cost = ResourceCost("vol-1", "EC2 - Other", Decimal("1.68"), "2026-11-16", "2026-11-30", 14)
    (capped,) = merge([f(savings="10")], [cost]).findings
    run_rate = (Decimal("1.68") * 730 / 336).quantize(Decimal("0.01"))
    assert capped.monthly_savings == run_rate == Decimal("3.65")
    assert capped.capped["estimate"] == "10.00" and "Capped" in capped.capped["sentence"]


@pytest.mark.parametrize("amounts", [["0.333", "0.333", "0.334"], ["1.005", "2.675", "0.125"]])
def test_totals_equal_the_sum_of_rounded_findings(amounts):
    result = merge([f(resource=f"vol-{n}", savings=a) for n, a in enumerate(amounts)])
    assert result.monthly_savings == sum(x.monthly_savings for x in result.findings)
    assert all(x.monthly_savings == x.monthly_savings.quantize(Decimal("0.01")) for x in result.findings)


def test_no_resource_is_counted_twice_property():
    import random

    rng = random.Random(4)
    for _ in range(200):
        findings = [
            f(resource=f"vol-{rng.randint(1, 4)}", check=f"c{n}", action=rng.choice(["Delete", "Upgrade", "Rightsize"]),
              savings=str(rng.randint(0, 50)) if rng.random() > 0.2 else None,
              confidence=rng.choice(["High", "Medium", "Low"]),
              covers=(f"vol-{rng.randint(1, 4)}",) if rng.random() > 0.8 else ())
            for n in range(rng.randint(1, 8))
        ]
        result = merge(findings)
        keys = [x.resource_id for x in result.findings]
        assert len(keys) == len(set(keys))
        counted = [x for x in result.findings if x.counted]
        assert result.monthly_savings == sum(x.monthly_savings for x in counted)
        assert all(x.kind == "usage" for x in result.findings)
