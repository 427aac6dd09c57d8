"""Reserved Instances and Savings Plans ending within commitment_expiry_days."""

from decimal import Decimal

import pytest

from tests.checks.kit import ago, context, item, one, run, us

THREE_YEARS = 3 * 365 * 24 * 3600


def in_days(days):
    return ago(-days)


def ec2_ri(end_in=30, **data):
    fields = {"instance_type": "m5.large", "instance_count": 2, "product_description": "Linux/UNIX", "state": "active",
              "start": ago(1000), "end": in_days(end_in), "duration_s": THREE_YEARS, "offering_class": "standard",
              "offering_type": "All Upfront", "instance_tenancy": "default", "fixed_price": "1261.44",
              "usage_price": "0.0", "recurring_charges": [], "currency": "USD", **data}
    return item("ec2.reserved_instances", "ec2:reserved-instances", "ri-1", **fields)


def test_ec2_reservation_ending_is_priced_against_on_demand():
    finding = one(context([ec2_ri()]), "ec2_reserved_instance_expiring")
    rate = Decimal("1261.44") / (Decimal(THREE_YEARS) / 3600)  # the reservation's own effective hourly
    expected = 2 * 730 * us("ec2.linux.m5.large") - 2 * 730 * rate
    assert finding.monthly_savings == expected and finding.kind == "commitment"
    assert finding.action == "PurchaseReservedInstances"


@pytest.mark.parametrize("data", [{"end_in": 61}, {"end_in": -1}, {"state": "retired"}])
def test_not_ending_within_the_window_is_not_flagged(data):
    end_in = data.pop("end_in", 30)
    assert run(context([ec2_ri(end_in, **data)]), "ec2_reserved_instance_expiring") == []


def test_boundary_at_sixty_days_is_flagged():
    assert run(context([ec2_ri(60)]), "ec2_reserved_instance_expiring")


def test_windows_reservation_is_shown_unpriced():
    finding = one(context([ec2_ri(product_description="Windows")]), "ec2_reserved_instance_expiring")
    assert finding.monthly_savings is None and "Windows" in finding.price_note


def test_rds_reservation_ending():
    ri = item("rds.reserved_instances", "rds:reserved-db-instance", "rri-1", db_instance_class="db.m5.large",
              product_description="postgresql", multi_az=True, count=1, start=ago(300), end=in_days(10),
              duration_s=365 * 24 * 3600, state="active", offering_type="No Upfront", fixed_price="0",
              usage_price="0", recurring_charges=[{"frequency": "Hourly", "amount": "0.25"}], currency="USD")
    finding = one(context([ri]), "rds_reserved_instance_expiring")
    assert finding.monthly_savings == 730 * Decimal("0.356") - 730 * Decimal("0.25")


def test_savings_plan_ending_is_shown_unpriced_with_its_commitment():
    plan = item("savingsplans.plans", "savingsplans:savings-plan", "sp-1", region="global", plan_type="Compute",
                payment_option="No Upfront", commitment_per_hour="0.42", start=ago(300), end=in_days(20),
                state="active", currency="USD")
    finding = one(context([plan]), "savings_plan_expiring")
    assert finding.monthly_savings is None and finding.price_status == "not_estimated"
    assert finding.current_monthly_cost == Decimal("0.42") * 730
