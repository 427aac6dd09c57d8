"""The read-only guard: a botocore hook that refuses any operation not on an explicit allow-list.

It runs on ``before-call``, after the request is built and before anything is signed or sent, so
a refused operation never leaves the process. The allow-list is explicit (no prefix matching):
adding a collector means adding its operations here, and a test checks every collector's
declared operations are listed.
"""

from __future__ import annotations

import logging
from typing import Any

from finops.errors import ReadOnlyViolation

log = logging.getLogger(__name__)

# botocore service name -> operation names the scanner may send through the customer's role.
READ_OPERATIONS: dict[str, frozenset[str]] = {
    "sts": frozenset({"GetCallerIdentity"}),
    "organizations": frozenset({"DescribeOrganization", "ListAccounts", "DescribeAccount"}),
    "account": frozenset({"ListRegions"}),
    "ec2": frozenset({
        "DescribeRegions", "DescribeInstances", "DescribeInstanceTypes", "DescribeVolumes",
        "DescribeSnapshots", "DescribeImages", "DescribeAddresses", "DescribeNatGateways",
        "DescribeNetworkInterfaces", "DescribeReservedInstances",
    }),
    "autoscaling": frozenset({"DescribeAutoScalingGroups"}),
    "rds": frozenset({
        "DescribeDBInstances", "DescribeDBClusters", "DescribeDBSnapshots", "DescribeDBClusterSnapshots",
        "DescribeReservedDBInstances",
    }),
    "ecs": frozenset({
        "ListClusters", "DescribeClusters", "ListServices", "DescribeServices", "DescribeTaskDefinition",
        "ListContainerInstances", "DescribeContainerInstances",
    }),
    "lambda": frozenset({"ListFunctions", "ListProvisionedConcurrencyConfigs"}),
    "s3": frozenset({
        "ListBuckets", "GetBucketLocation", "GetBucketLifecycleConfiguration",
        "ListBucketIntelligentTieringConfigurations", "GetBucketVersioning", "GetBucketTagging",
    }),
    "savingsplans": frozenset({"DescribeSavingsPlans"}),
    "cloudwatch": frozenset({"GetMetricData", "GetMetricStatistics", "ListMetrics"}),
    "ce": frozenset({"GetCostAndUsage", "GetCostAndUsageWithResources", "GetDimensionValues"}),
    "cost-optimization-hub": frozenset({
        "ListEnrollmentStatuses", "ListRecommendations", "ListRecommendationSummaries", "GetRecommendation",
        "GetPreferences",
    }),
}

# The scanner's own identity only ever assumes roles, asks who it is, and reads public list
# prices (``finops-pack prices refresh``).
SCANNER_OPERATIONS: dict[str, frozenset[str]] = {
    "sts": frozenset({"AssumeRole", "GetCallerIdentity"}),
    "pricing": frozenset({"GetProducts"}),
}


def is_allowed(service: str, operation: str, allowed: dict[str, frozenset[str]]) -> bool:
    return operation in allowed.get(service, frozenset())


def install_guard(session: Any, allowed: dict[str, frozenset[str]] = READ_OPERATIONS) -> None:
    """Attach the guard to a boto3 Session: every client made from it is covered."""

    def refuse_unlisted(model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        if not is_allowed(service, model.name, allowed):
            log.error("read-only guard refused operation=%s:%s", service, model.name)
            raise ReadOnlyViolation(f"refused {service}:{model.name}: not on the read allow-list")

    session.events.register("before-call", refuse_unlisted, unique_id="finops-read-only-guard")
