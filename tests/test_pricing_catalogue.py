"""The bundled price catalogue: every number sourced, every region accounted for, no derived prices."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from finops.pricing import PriceUnavailable, load_catalogue
from finops.pricing import keys as K
from finops.pricing.refresh import dump_catalogue

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "finops" / "pricing" / "catalogue.json"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Keys the scanner's checks quote, and keys the brief requires to exist.
REQUIRED = [
    *[f"ebs.{v}.storage" for v in ("gp2", "gp3", "io1", "io2", "st1", "sc1", "standard")],
    "ebs.gp3.iops", "ebs.gp3.throughput", "ebs.io1.iops", "ebs.io2.iops", "ebs.snapshot.standard",
    "ebs.snapshot.archive", "vpc.public_ipv4.idle", "vpc.public_ipv4.in_use", "nat.hours", "nat.data",
    "ec2.linux.m5.large", "ec2.linux.t4g.nano", "ec2.linux.r7g.16xlarge", "ec2.linux.c5.9xlarge",
    "rds.instance.postgres.multi.db.m5.large", "rds.instance.aurora-postgresql.single.db.r6g.large",
    *[f"rds.storage.{t}.{d}" for t in ("gp2", "gp3", "io1", "io2", "standard") for d in ("single", "multi")],
    "rds.iops.io1.single", "rds.iops.io1.multi", "rds.iops.gp3.single", "rds.iops.gp3.multi", "rds.snapshot",
    "aurora.storage",
    *[f"rds.extended_support.{e}.{y}" for e in ("mysql", "postgres", "aurora-mysql", "aurora-postgresql")
      for y in ("yr1-2", "yr3")],
    "fargate.x86.vcpu", "fargate.x86.memory", "fargate.arm.vcpu", "fargate.arm.memory",
    "lambda.requests", "lambda.duration.x86", "lambda.duration.arm64", "lambda.provisioned.x86",
    "lambda.provisioned.arm64", "lambda.provisioned_duration.x86", "lambda.provisioned_duration.arm64",
    "s3.standard.storage", "s3.standard_ia.storage", "s3.onezone_ia.storage", "s3.glacier_ir.storage",
    "s3.glacier.storage", "s3.deep_archive.storage", *[f"s3.intelligent_tiering.{t}" for t in (
        "frequent", "infrequent", "archive_instant", "archive", "deep_archive", "monitoring")],
]


@pytest.fixture(scope="module")
def doc() -> dict:
    return json.loads(CATALOGUE.read_text())


def _decimal(text: object) -> Decimal:
    assert isinstance(text, str), f"money must be a decimal string, got {text!r}"
    try:
        value = Decimal(text)
    except InvalidOperation:
        pytest.fail(f"not a decimal: {text!r}")
    assert value.is_finite() and "e" not in text.lower(), text
    return value


def test_catalogue_loads_as_a_price_book(doc):
    assert doc["schema_version"] == 1 and doc["currency"] == "USD"
    assert DATE.match(doc["generated_at"])
    price = load_catalogue().price("ebs.gp3.storage", "us-east-1")
    assert price.usd == Decimal("0.08") and price.unit == "GB-Mo" and price.source.url


def test_regions_are_the_commercial_regions_only(doc):
    assert doc["regions"] == list(K.COMMERCIAL_REGIONS)
    assert len(doc["regions"]) == 36
    assert not [r for r in doc["regions"] if r.startswith(("us-gov-", "cn-", "us-iso", "eusc-"))]


def test_every_key_is_defined_and_every_defined_key_is_present(doc):
    defined = K.key_definitions()
    assert set(doc["prices"]) == set(defined)
    assert set(REQUIRED) <= set(doc["prices"])
    for key, price in doc["prices"].items():
        assert price["unit"] == defined[key]["unit"], key
        assert price["description"], key


def test_every_key_covers_every_region_once(doc):
    regions = set(doc["regions"])
    for key, price in doc["prices"].items():
        priced, unavailable = set(price["regions"]), set(price.get("unavailable", {}))
        assert priced | unavailable == regions, f"{key}: {regions - priced - unavailable}"
        assert not priced & unavailable, f"{key} is both priced and unavailable in {priced & unavailable}"
        for region, reason in price.get("unavailable", {}).items():
            assert isinstance(reason, str) and reason.strip(), (key, region)


def test_every_priced_entry_names_a_source_with_a_url_and_a_date(doc):
    sources = doc["sources"]
    for source_id, source in sources.items():
        assert source["url"].startswith("https://"), source_id
        assert source["title"] and source["retrieved"] and source["date"], source_id
    for key, price in doc["prices"].items():
        for region, entry in price["regions"].items():
            assert entry["source"] in sources, (key, region, entry["source"])
            effective = entry["effective"]
            assert DATE.match(effective) or effective.startswith("as of source"), (key, region, effective)


def test_values_are_positive_decimals_and_tiers_ascend(doc):
    for key, price in doc["prices"].items():
        for region, entry in price["regions"].items():
            assert ("usd" in entry) != ("tiers" in entry), (key, region)
            if "usd" in entry:
                assert _decimal(entry["usd"]) > 0, (key, region)
                continue
            tiers = entry["tiers"]
            assert len(tiers) >= 2, (key, region)
            bounds = [t["upto"] for t in tiers]
            assert bounds[-1] is None and None not in bounds[:-1], (key, region)
            limits = [_decimal(b) for b in bounds[:-1]]
            assert limits == sorted(limits) and len(set(limits)) == len(limits), (key, region)
            assert all(_decimal(t["usd"]) > 0 for t in tiers), (key, region)


def test_every_key_is_priced_somewhere_or_says_why_not(doc):
    """A key no source prices anywhere must say so in us-east-1 (never silently empty)."""
    for key, price in doc["prices"].items():
        if not price["regions"]:
            assert "us-east-1" in price["unavailable"], key


@pytest.mark.parametrize("key, region, usd", [
    ("ebs.gp3.storage", "us-east-1", "0.08"),
    ("ebs.gp2.storage", "us-east-1", "0.1"),
    ("vpc.public_ipv4.idle", "us-east-1", "0.005"),
    ("vpc.public_ipv4.in_use", "eu-central-1", "0.005"),
    ("nat.hours", "us-east-1", "0.045"),
    ("ec2.linux.m5.large", "us-east-1", "0.096"),
    ("rds.instance.postgres.single.db.m5.large", "us-east-1", "0.178"),
    ("rds.instance.mysql.multi.db.t3.large", "us-east-1", "0.272"),
    ("lambda.requests", "us-east-1", "0.0000002"),
    ("ebs.gp3.throughput", "us-east-1", "0.04"),
    # Flexera's 2026-08-17 RDS extract (the Graviton 3 classes the 2023 one predates)
    ("rds.instance.mysql.single.db.m7g.large", "us-east-1", "0.168"),
    ("rds.instance.postgres.multi.db.r7g.xlarge", "us-east-1", "0.956"),
    ("rds.instance.mariadb.single.db.r7g.large", "eu-west-1", "0.268"),
])
def test_spot_checks_against_the_sources(doc, key, region, usd):
    assert doc["prices"][key]["regions"][region]["usd"] == usd


def test_rds_graviton_3_prices_scale_with_size_and_multi_az_is_two_instances(doc):
    """The db.m7g/db.r7g prices were taken by hand from a large extract: each region's are checked
    against each other (per-size price in proportion to the size within 0.5 %, Multi-AZ twice
    Single-AZ within a fifth of a cent: sa-east-1 gives five decimals), which a mistyped digit would break."""
    units = {"large": 1, "xlarge": 2, "2xlarge": 4, "4xlarge": 8, "8xlarge": 16, "12xlarge": 24, "16xlarge": 32}
    priced = 0
    for engine in ("mysql", "postgres", "mariadb"):
        for family in ("m7g", "r7g"):
            for region in doc["regions"]:
                single = {size: Decimal(doc["prices"][f"rds.instance.{engine}.single.db.{family}.{size}"]["regions"]
                                        .get(region, {}).get("usd", "0")) for size in units}
                per_unit = [price / units[size] for size, price in single.items() if price]
                assert not per_unit or max(per_unit) / min(per_unit) < Decimal("1.005"), (engine, family, region)
                for size, price in single.items():
                    multi = doc["prices"][f"rds.instance.{engine}.multi.db.{family}.{size}"]["regions"].get(region)
                    if price and multi:
                        assert abs(Decimal(multi["usd"]) - 2 * price) <= Decimal("0.002"), (engine, size, region)
                        priced += 1
    assert priced > 500


def test_tiered_keys_have_the_tiers_aws_publishes(doc):
    io2 = doc["prices"]["ebs.io2.iops"]["regions"]["us-east-1"]["tiers"]
    assert [t["upto"] for t in io2] == ["32000", "64000", None]
    s3 = doc["prices"]["s3.standard.storage"]["regions"]["us-east-1"]["tiers"]
    assert [t["upto"] for t in s3] == ["51200", "512000", None]
    x86 = doc["prices"]["lambda.duration.x86"]["regions"]["us-east-1"]["tiers"]
    assert [t["upto"] for t in x86] == ["6000000000", "15000000000", None]
    arm = doc["prices"]["lambda.duration.arm64"]["regions"]["us-east-1"]["tiers"]
    assert [t["upto"] for t in arm] == ["7500000000", "18750000000", None]


def test_file_is_written_in_the_generators_layout(doc):
    """The bundled file and `prices refresh` output share one layout, so a refresh diffs key by key."""
    assert CATALOGUE.read_text() == dump_catalogue(doc)


def test_an_unpriced_region_is_unavailable_with_its_reason_never_estimated():
    catalogue = load_catalogue()
    with pytest.raises(PriceUnavailable) as missing:
        catalogue.price("ebs.gp3.storage", "ap-southeast-7")
    assert missing.value.reason and missing.value.region == "ap-southeast-7"
    assert catalogue.unavailable_reason("ebs.gp3.storage", "ap-southeast-7") == missing.value.reason
