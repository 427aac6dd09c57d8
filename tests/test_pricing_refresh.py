"""`finops-pack prices refresh` against the local AWS: GetProducts pages in AWS's wire format.

The front serves the same pages to every GetProducts query, so each query sees products of other
families and regions too; the generator must keep only what its family and region admit.
"""

from __future__ import annotations

import json

import pytest

from finops import cli
from finops.aws.guard import SCANNER_OPERATIONS
from finops.aws.session import scanner_session
from finops.errors import ReadOnlyViolation
from finops.pricing import keys as K
from finops.pricing.refresh import (
    SOURCE_ID,
    PriceRefreshError,
    load_catalogue,
    pricing_client,
    refresh_catalogue,
)

TARGET = "AWSPriceListService.GetProducts"
PUBLICATION = {"version": "20261120183012", "publicationDate": "2026-11-20T18:30:12Z"}
LOCATIONS = {"us-east-1": "US East (N. Virginia)", "eu-west-1": "EU (Ireland)"}


def dimension(sku: str, rate: str, usd: str, unit: str, description: str, begin: str = "0", end: str = "Inf") -> dict:
    return {
        "unit": unit, "endRange": end, "description": description, "appliesTo": [],
        "rateCode": f"{sku}.JRTCKXETXF.{rate}", "beginRange": begin, "pricePerUnit": {"USD": usd},
    }


def price_item(service: str, family: str, sku: str, attributes: dict, dimensions: list[dict],
               effective: str = "2026-11-01T00:00:00Z", region: str = "us-east-1", reserved: bool = False) -> str:
    """One PriceList entry as GetProducts returns it: a JSON *string* of an offer-file product."""
    attrs = {"regionCode": region, "location": LOCATIONS[region], "locationType": "AWS Region",
             "servicecode": service, **attributes}
    terms: dict = {"OnDemand": {f"{sku}.JRTCKXETXF": {
        "priceDimensions": {d["rateCode"]: d for d in dimensions},
        "sku": sku, "effectiveDate": effective, "offerTermCode": "JRTCKXETXF", "termAttributes": {},
    }}}
    if reserved:  # real EC2 answers carry Reserved terms beside On-Demand; they must be ignored
        terms["Reserved"] = {f"{sku}.38NPMPTW36": {
            "priceDimensions": {f"{sku}.38NPMPTW36.6YS6EN2CT7": dimension(sku, "6YS6EN2CT7", "0.0600000000", "Hrs",
                                                                        "Linux/UNIX (Amazon VPC), m5.large reserved")},
            "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": "38NPMPTW36",
            "termAttributes": {"LeaseContractLength": "1yr", "OfferingClass": "standard",
                               "PurchaseOption": "No Upfront"},
        }}
    return json.dumps({"product": {"productFamily": family, "attributes": attrs, "sku": sku},
                       "serviceCode": service, "terms": terms, **PUBLICATION})


def ebs(sku: str, family: str, usage: str, usd: str, unit: str, text: str, **attributes: str) -> str:
    return price_item("AmazonEC2", family, sku, {"usagetype": usage, "operation": "", **attributes},
                      [dimension(sku, "6YS6EN2CT7", usd, unit, text)], effective="2024-07-01T00:00:00Z")


PAGE_1 = [
    ebs("JG3KUJMBRGHV3N8G", "Storage", "EBS:VolumeUsage.gp3", "0.0800000000", "GB-Mo",
        "$0.08 per GB-month of General Purpose (gp3) provisioned storage - US East (N. Virginia)",
        volumeApiName="gp3", volumeType="General Purpose", storageMedia="SSD-backed"),
    ebs("X9AGQNCQXFA9Q8XZ", "System Operation", "EBS:VolumeP-IOPS.io2", "0.0650000000", "IOPS-Mo",
        "$0.065 per IOPS-month provisioned - US East (N. Virginia)", volumeApiName="io2", group="EBS IOPS"),
    ebs("KDKG2R3W4NMV7CHP", "System Operation", "EBS:VolumeP-IOPS.io2.tier2", "0.0455000000", "IOPS-Mo",
        "$0.0455 per IOPS-month provisioned for io2 IOPS from 32,001 to 64,000", volumeApiName="io2",
        group="EBS IOPS Tier 2"),
    ebs("SQUFRQX4K92S4SBB", "Provisioned Throughput", "EBS:VolumeP-Throughput.gp3", "40.9600000000", "GiBps-mo",
        "$40.96 per provisioned GiBps-month of gp3 - US East (N. Virginia)", volumeApiName="gp3",
        group="EBS Throughput"),
    # the same gp3 product in another region: a us-east-1 query must not take it
    price_item("AmazonEC2", "Storage", "BB8UJWJ4XPFJB95G",
               {"usagetype": "EU-EBS:VolumeUsage.gp3", "volumeApiName": "gp3", "operation": ""},
               [dimension("BB8UJWJ4XPFJB95G", "6YS6EN2CT7", "0.0880000000", "GB-Mo",
                          "$0.088 per GB-month of General Purpose (gp3) provisioned storage - EU (Ireland)")],
               region="eu-west-1"),
]
PAGE_2 = [
    ebs("AX8G343U7JZBRKJB", "System Operation", "EBS:VolumeP-IOPS.io2.tier3", "0.0318500000", "IOPS-Mo",
        "$0.03185 per IOPS-month provisioned for io2 IOPS greater than 64,000", volumeApiName="io2",
        group="EBS IOPS Tier 3"),
    price_item("AmazonEC2", "Compute Instance", "6C86BEPQVG73ZGGR", {
        "instanceType": "m5.large", "usagetype": "BoxUsage:m5.large", "operation": "RunInstances",
        "operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used",
        "licenseModel": "No License required", "marketoption": "OnDemand", "vcpu": "2", "memory": "8 GiB",
        "instanceFamily": "General purpose",
    }, [dimension("6C86BEPQVG73ZGGR", "6YS6EN2CT7", "0.0960000000", "Hrs",
                  "$0.096 per On Demand Linux m5.large Instance Hour")],
        effective="2026-11-01T00:00:00Z", reserved=True),
    # a Dedicated-tenancy m5.large is not the shared-tenancy price
    price_item("AmazonEC2", "Compute Instance", "ZQHCCQ5K8SAWM6GH", {
        "instanceType": "m5.large", "usagetype": "DedicatedUsage:m5.large", "operation": "RunInstances",
        "operatingSystem": "Linux", "tenancy": "Dedicated", "preInstalledSw": "NA", "capacitystatus": "Used",
        "licenseModel": "No License required", "marketoption": "OnDemand",
    }, [dimension("ZQHCCQ5K8SAWM6GH", "6YS6EN2CT7", "0.1056000000", "Hrs",
                  "$0.1056 per Dedicated Linux m5.large Instance Hour")]),
    price_item("AmazonS3", "Storage", "WP9ANXZGBYYSGJEA", {
        "usagetype": "TimedStorage-ByteHrs", "storageClass": "General Purpose", "volumeType": "Standard",
        "operation": "",
    }, [
        dimension("WP9ANXZGBYYSGJEA", "PGHJ3S3EYE", "0.0230000000", "GB-Mo",
                  "$0.023 per GB - first 50 TB / month of storage used", "0", "51200"),
        dimension("WP9ANXZGBYYSGJEA", "D42MF2PVJS", "0.0220000000", "GB-Mo",
                  "$0.022 per GB - next 450 TB / month of storage used", "51200", "512000"),
        dimension("WP9ANXZGBYYSGJEA", "KCAKZZJCJ5", "0.0210000000", "GB-Mo",
                  "$0.021 per GB - storage used / month over 500 TB", "512000", "Inf"),
    ], effective="2026-11-01T00:00:00Z"),
]
PAGES = [{"FormatVersion": "aws_v1", "PriceList": PAGE_1}, {"FormatVersion": "aws_v1", "PriceList": PAGE_2}]


@pytest.fixture
def price_list(local_aws):
    local_aws.load_fixtures({TARGET: {"pages": PAGES}}, "*")
    return local_aws


def test_fixture_pages_are_getproducts_wire_format(price_list):
    """PriceList entries are JSON strings of offer-file products (botocore's output shape accepts them)."""
    client = pricing_client()
    page = client.get_products(ServiceCode="AmazonEC2", FormatVersion="aws_v1", MaxResults=100)
    assert page["NextToken"] == "p1" and all(isinstance(item, str) for item in page["PriceList"])
    product = json.loads(page["PriceList"][0])
    assert product["terms"]["OnDemand"]["JG3KUJMBRGHV3N8G.JRTCKXETXF"]["effectiveDate"] == "2024-07-01T00:00:00Z"


def test_refresh_prices_keys_from_products(price_list):
    base = load_catalogue()
    doc = refresh_catalogue(["us-east-1"], client=pricing_client(), base=base, retrieved="2026-11-30")
    prices = doc["prices"]

    assert prices["ebs.gp3.storage"]["regions"]["us-east-1"] == {
        "usd": "0.08", "usage_type": "EBS:VolumeUsage.gp3", "sku": "JG3KUJMBRGHV3N8G",
        "effective": "2024-07-01", "source": SOURCE_ID,
    }
    assert prices["ebs.io2.iops"]["regions"]["us-east-1"]["tiers"] == [
        {"upto": "32000", "usd": "0.065"}, {"upto": "64000", "usd": "0.0455"}, {"upto": None, "usd": "0.03185"},
    ]
    throughput = prices["ebs.gp3.throughput"]["regions"]["us-east-1"]
    assert throughput["usd"] == "0.04" and prices["ebs.gp3.throughput"]["unit"] == "MiBps-Mo"  # 40.96 / 1024
    m5 = prices["ec2.linux.m5.large"]["regions"]["us-east-1"]
    assert (m5["usd"], m5["sku"], m5["effective"], m5["usage_type"]) == (
        "0.096", "6C86BEPQVG73ZGGR", "2026-11-01", "BoxUsage:m5.large")  # not Reserved, not Dedicated
    assert prices["s3.standard.storage"]["regions"]["us-east-1"]["tiers"] == [
        {"upto": "51200", "usd": "0.023"}, {"upto": "512000", "usd": "0.022"}, {"upto": None, "usd": "0.021"},
    ]
    assert prices["s3.standard.storage"]["unit"] == "GB-Mo"

    # keys the answer does not price become unavailable with the reason, never estimated
    assert "us-east-1" not in prices["nat.hours"]["regions"]
    assert "no matching product" in prices["nat.hours"]["unavailable"]["us-east-1"]
    assert "us-east-1" not in prices["ec2.linux.m5.xlarge"]["regions"]

    # other regions keep what the catalogue had; the eu-west-1 gp3 product did not leak into us-east-1
    kept = base["prices"]["ebs.gp3.storage"]["regions"]["eu-west-1"]
    assert prices["ebs.gp3.storage"]["regions"]["eu-west-1"] == kept
    assert doc["sources"][SOURCE_ID]["url"] == "https://api.pricing.us-east-1.amazonaws.com"
    assert doc["sources"][SOURCE_ID]["retrieved"] == "2026-11-30"
    for price in prices.values():
        assert set(price["regions"]) | set(price.get("unavailable", {})) == set(K.COMMERCIAL_REGIONS)


def test_refresh_uses_only_getproducts_with_the_scanners_identity_and_pages(price_list):
    families = [f for f in K.FAMILIES if f.name in ("ebs.storage", "ec2.linux", "s3")]
    refresh_catalogue(["us-east-1", "eu-west-1"], client=pricing_client(), base=load_catalogue(),
                      families=families, retrieved="2026-11-30")
    calls = [r for r in price_list.requests() if r["service"] != "unknown"]
    assert calls and {(r["service"], r["action"]) for r in calls} == {("pricing", "GetProducts")}
    assert {r["access_key"] for r in calls} == {"testing"}  # the scanner's own keys, no customer role
    assert {r["region"] for r in calls} == {"us-east-1"}
    assert len(calls) == len(families) * 2 * len(PAGES)  # every query followed NextToken to the last page
    assert sum(1 for r in calls if r["params"].get("NextToken") == "p1") == len(families) * 2
    first = calls[0]["params"]
    assert first["FormatVersion"] == "aws_v1" and first["ServiceCode"] == "AmazonEC2"
    assert {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"} in first["Filters"]
    # one query per family, not per key
    assert {"Type": "TERM_MATCH", "Field": "volumeApiName", "Value": "gp3"} not in first["Filters"]


def test_scanner_identity_may_read_prices_and_nothing_else():
    assert SCANNER_OPERATIONS["pricing"] == frozenset({"GetProducts"})
    client = scanner_session().client("pricing", region_name="us-east-1")
    with pytest.raises(ReadOnlyViolation):
        client.describe_services()  # refused before anything is signed or sent


def test_refresh_fails_loudly_when_every_query_is_denied(local_aws):
    local_aws.load_fixtures({TARGET: {"error": {"code": "AccessDeniedException", "message": "denied", "status": 400}}})
    families = [f for f in K.FAMILIES if f.name == "nat"]
    with pytest.raises(PriceRefreshError):
        refresh_catalogue(["us-east-1"], client=pricing_client(), base=load_catalogue(), families=families)


def test_refresh_rejects_non_commercial_regions(local_aws):
    with pytest.raises(PriceRefreshError, match="us-gov-west-1"):
        refresh_catalogue(["us-gov-west-1"], client=pricing_client(), base=load_catalogue())


def test_cli_prices_refresh_writes_the_catalogue(price_list, tmp_path, capsys):
    output = tmp_path / "catalogue.json"
    assert cli.main(["prices", "refresh", "--regions", "us-east-1", "--output", str(output)]) == 0
    doc = json.loads(output.read_text())
    assert doc["prices"]["ebs.gp3.storage"]["regions"]["us-east-1"]["source"] == SOURCE_ID
    assert doc["prices"]["ec2.linux.m5.large"]["regions"]["us-east-1"]["usd"] == "0.096"
    assert "wrote" in capsys.readouterr().err
