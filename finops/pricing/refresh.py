"""``finops-pack prices refresh``: rebuild the price catalogue from the AWS Price List API.

Uses the scanner's own identity (the default boto3 session, ``AWS_ENDPOINT_URL`` honoured) with
the read-only guard allowing only ``pricing:GetProducts``; never a customer role. One
``GetProducts`` query per key family (``keys.FAMILIES``) per region, paginated with
``NextToken``. Each product is checked again against the family's filters and matched to a key on
its attributes; a key the answer does not price becomes *unavailable* with the reason, never an
estimate. Prices are kept as the decimal strings AWS states (trailing zeros of AWS's 10-decimal
format dropped), with the SKU, usage type and the On-Demand term's effective date.

Regions that are not refreshed keep the entries they had in the catalogue being updated.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from finops.aws.session import client_config, scanner_session
from finops.errors import FinopsError
from finops.pricing import keys as K

log = logging.getLogger(__name__)

PRICING_REGION = "us-east-1"  # documented Price List API endpoint (the other is ap-south-1)
SOURCE_ID = "aws-price-list-api"
PAGE_SIZE = 100
CATALOGUE_PATH = Path(__file__).with_name("catalogue.json")


class PriceRefreshError(FinopsError):
    code = "price_refresh_failed"
    customer_message = (
        "The AWS Price List API could not be read with the scanner's own credentials, so the price "
        "catalogue was not changed. The scanner identity needs pricing:GetProducts."
    )


@dataclass(frozen=True)
class Match:
    selector: K.Selector
    product: dict[str, Any]
    term: dict[str, Any]


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def pricing_client(session: boto3.Session | None = None) -> Any:
    """A ``pricing`` client in us-east-1 from the scanner's own (guarded) session."""
    session = session or scanner_session()
    return session.client("pricing", region_name=PRICING_REGION, config=client_config())


# -- reading -----------------------------------------------------------------------------------------
def get_products(client: Any, family: K.Family, region: str) -> Iterator[dict[str, Any]]:
    """Every product of one family in one region, following NextToken to the last page."""
    params: dict[str, Any] = {
        "ServiceCode": family.service_code,
        "Filters": family.api_filters(region),
        "FormatVersion": "aws_v1",
        "MaxResults": PAGE_SIZE,
    }
    pages = 0
    while True:
        page = client.get_products(**params)
        pages += 1
        for item in page.get("PriceList", []):
            yield json.loads(item) if isinstance(item, str) else item
        token = page.get("NextToken")
        if not token:
            break
        params["NextToken"] = token
    log.debug("family=%s region=%s pages=%d", family.name, region, pages)


def on_demand_terms(product: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(((product.get("terms") or {}).get("OnDemand") or {}).values())


def match_products(family: K.Family, region: str, products: Iterable[Mapping[str, Any]]) -> dict[str, list[Match]]:
    """key -> the (selector, product, On-Demand term) that price it in ``region``."""
    found: dict[str, list[Match]] = {}
    for product in products:
        offer_product = product.get("product") or {}
        attributes = offer_product.get("attributes") or {}
        if not family.admits(offer_product, region):
            continue
        for selector in family.selectors:
            if not selector.matches(attributes):
                continue
            for term in on_demand_terms(product):
                found.setdefault(selector.key, []).append(Match(selector, dict(product), term))
    return found


# -- building entries ----------------------------------------------------------------------------------
def decimal_string(value: Decimal) -> str:
    """Decimal text without exponent or trailing zeros: 0.0800000000 -> 0.08."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def _price(dim: Mapping[str, Any], scale: Decimal) -> Decimal:
    return Decimal(str((dim.get("pricePerUnit") or {})["USD"])) * scale


def _dims(term: Mapping[str, Any]) -> list[dict[str, Any]]:
    dims = list((term.get("priceDimensions") or {}).values())
    return sorted(dims, key=lambda d: Decimal(str(d.get("beginRange") or "0")))


def _value_of(match: Match, family: K.Family) -> tuple[str, Any]:
    """("usd", "0.08") or ("tiers", [...]) for one matched product, or raise ValueError."""
    dims = _dims(match.term)
    if not dims:
        raise ValueError("no price dimension")
    if len(dims) == 1:
        return "usd", decimal_string(_price(dims[0], family.scale))
    if not family.tiered_by_range:
        raise ValueError(f"{len(dims)} price dimensions on a key that is not tiered")
    tiers = []
    for dim in dims:
        end = str(dim.get("endRange") or "Inf")
        tiers.append({"upto": None if end == "Inf" else decimal_string(Decimal(end)),
                      "usd": decimal_string(_price(dim, family.scale))})
    return "tiers", tiers


def _effective(term: Mapping[str, Any]) -> str:
    return str(term.get("effectiveDate") or "")[:10]


def _base_entry(match: Match, retrieved: str) -> dict[str, Any]:
    attributes = match.product["product"].get("attributes") or {}
    entry: dict[str, Any] = {
        "usage_type": attributes.get("usagetype", ""),
        "sku": match.product["product"].get("sku", ""),
        "effective": _effective(match.term) or f"as of source {retrieved}",
        "source": SOURCE_ID,
    }
    return entry


def build_entry(key: str, family: K.Family, matches: list[Match], retrieved: str) -> tuple[dict | None, str]:
    """(entry, "") when the matches price ``key``; (None, reason) when they do not."""
    if not matches:
        return None, "no matching product"
    selectors = [s for s in family.selectors if s.key == key]
    try:
        if len(selectors) > 1:  # one SKU per tier (io2 IOPS); the caps come from keys.py
            return _tiers_from_skus(family, selectors, matches, retrieved)
        values = [_value_of(m, family) for m in matches]
    except (ValueError, KeyError, InvalidOperation) as error:
        return None, f"unreadable price ({error})"
    if len({json.dumps(v) for v in values}) > 1:
        return None, f"{len(matches)} products with different prices (ambiguous)"
    kind, value = values[0]
    entry = _base_entry(matches[0], retrieved)
    if len(matches) > 1:
        entry["note"] = f"{len(matches)} products agree on this price"
        entry.pop("sku")
    return {kind: value, **entry}, ""


def _tiers_from_skus(
    family: K.Family, selectors: list[K.Selector], matches: list[Match], retrieved: str
) -> tuple[dict | None, str]:
    tiers = []
    for selector in selectors:
        same = [m for m in matches if m.selector is selector]
        if not same:
            return None, f"tier {selector.usage_type} missing"
        values = {json.dumps(_value_of(m, family)) for m in same}
        if len(values) != 1:
            return None, f"{len(same)} products disagree for tier {selector.usage_type}"
        kind, value = _value_of(same[0], family)
        if kind != "usd":
            return None, f"tier {selector.usage_type} is itself tiered"
        tiers.append({"upto": selector.tier_upto, "usd": value})
    first = next(m for m in matches if m.selector is selectors[0])
    return {"tiers": tiers, **_base_entry(first, retrieved)}, ""


def refresh_region(client: Any, family: K.Family, region: str, retrieved: str) -> dict[str, tuple[dict | None, str]]:
    """key -> (entry or None, reason) for one family in one region."""
    try:
        products = list(get_products(client, family, region))
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        log.error("family=%s region=%s GetProducts failed code=%s", family.name, region, code)
        return {key: (None, f"GetProducts failed ({code}) on {retrieved}") for key in family.keys()}
    except BotoCoreError as error:
        log.error("family=%s region=%s GetProducts failed error=%s", family.name, region, type(error).__name__)
        return {key: (None, f"GetProducts failed ({type(error).__name__}) on {retrieved}") for key in family.keys()}
    found = match_products(family, region, products)
    out = {}
    for key in family.keys():
        entry, reason = build_entry(key, family, found.get(key, []), retrieved)
        if entry is None:
            reason = f"AWS Price List API ({retrieved}): {reason} in {region}"
        out[key] = (entry, reason)
    log.info("family=%s region=%s products=%d priced=%d", family.name, region, len(products),
             sum(1 for e, _ in out.values() if e))
    return out


# -- the catalogue -------------------------------------------------------------------------------------
def load_catalogue(path: Path | None = None) -> dict[str, Any]:
    path = path or CATALOGUE_PATH
    return json.loads(path.read_text())


def empty_catalogue() -> dict[str, Any]:
    definitions = K.key_definitions()
    reason = "not refreshed yet"
    return {
        "schema_version": 1,
        "currency": "USD",
        "generated_at": today(),
        "generator": "finops-pack prices refresh",
        "regions": list(K.COMMERCIAL_REGIONS),
        "sources": {},
        "facts": {},
        "prices": {
            key: {"unit": d["unit"], "description": d["description"], "regions": {},
                  "unavailable": {r: reason for r in K.COMMERCIAL_REGIONS}}
            for key, d in definitions.items()
        },
    }


def refresh_catalogue(
    regions: Iterable[str] | None = None,
    *,
    client: Any = None,
    base: dict[str, Any] | None = None,
    families: Iterable[K.Family] = K.FAMILIES,
    retrieved: str | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Refresh ``regions`` (default: every commercial region) of ``base`` from the Price List API."""
    regions = list(regions or K.COMMERCIAL_REGIONS)
    unknown = [r for r in regions if r not in K.COMMERCIAL_REGIONS]
    if unknown:
        raise PriceRefreshError(
            f"not commercial regions: {unknown}",
            customer_message=f"Not a commercial AWS Region: {', '.join(unknown)}. GovCloud and China are not priced.",
        )
    retrieved = retrieved or today()
    client = client or pricing_client()
    doc = json.loads(json.dumps(base)) if base is not None else empty_catalogue()
    definitions = K.key_definitions()
    failures = 0
    queries = 0
    for family in families:
        for region in regions:
            if on_progress:
                on_progress(f"{family.name} {region}")
            queries += 1
            results = refresh_region(client, family, region, retrieved)
            if all(e is None and "GetProducts failed" in r for e, r in results.values()):
                failures += 1
            for key, (entry, reason) in results.items():
                price = doc["prices"].setdefault(key, {
                    "unit": definitions[key]["unit"], "description": definitions[key]["description"],
                    "regions": {}, "unavailable": {},
                })
                price.setdefault("regions", {})
                price.setdefault("unavailable", {})
                if entry is not None:
                    price["regions"][region] = entry
                    price["unavailable"].pop(region, None)
                else:
                    price["regions"].pop(region, None)
                    price["unavailable"][region] = reason
    if queries and failures == queries:
        raise PriceRefreshError(f"every GetProducts query failed ({queries})")
    doc["sources"][SOURCE_ID] = {
        "title": "AWS Price List API (GetProducts)",
        "url": "https://api.pricing.us-east-1.amazonaws.com",
        "retrieved": retrieved,
        "date": retrieved,
        "note": "On-Demand terms; effective dates are the terms' effectiveDate. Refreshed regions: "
                + ", ".join(regions),
    }
    previous = doc.get("generator", "")
    refreshed = "every commercial region" if set(regions) == set(K.COMMERCIAL_REGIONS) else ", ".join(regions)
    doc["generator"] = f"finops-pack prices refresh on {retrieved} ({refreshed})"
    if previous and set(regions) != set(K.COMMERCIAL_REGIONS):
        doc["generator"] += f"; other regions as before: {previous}"
    doc["generated_at"] = retrieved
    doc["regions"] = list(K.COMMERCIAL_REGIONS)
    for price in doc["prices"].values():  # keep every region covered exactly once
        for region in K.COMMERCIAL_REGIONS:
            if region not in price["regions"] and region not in price["unavailable"]:
                price["unavailable"][region] = "not refreshed yet"
        price["unavailable"] = dict(sorted(price["unavailable"].items()))
        price["regions"] = {r: price["regions"][r] for r in K.COMMERCIAL_REGIONS if r in price["regions"]}
        if not price["unavailable"]:
            price.pop("unavailable")
    return doc


def dump_catalogue(doc: Mapping[str, Any]) -> str:
    """Indented header, then one line per price key (a refresh diffs key by key)."""
    head = {k: v for k, v in doc.items() if k != "prices"}
    text = json.dumps(head, indent=1, ensure_ascii=False)
    lines = [f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False, separators=(',', ':'))}"
             for key, value in doc["prices"].items()]
    return text[:-2] + ',\n "prices": {\n' + ",\n".join(lines) + "\n }\n}\n"


def write_catalogue(doc: Mapping[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(dump_catalogue(doc))
    tmp.replace(path)
