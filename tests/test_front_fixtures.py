"""The local AWS front serves fixtures for any operation of any protocol, in the real wire format.

moto 5.2.5 lacks EC2 DescribeReservedInstances (NotImplementedError), RDS
DescribeReservedDBInstances, the whole Savings Plans service, Lambda
ListProvisionedConcurrencyConfigs, S3's Intelligent-Tiering configurations and the JSON-protocol
cost services, so the front answers them from fixtures. Each test here proves the round trip for
one protocol family: a fixture page goes in as a dict, the front serializes it with moto's own
response serializer, a real botocore client parses the bytes, and the result is the same dict
(timestamps come back as datetimes, as from AWS), page tokens included.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import Shape
from botocore.utils import parse_timestamp

from finops.sandbox.front import match_route, parse_fixture_key

ONE_TRY = Config(retries={"max_attempts": 1})


def client(customer, service: str, region: str = "us-east-1") -> Any:  # type: ignore[no-untyped-def]
    return customer.session(region).client(service, config=ONE_TRY)


def as_parsed(shape: Shape, value: Any) -> Any:
    """What botocore makes of ``value`` for ``shape``: timestamps become aware datetimes."""
    if shape.type_name == "structure":
        return {k: as_parsed(shape.members[k], v) for k, v in value.items()}
    if shape.type_name == "list":
        return [as_parsed(shape.member, v) for v in value]
    if shape.type_name == "map":
        return {k: as_parsed(shape.value, v) for k, v in value.items()}
    if shape.type_name == "timestamp":
        return parse_timestamp(value)
    return value


def round_trip(api: Any, operation: str, **params: Any) -> dict:
    """The parsed answer, without botocore's ResponseMetadata."""
    response = getattr(api, operation)(**params)
    assert response.pop("ResponseMetadata")["HTTPStatusCode"] == 200
    return response


def expect(api: Any, operation: str, page: dict) -> dict:
    model = api.meta.service_model.operation_model(api.meta.method_to_api_mapping[operation])
    return as_parsed(model.output_shape, page)


def test_ec2_xml_describe_reserved_instances_round_trips(local_aws, customer):
    """EC2 protocol (query request, EC2 XML answer). moto raises NotImplementedError for this API."""
    page = {"ReservedInstances": [{
        "ReservedInstancesId": "ri-0a1", "InstanceType": "m6i.large", "InstanceCount": 4, "State": "active",
        "Start": "2026-01-15T08:00:00.000Z", "End": "2029-01-14T08:00:00.000Z", "Duration": 94608000,
        "FixedPrice": 1234.56, "UsagePrice": 0.0, "CurrencyCode": "USD", "OfferingClass": "convertible",
        "OfferingType": "All Upfront", "Scope": "Region", "InstanceTenancy": "default",
        "ProductDescription": "Linux/UNIX", "RecurringCharges": [{"Frequency": "Hourly", "Amount": 0.0}],
        "Tags": [{"Key": "cost-center", "Value": "42"}],
    }]}
    local_aws.load_fixtures({"ec2:DescribeReservedInstances?region=eu-west-1": {"pages": [page]}},
                            customer.account_id)
    ec2 = client(customer, "ec2", "eu-west-1")
    parsed = round_trip(ec2, "describe_reserved_instances")
    assert parsed == expect(ec2, "describe_reserved_instances", page)
    # Narrowed to eu-west-1: another region gets the baseline (none), like another account would.
    assert client(customer, "ec2", "us-west-2").describe_reserved_instances().get("ReservedInstances", []) == []


def test_query_xml_describe_reserved_db_instances_round_trips_with_markers(local_aws, customer):
    """Query protocol (RDS XML), two pages over Marker. moto's RDS has no reserved DB instances."""
    pages = [
        {"ReservedDBInstances": [{
            "ReservedDBInstanceId": "r-1", "DBInstanceClass": "db.r6g.xlarge", "StartTime": "2025-12-01T00:00:00Z",
            "Duration": 31536000, "FixedPrice": 2000.0, "UsagePrice": 0.0, "CurrencyCode": "USD",
            "DBInstanceCount": 2, "ProductDescription": "aurora-postgresql", "OfferingType": "Partial Upfront",
            "MultiAZ": False, "State": "active",
            "RecurringCharges": [{"RecurringChargeAmount": 0.151, "RecurringChargeFrequency": "Hourly"}],
        }]},
        {"ReservedDBInstances": [{"ReservedDBInstanceId": "r-2", "MultiAZ": True, "State": "retired"}]},
    ]
    local_aws.load_fixtures({"rds:DescribeReservedDBInstances": {"pages": pages}}, customer.account_id)
    rds = client(customer, "rds")
    first = round_trip(rds, "describe_reserved_db_instances")
    assert first == {**expect(rds, "describe_reserved_db_instances", pages[0]), "Marker": "p1"}
    second = round_trip(rds, "describe_reserved_db_instances", Marker="p1")
    assert second == expect(rds, "describe_reserved_db_instances", pages[1])
    everything = [r["ReservedDBInstanceId"] for page in rds.get_paginator("describe_reserved_db_instances").paginate()
                  for r in page["ReservedDBInstances"]]
    assert everything == ["r-1", "r-2"]


def test_rest_json_savings_plans_round_trips_with_next_token(local_aws, customer):
    """rest-json protocol, POST with a JSON body; the whole Savings Plans service is missing from moto."""
    pages = [
        {"savingsPlans": [{
            "savingsPlanId": "sp-1", "savingsPlanArn": "arn:aws:savingsplans::222222222222:savingsplan/sp-1",
            "savingsPlanType": "Compute", "paymentOption": "Partial Upfront", "commitment": "3.21",
            "upfrontPaymentAmount": "14000.0", "recurringPaymentAmount": "1.61", "currency": "USD",
            "start": "2026-04-01T00:00:00.000Z", "end": "2029-04-01T00:00:00.000Z", "state": "active",
            "productTypes": ["EC2", "Fargate"], "termDurationInSeconds": 94608000, "tags": {"team": "platform"},
        }]},
        {"savingsPlans": [{"savingsPlanId": "sp-2", "state": "retired", "region": "eu-west-1"}]},
    ]
    local_aws.load_fixtures({"savingsplans:DescribeSavingsPlans": {"pages": pages}}, customer.account_id)
    plans = client(customer, "savingsplans")
    first = round_trip(plans, "describe_savings_plans", maxResults=1000)
    assert first == {**pages[0], "nextToken": "p1"}  # Savings Plans dates are strings in its model
    second = round_trip(plans, "describe_savings_plans", maxResults=1000, nextToken="p1")
    assert second == pages[1]
    sent = [r for r in local_aws.requests() if r["service"] == "savingsplans"]
    assert [(r["action"], r["method"], r["path"], r.get("fixture")) for r in sent] == [
        ("DescribeSavingsPlans", "POST", "/DescribeSavingsPlans", True)] * 2


def test_rest_json_provisioned_concurrency_round_trips_per_function(local_aws, customer):
    """rest-json protocol, GET with a URI label and a query literal (``?List=ALL``), answered per
    function through a fixture key narrowed by the FunctionName label. moto's Lambda has no route."""
    page = {"ProvisionedConcurrencyConfigs": [{
        "FunctionArn": "arn:aws:lambda:us-east-1:222222222222:function:api:live",
        "RequestedProvisionedConcurrentExecutions": 20, "AvailableProvisionedConcurrentExecutions": 20,
        "AllocatedProvisionedConcurrentExecutions": 20, "Status": "READY", "LastModified": "2026-11-02T10:00:00+0000",
    }]}
    local_aws.load_fixtures({"lambda:ListProvisionedConcurrencyConfigs?FunctionName=api": {"pages": [page]}},
                            customer.account_id)
    fn = client(customer, "lambda")
    parsed = round_trip(fn, "list_provisioned_concurrency_configs", FunctionName="api")
    assert parsed == page
    assert fn.list_provisioned_concurrency_configs(FunctionName="worker")["ProvisionedConcurrencyConfigs"] == []


def test_rest_xml_s3_intelligent_tiering_round_trips_with_continuation(local_aws, customer):
    """rest-xml protocol (S3, path-style, ``?intelligent-tiering``). moto keeps no Intelligent-Tiering
    configurations, so the front serves them; IsTruncated and the continuation token are set by page."""
    s3 = client(customer, "s3")
    s3.create_bucket(Bucket="tiered")
    pages = [
        {"IntelligentTieringConfigurationList": [{"Id": "archive", "Status": "Enabled", "Filter": {"Prefix": "old/"},
                                                  "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}]}]},
        {"IntelligentTieringConfigurationList": [{"Id": "deep", "Status": "Disabled",
                                                  "Tierings": [{"Days": 180, "AccessTier": "DEEP_ARCHIVE_ACCESS"}]}]},
    ]
    local_aws.load_fixtures({"s3:ListBucketIntelligentTieringConfigurations?Bucket=tiered": {"pages": pages}},
                            customer.account_id)
    first = round_trip(s3, "list_bucket_intelligent_tiering_configurations", Bucket="tiered")
    assert first == {**pages[0], "IsTruncated": True, "NextContinuationToken": "p1"}
    second = round_trip(s3, "list_bucket_intelligent_tiering_configurations", Bucket="tiered",
                           ContinuationToken="p1")
    assert second == {**pages[1], "IsTruncated": False}


def test_json_target_keyed_by_service_and_operation_round_trips(local_aws, customer):
    """JSON protocol (X-Amz-Target), keyed the new way; COH is not in moto at all."""
    page = {"items": [{
        "recommendationId": "rec-1", "accountId": customer.account_id, "region": "us-east-1",
        "resourceId": "vol-1", "currentResourceType": "EbsVolume", "actionType": "Delete",
        "estimatedMonthlySavings": 10.5, "estimatedSavingsPercentage": 100.0, "currencyCode": "USD",
        "lastRefreshTimestamp": "2026-11-01T06:00:00Z", "recommendationLookbackPeriodInDays": 14,
        "tags": [{"key": "team", "value": "web"}],
    }]}
    local_aws.load_fixtures({"cost-optimization-hub:ListRecommendations": {"pages": [page]}}, customer.account_id)
    hub = client(customer, "cost-optimization-hub")
    parsed = round_trip(hub, "list_recommendations")
    assert parsed == expect(hub, "list_recommendations", page)


def test_a_fixture_that_does_not_match_botocores_shape_is_500_in_any_protocol(local_aws, customer):
    bad = {"ec2:DescribeReservedInstances": {"pages": [{"ReservedInstances": [{"ReservedInstancesId": "ri-1",
                                                                               "Price": 3}]}]}}
    with pytest.raises(ValueError, match="Price"):
        local_aws.load_fixtures(bad, customer.account_id)
    local_aws.load_fixtures(bad, customer.account_id, strict=False)
    with pytest.raises(ClientError) as caught:
        client(customer, "ec2").describe_reserved_instances()
    assert caught.value.response["Error"]["Code"] == "FixtureInvalid"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


@pytest.mark.parametrize("key, problem", [
    ("ec2:DescribeReservedInstancez", "unknown operation"),
    ("NoSuchService.Operation", "not a target"),
    ("lambda:ListProvisionedConcurrencyConfigs?Color=red", "cannot be narrowed"),
])
def test_fixture_keys_are_checked(key, problem):
    with pytest.raises(ValueError, match=problem):
        parse_fixture_key(key)


def test_a_multi_page_fixture_for_an_unpaginated_operation_is_refused(local_aws, customer):
    pages = {"pages": [{"ReservedInstances": []}, {"ReservedInstances": []}]}
    problems = local_aws.load_fixtures({"ec2:DescribeReservedInstances": pages}, customer.account_id, strict=False)
    assert "not paginated" in problems["ec2:DescribeReservedInstances"]


@pytest.mark.parametrize("service, method, path, query, operation, labels", [
    ("lambda", "GET", "/2019-09-30/functions/api/provisioned-concurrency", {"List": ["ALL"]},
     "ListProvisionedConcurrencyConfigs", {"FunctionName": "api"}),
    ("lambda", "GET", "/2019-09-30/functions/api/provisioned-concurrency", {"Qualifier": ["live"]},
     "GetProvisionedConcurrencyConfig", {"FunctionName": "api"}),
    ("lambda", "GET", "/2015-03-31/functions/", {}, "ListFunctions", {}),
    ("s3", "GET", "/tiered", {"intelligent-tiering": [""]}, "ListBucketIntelligentTieringConfigurations",
     {"Bucket": "tiered"}),
    ("s3", "GET", "/tiered", {"versioning": [""]}, "GetBucketVersioning", {"Bucket": "tiered"}),
    ("s3", "GET", "/tiered/logs/a.txt", {}, "GetObject", {"Bucket": "tiered", "Key": "logs/a.txt"}),
    ("savingsplans", "POST", "/DescribeSavingsPlans", {}, "DescribeSavingsPlans", {}),
])
def test_rest_requests_are_matched_to_the_most_specific_operation(service, method, path, query, operation, labels):
    assert match_route(service, method, path, query) == (operation, labels)
