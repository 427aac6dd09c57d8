"""Cost data end to end: Cost Explorer through moto's queued results, Cost Optimization Hub and
GetCostAndUsageWithResources through the front's fixtures (moto lacks both; every fixture page is
checked against botocore's output shape). The scan, storage and report code run for real.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from finops import reviews
from finops.config import Settings
from finops.cost import (
    CE_NOT_ENABLED,
    COH_NOT_ENROLLED,
    RESOURCES_NOT_ENABLED,
    RESOURCES_TURNED_OFF,
    UPDATE_ROLE,
)
from finops.db import connect
from finops.errors import ReadOnlyViolation
from finops.report import build_report, to_markdown
from finops.sandbox import seed
from finops.sandbox.cost_fixtures import demo_costs, load_costs, load_demo_costs
from finops.scan import run_scan
from tests.conftest import run_worker_burst
from tests.helpers import connect_form, guarded, report_token_of, review_id_of, start_review

EXTERNAL_ID = "fp-test-external-id-cost"
ACCOUNT = seed.CUSTOMER_ACCOUNT
ANCHOR = date(2026, 11, 28)  # the demo file's own dates, kept as they are
COST_SOURCES = ("ce.resources", "ce.spend", "coh.recommendations")


def scan_and_report(tmp_path, customer, settings=None):
    """Scan us-east-1 through the role, store the result, build the report model."""
    role_arn = seed.create_scanner_role(customer, EXTERNAL_ID)
    result = run_scan(role_arn, EXTERNAL_ID, settings or Settings(), regions=["us-east-1"])
    db = connect(tmp_path / "finops.db")
    review = reviews.create_review(db, Settings(db_path=tmp_path / "finops.db"))
    reviews.store_result(db, review["id"], result)
    return result, db, build_report(db, reviews.get_review(db, review["id"]))


def seed_idle_volume(customer):
    """One 100 GiB gp2 volume, unattached for a month, in us-east-1: a $10.00 native finding."""
    ec2 = customer.session("us-east-1").client("ec2")
    volume_id = ec2.create_volume(AvailabilityZone="us-east-1a", Size=100, VolumeType="gp2")["VolumeId"]
    seed.backdate_volume(customer, "us-east-1", volume_id, 30)
    return volume_id


def ce_requests(local_aws):
    return [r for r in local_aws.requests() if r["service"] == "ce"]


def coverage_of(report):
    return {c["source"]: (c["status"], c["detail"]) for c in report["coverage"] if c["source"] in COST_SOURCES}


def test_all_enabled_review_stores_spend_resources_and_recommendations_exactly(tmp_path, local_aws, customer):
    load_demo_costs(local_aws, ACCOUNT, today=ANCHOR)
    result, db, report = scan_and_report(tmp_path, customer)

    assert coverage_of(report) == {s: ("ok", "") for s in COST_SOURCES}
    assert report["status"] == "complete"

    # -- spend: 12 full months + month to date; 2026-05 arrived split over both pages -----------------
    spend = report["spend"]
    months = [(m["month"], m["unblended"], m["net_amortized"], m["full_month"], m["estimated"])
              for m in spend["by_month"]]
    assert months == [
        ("2025-11", "185.75", "175.75", True, False), ("2025-12", "186.75", "176.75", True, False),
        ("2026-01", "187.75", "177.75", True, False), ("2026-02", "188.75", "178.75", True, False),
        ("2026-03", "189.75", "179.75", True, False), ("2026-04", "190.75", "180.75", True, False),
        ("2026-05", "191.75", "181.75", True, False), ("2026-06", "192.75", "182.75", True, False),
        ("2026-07", "193.75", "183.75", True, False), ("2026-08", "194.75", "184.75", True, False),
        ("2026-09", "195.75", "185.75", True, False), ("2026-10", "196.75", "186.75", True, False),
        ("2026-11", "149.00", "139.00", False, True),
    ]
    assert spend["total_unblended"] == "2444.00"
    assert spend["last_full_month"] == "2026-10"
    assert [(s["service"], s["last_full_month"], s["unblended"], s["net_amortized"]) for s in spend["by_service"]] == [
        ("Amazon Elastic Compute Cloud - Compute", "111.00", "1346.00", "1216.00"),
        ("Amazon Relational Database Service", "60.00", "770.00", "770.00"),
        ("EC2 - Other", "20.50", "261.00", "261.00"),
        ("Amazon Simple Storage Service", "5.25", "67.00", "67.00"),
    ]
    assert all(s["currency"] == "USD" for s in spend["by_service"])
    assert spend["by_account"] == []  # one account: not a management account with linked accounts
    assert len(spend["daily"]) == 30
    assert spend["daily"][0] == {"date": "2026-10-29", "unblended": "6.00", "estimated": False, "currency": "USD"}
    assert spend["daily"][-1] == {"date": "2026-11-27", "unblended": "8.90", "estimated": True, "currency": "USD"}
    # CE's "5.2499996" is parsed as a Decimal string and stored as integer micro-dollars.
    s3 = list(db.query("select unblended_micros from spend_monthly where service = 'Amazon Simple Storage Service' "
                       "and period_start = '2025-11-01'"))
    assert s3 == [{"unblended_micros": 5_250_000}]
    assert db["spend_monthly"].count == 52 and db["spend_daily"].count == 30

    # -- resource-level: 14 days over two pages, summed per resource ------------------------------
    assert [(r["resource_id"], r["service"], r["cost_14d"], r["days"]) for r in report["resource_costs"]] == [
        ("i-0demo0000000001", "Amazon Elastic Compute Cloud - Compute", "33.60", 14),
        (f"arn:aws:rds:us-east-1:{ACCOUNT}:db:orders-db", "Amazon Relational Database Service", "28.00", 14),
        (f"arn:aws:ec2:us-east-1:{ACCOUNT}:natgateway/nat-0demo00000000001", "EC2 - Other", "15.12", 14),
        ("vol-0demo000000001", "EC2 - Other", "4.62", 14),
        (f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:thumbnailer", "AWS Lambda", "0.70", 14),
    ]
    assert str(result.costs.cost_of("nat-0demo00000000001").cost) == "15.12"  # for checks capping estimates

    # -- Cost Optimization Hub: de-duplicated list over two pages, own totals ---------------------
    recs = report["cost_recommendations"]
    assert (recs["enrollment"], recs["savings_estimation_mode"], recs["currency"]) == (
        "Active", "AfterDiscounts", "USD")
    assert (recs["deduped_monthly_savings"], recs["commitment_monthly_savings"]) == ("118.50", "45.12")
    assert recs["items"][0] == {
        "recommendation_id": "rec-demo-rightsize-0001", "account_id": ACCOUNT, "region": "us-east-1",
        "resource_id": "i-0demo0000000001",
        "resource_arn": f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0demo0000000001",
        "action_type": "Rightsize", "current_resource_type": "Ec2Instance", "recommended_resource_type": "Ec2Instance",
        "current_resource_summary": "m5.2xlarge", "recommended_resource_summary": "m5.xlarge",
        "estimated_monthly_savings": "70.08", "estimated_monthly_cost": "140.16",
        "estimated_savings_percentage": "50.0",
        "currency": "USD", "effort": "Medium", "restart_needed": True, "rollback_possible": True, "lookback_days": 14,
        "source": "ComputeOptimizer", "last_refresh": "2026-11-27T06:00:00Z", "commitment": False,
        "native_finding": None, "tags": {"team": "media"},
        # the instance is not in this account's inventory (the demo fixture names a made-up one): COH
        # refreshes daily, so it is taken as deleted since and left out, never counted
        "in_scope": True, "placement": "not_found", "finding": None,
    }
    assert [(r["action_type"], r["estimated_monthly_savings"], r["commitment"], r["effort"], r["restart_needed"],
             r["rollback_possible"]) for r in recs["items"]] == [
        ("Rightsize", "70.08", False, "Medium", True, True),
        ("PurchaseSavingsPlans", "45.12", True, "VeryLow", False, False),
        ("Delete", "10.00", False, "VeryLow", False, False),
        ("MigrateToGraviton", "0.14", False, "Low", False, True),
    ]
    # Native totals stay the native findings' own; COH has its own keys.
    totals = report["totals"]
    assert (totals["monthly_savings"], totals["coh_monthly_savings"], totals["coh_commitment_savings"]) == (
        "0.00", "118.50", "45.12")

    # -- what the review cost: every CE page counted, no query repeated, at most 8 ----------------
    sent = ce_requests(local_aws)
    assert [r["action"] for r in sent] == ["GetCostAndUsage"] * 3 + ["GetCostAndUsageWithResources"] * 2
    bodies = [json.dumps(r["params"], sort_keys=True) for r in sent]
    assert len(set(bodies)) == len(bodies)
    assert report["scan_cost"] == {"requests": 5, "dollars": "0.05", "price_per_request": "0.01", "currency": "USD",
                                   "by_source": {"ce.resources": 2, "ce.spend": 3}}
    assert report["scan_cost"]["requests"] <= 8

    coh = [r for r in local_aws.requests() if r["service"] == "cost-optimization-hub"]
    assert [r["action"] for r in coh] == ["ListEnrollmentStatuses", "GetPreferences", "ListRecommendations",
                                          "ListRecommendations", "ListRecommendationSummaries",
                                          "ListRecommendationSummaries"]
    assert {r["region"] for r in coh} == {"us-east-1"}
    listed = [r for r in coh if r["action"] == "ListRecommendations"]
    assert all(r["params"].get("includeAllRecommendations") is False for r in listed)  # de-duplicated mode

    markdown = to_markdown(report)
    assert "## Cost Optimization Hub" in markdown and "estimate: $118\\.50 per month" in markdown
    assert "5 paid Cost Explorer request(s) at $0\\.01 each: **$0\\.05**" in markdown

    # Deleting the review deletes every cost row stored for it.
    assert "review_id" not in report  # a report link opens the report and nothing else
    (review_id,) = [row["id"] for row in db.query("select id from reviews")]
    reviews.delete_review(db, review_id, reviews.RETENTION)
    for table in ("spend_monthly", "spend_daily", "resource_costs", "cost_recommendations", "cost_summary"):
        assert db[table].count == 0, table


def test_hosted_report_shows_spend_coh_and_scan_cost(client, settings, local_aws, customer, monkeypatch):
    monkeypatch.setenv("FINOPS_REGIONS", "us-east-1")
    seed_idle_volume(customer)
    load_demo_costs(local_aws, ACCOUNT)  # dated relative to today, as in the demo
    token = start_review(client)
    review_id = review_id_of(client, token)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    client.post(f"/reviews/{token}/scan", data=form)
    run_worker_burst(settings)
    review = reviews.get_review(connect(settings.db_path), review_id)
    assert review["status"] == "complete"

    report_token = report_token_of(settings, review_id)
    html = client.get(f"/r/{report_token}").get_data(as_text=True)
    assert html.index('id="coverage"') < html.index('id="findings"') < html.index('id="spend"') < html.index('id="coh"')
    assert '<strong id="spend-total">$2,444.00</strong>' in html
    assert '<strong id="coh-total">$118.50</strong>' in html and "after your discounts" in html
    assert '<span id="coh-commitments">$45.12</span>' in html
    assert "5 paid Cost Explorer requests at $0.01 each, <strong>$0.05</strong>" in html
    assert "<polyline" in html and "i-0demo0000000001" in html
    assert '<strong id="total-monthly">$10.00</strong>' in html  # native findings only, COH kept apart
    data = json.loads(client.get(f"/r/{report_token}.json").get_data(as_text=True))
    assert data["totals"]["monthly_savings"] == "10.00" and data["scan_cost"]["requests"] == 5


def _error(code, message):
    return {"error": {"code": code, "message": message, "status": 400}}


FULL_CASES = [
    ("ce-not-enabled",
     {"AWSInsightsIndexService.GetCostAndUsage": _error(
         "AccessDeniedException", "User not enabled for cost explorer access")},
     [], {"ce.spend": ("not_enabled", CE_NOT_ENABLED), "ce.resources": ("not_enabled", CE_NOT_ENABLED)}),
    ("resources-not-opted-in",
     {"AWSInsightsIndexService.GetCostAndUsageWithResources": _error(
         "DataUnavailableException", "Data is unavailable")},
     [], {"ce.resources": ("not_enabled", RESOURCES_NOT_ENABLED)}),
    ("coh-not-enrolled",
     {"CostOptimizationHubService.ListEnrollmentStatuses": {"pages": [{"items": [
         {"accountId": ACCOUNT, "status": "Inactive"}], "includeMemberAccounts": False}]}},
     [], {"coh.recommendations": ("not_enabled", COH_NOT_ENROLLED)}),
    ("ce-denied", {}, [{"service": "ce", "action": "GetCostAndUsage", "error": "AccessDenied"}],
     {"ce.spend": ("access_denied", f"the role lacks ce:GetCostAndUsage; {UPDATE_ROLE}")}),
    ("resources-denied", {}, [{"service": "ce", "action": "GetCostAndUsageWithResources", "error": "AccessDenied"}],
     {"ce.resources": ("access_denied", f"the role lacks ce:GetCostAndUsageWithResources; {UPDATE_ROLE}")}),
    ("coh-denied", {},
     [{"service": "cost-optimization-hub", "action": "ListEnrollmentStatuses", "error": "AccessDenied"}],
     {"coh.recommendations": ("access_denied", "the role lacks cost-optimization-hub:ListEnrollmentStatuses, "
                              f"ListRecommendations or ListRecommendationSummaries; {UPDATE_ROLE}")}),
]
LIGHT_CASES = [
    ("resources-validation",
     {"AWSInsightsIndexService.GetCostAndUsageWithResources": _error(
         "ValidationException", "Resource-level data is not available for this account")},
     [], {"ce.resources": ("not_enabled", RESOURCES_NOT_ENABLED)}),
    ("coh-never-enrolled-empty-list",
     {"CostOptimizationHubService.ListEnrollmentStatuses": {"pages": [{"items": []}]}},
     [], {"coh.recommendations": ("not_enabled", COH_NOT_ENROLLED)}),
    ("coh-list-denied", {},
     [{"service": "cost-optimization-hub", "action": "ListRecommendations", "error": "AccessDenied"}],
     {"coh.recommendations": ("access_denied", "the role lacks cost-optimization-hub:ListEnrollmentStatuses, "
                              f"ListRecommendations or ListRecommendationSummaries; {UPDATE_ROLE}")}),
]


@pytest.mark.parametrize("case, fixtures, faults, expected", FULL_CASES)
def test_each_unavailable_source_gives_a_complete_review_naming_source_and_remedy(
    tmp_path, local_aws, customer, case, fixtures, faults, expected
):
    seed_idle_volume(customer)
    data = demo_costs(ACCOUNT, ANCHOR)
    data["fixtures"].update(fixtures)
    load_costs(local_aws, ACCOUNT, data)
    local_aws.set_faults(faults)

    result, db, report = scan_and_report(tmp_path, customer)

    got = coverage_of(report)
    for source in COST_SOURCES:
        assert got[source] == expected.get(source, ("ok", "")), source
    assert report["status"] == "partial"  # finished, with the gap named
    assert report["totals"]["monthly_savings"] == "10.00"  # the native finding is there
    titles = {"ce.spend": "Cost Explorer spend", "ce.resources": "Resource-level Cost Explorer data",
              "coh.recommendations": "Cost Optimization Hub recommendations"}
    assert sorted(report["gaps"]) == sorted(f"{titles[s]} could not be read: {d}." for s, (_, d) in expected.items())
    assert "update_enrollment_status" not in json.dumps(local_aws.requests()).lower()
    assert "UpdateEnrollmentStatus" not in [r["action"] for r in local_aws.requests()]
    if case == "ce-not-enabled":
        # No paid request bound to fail: resource-level data is part of Cost Explorer.
        assert [r["action"] for r in ce_requests(local_aws)] == ["GetCostAndUsage"]
        assert report["spend"]["by_month"] == [] and report["scan_cost"]["requests"] == 1
        assert report["cost_recommendations"]["deduped_monthly_savings"] == "118.50"
    if case.startswith("coh-not") or case.startswith("coh-never"):
        assert not [r for r in local_aws.requests() if r["action"] == "ListRecommendations"]
        recs = report["cost_recommendations"]
        assert recs["items"] == [] and recs["enrollment"] == "Inactive"
        assert report["totals"]["coh_monthly_savings"] is None  # not read: no total, rather than a false $0
        assert len(report["spend"]["by_month"]) == 13
    if case == "resources-not-opted-in":
        assert report["resource_costs"] == [] and len(report["spend"]["by_month"]) == 13
    markdown = to_markdown(report)
    assert "## What could not be read" in markdown


@pytest.mark.parametrize("case, fixtures, faults, expected", LIGHT_CASES)
def test_more_unavailable_answers_are_classified_with_the_remedy(local_aws, customer, case, fixtures, faults, expected):
    """The same sources read through the real assumed role, without the inventory scan around them."""
    import threading

    from finops.aws.arn import parse_role_arn
    from finops.aws.session import assume_customer_role, client_config, count_calls
    from finops.cost import collect_costs

    data = demo_costs(ACCOUNT, ANCHOR)
    data["fixtures"].update(fixtures)
    load_costs(local_aws, ACCOUNT, data)
    local_aws.set_faults(faults)
    role = parse_role_arn(seed.create_scanner_role(customer, EXTERNAL_ID))
    session = assume_customer_role(role, EXTERNAL_ID)
    calls = threading.local()
    count_calls(session, calls)
    costs, coverage = collect_costs(session, ACCOUNT, Settings(), client_config(), calls, today=ANCHOR)
    got = {c.source: (c.status, c.detail) for c in coverage}
    assert got == {source: expected.get(source, ("ok", "")) for source in COST_SOURCES}
    # Each CE request is counted, failed ones included: 3 spend pages + 2 resource pages, or the wide
    # resource query refused (ValidationException) and its EC2-only retry refused too.
    assert costs.ce_requests == 5 and len(costs.monthly) == 52
    assert len(costs.recommendations) == (0 if "coh.recommendations" in expected else 4)


def test_the_review_exact_gap_sentence_for_resource_level_data(tmp_path, local_aws, customer):
    local_aws.load_fixtures({"AWSInsightsIndexService.GetCostAndUsageWithResources": _error(
        "ValidationException", "Resource-level data at daily granularity is not enabled")}, ACCOUNT)
    _, _, report = scan_and_report(tmp_path, customer)
    assert report["gaps"] == [
        "Resource-level Cost Explorer data could not be read: it is not enabled; enable 'Resource-level data at "
        "daily granularity' in Cost Management preferences (management account)."
    ]


def test_resource_query_refused_for_other_services_falls_back_to_ec2_compute_once(tmp_path, local_aws, customer):
    data = demo_costs(ACCOUNT, ANCHOR)
    data["fixtures"]["AWSInsightsIndexService.GetCostAndUsageWithResources"]["fail_first"] = {
        "count": 1,
        "error": _error("ValidationException", "SERVICE must be Amazon Elastic Compute Cloud - Compute")["error"],
    }
    load_costs(local_aws, ACCOUNT, data)
    _, _, report = scan_and_report(tmp_path, customer)
    status, detail = coverage_of(report)["ce.resources"]
    assert status == "ok" and detail.startswith("EC2 compute only: AWS refused resource-level data for EC2 - Other")
    sent = [r["params"]["Filter"]["Dimensions"]["Values"] for r in ce_requests(local_aws)
            if r["action"] == "GetCostAndUsageWithResources"]
    assert sent == [["Amazon Elastic Compute Cloud - Compute", "EC2 - Other", "Amazon Relational Database Service",
                     "AWS Lambda"]] + [["Amazon Elastic Compute Cloud - Compute"]] * 2
    assert report["scan_cost"]["requests"] == 6 <= 8
    assert len(report["resource_costs"]) == 5  # the fixture answers whatever the filter; the count is the point


def test_resource_costs_turned_off_sends_no_resource_request(tmp_path, local_aws, customer):
    _, _, report = scan_and_report(tmp_path, customer, Settings(resource_costs=False))
    assert coverage_of(report)["ce.resources"] == ("not_enabled", RESOURCES_TURNED_OFF)
    assert [r["action"] for r in ce_requests(local_aws)] == ["GetCostAndUsage", "GetCostAndUsage"]
    assert report["scan_cost"]["requests"] == 2


def test_fresh_local_account_reads_every_cost_source_as_enabled_and_empty(tmp_path, local_aws, customer):
    _, _, report = scan_and_report(tmp_path, customer)
    assert coverage_of(report) == {s: ("ok", "") for s in COST_SOURCES}
    assert report["spend"]["by_month"] == [] and report["cost_recommendations"]["items"] == []
    assert report["scan_cost"]["requests"] == 3  # monthly, daily, resources: one page each


def test_management_account_spend_is_split_by_linked_account(tmp_path, local_aws, customer):
    def group(service, account, amount):
        return {"Keys": [service, account], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}

    local_aws.queue_cost_and_usage(ACCOUNT, [{
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
        "DimensionValueAttributes": [{"Value": ACCOUNT, "Attributes": {"description": "Payer"}},
                                     {"Value": "333333333333", "Attributes": {"description": "Team A"}}],
        "ResultsByTime": [{"TimePeriod": {"Start": "2026-10-01", "End": "2026-11-01"}, "Total": {}, "Estimated": False,
                           "Groups": [group("AWS Lambda", ACCOUNT, "1.10"), group("AWS Lambda", "333333333333", "2.20"),
                                      group("Amazon Simple Storage Service", "333333333333", "3.30")]}],
    }])
    _, _, report = scan_and_report(tmp_path, customer)
    spend = report["spend"]
    assert [(a["account_id"], a["name"], a["unblended"]) for a in spend["by_account"]] == [
        ("333333333333", "Team A", "5.50"), (ACCOUNT, "Payer", "1.10")]
    assert [(s["service"], s["unblended"]) for s in spend["by_service"]] == [
        ("AWS Lambda", "3.30"), ("Amazon Simple Storage Service", "3.30")]
    assert [(m["month"], m["unblended"], m["net_amortized"]) for m in spend["by_month"]] == [("2026-10", "6.60", None)]
    assert report["scan_cost"]["requests"] == 3


def test_native_finding_and_coh_recommendation_for_one_resource_are_linked_not_added(tmp_path, local_aws, customer):
    volume = seed_idle_volume(customer)
    data = demo_costs(ACCOUNT, ANCHOR)
    page = data["fixtures"]["CostOptimizationHubService.ListRecommendations"]["pages"][0]
    page["items"][1]["resourceId"] = volume
    load_costs(local_aws, ACCOUNT, data)
    _, _, report = scan_and_report(tmp_path, customer)
    linked = [r for r in report["cost_recommendations"]["items"] if r["resource_id"] == volume]
    assert linked[0]["native_finding"] == f"ec2_ebs_volume_unattached:{ACCOUNT}:us-east-1:{volume}"
    assert report["totals"]["monthly_savings"] == "10.00"  # the native total did not absorb COH's $10.00
    assert report["totals"]["coh_monthly_savings"] == "118.50"


# -- the front responder's fixtures ---------------------------------------------------------------
def _hub(customer):
    return guarded(customer).client("cost-optimization-hub", region_name="us-east-1",
                                    config=Config(retries={"max_attempts": 1}))


def test_fixture_not_matching_botocore_shape_is_refused(local_aws, customer):
    bad = {"CostOptimizationHubService.ListRecommendations": {"pages": [{"items": [{"recommendationId": "r",
                                                                                     "estimatedSavings": 1.0}]}]}}
    with pytest.raises(ValueError, match="estimatedSavings"):
        local_aws.load_fixtures(bad, ACCOUNT)
    problems = local_aws.load_fixtures(bad, ACCOUNT, strict=False)
    assert "Unknown parameter" in problems["CostOptimizationHubService.ListRecommendations[0]"]
    with pytest.raises(ClientError) as caught:
        _hub(customer).list_recommendations()
    assert caught.value.response["Error"]["Code"] == "FixtureInvalid"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_unknown_hub_target_without_fixture_and_bad_page_token(local_aws, customer):
    with pytest.raises(ClientError) as caught:
        # An operation the scanner never sends (the guard would refuse it): asked unguarded.
        customer.session().client("cost-optimization-hub", region_name="us-east-1").get_recommendation(
            recommendationId="rec-none")
    assert caught.value.response["Error"]["Code"] == "UnknownOperationException"
    with pytest.raises(ClientError) as caught:
        _hub(customer).list_recommendations(nextToken="p7")
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_fixtures_are_per_account(local_aws, customer):
    local_aws.load_fixtures({"CostOptimizationHubService.ListEnrollmentStatuses": {
        "pages": [{"items": [{"accountId": "999999999999", "status": "Inactive"}]}]}}, "999999999999")
    assert _hub(customer).list_enrollment_statuses()["items"] == [{"status": "Active"}]  # the baseline


def test_the_scanner_can_never_enroll_anyone(local_aws, customer):
    with pytest.raises(ReadOnlyViolation):
        _hub(customer).update_enrollment_status(status="Active")
    assert local_aws.requests() == []


def test_demo_fixture_dates_follow_today():
    data = demo_costs("444444444444", date(2027, 3, 15))
    monthly = data["cost_and_usage"][0]["result"]["ResultsByTime"]
    assert monthly[0]["TimePeriod"] == {"Start": "2026-03-01", "End": "2026-04-01"}
    last = data["cost_and_usage"][1]["result"]["ResultsByTime"][-1]["TimePeriod"]
    assert last == {"Start": "2027-03-01", "End": "2027-03-15"}
    assert data["cost_and_usage"][2]["result"]["ResultsByTime"][-1]["TimePeriod"]["End"] == "2027-03-15"
    assert "222222222222" not in json.dumps(data)
