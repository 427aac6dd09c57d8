"""The price catalogue: dated AWS list prices per (key, region), each with its source.

    catalogue = load_catalogue()
    price = catalogue.price("ebs.gp3.storage", "eu-west-1")       # or raises PriceUnavailable
    lines = catalogue.lines("ebs.io2.iops", "us-east-1", Decimal(40000), item="provisioned IOPS")

The catalogue (``catalogue.json``) is generated from the AWS Price List: bundled from public
extracts of it (each entry names its source), or regenerated with ``finops-pack prices refresh``
using the scanner's own AWS identity. A price the catalogue does not hold for a region is
*unavailable* there, with the reason: it is never estimated from another region or another type.
Tiered prices (io2 IOPS, S3 Standard, Lambda duration) are tiers, split by ``lines``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from finops.models import PriceLine

CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")
SCHEMA_VERSION = 1


class PriceUnavailable(LookupError):
    """The catalogue has no price for ``key`` in ``region``; ``reason`` says why."""

    def __init__(self, key: str, region: str, reason: str):
        super().__init__(f"{key} in {region}: {reason}")
        self.key, self.region, self.reason = key, region, reason


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    url: str
    retrieved: str = ""


@dataclass(frozen=True)
class Tier:
    upto: Decimal | None  # cumulative quantity this rate applies up to; None: no bound
    usd: Decimal


@dataclass(frozen=True)
class Price:
    key: str
    region: str
    unit: str
    tiers: tuple[Tier, ...]  # one tier with upto=None for a flat price
    usage_type: str
    effective: str
    source: Source
    sku: str = ""

    @property
    def flat(self) -> bool:
        return len(self.tiers) == 1

    @property
    def usd(self) -> Decimal:
        """The first-tier rate (the only rate of a flat price)."""
        return self.tiers[0].usd


class PriceCatalogue:
    def __init__(self, doc: dict[str, Any]):
        if doc.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"price catalogue schema {doc.get('schema_version')!r}, expected {SCHEMA_VERSION}")
        self.currency: str = doc.get("currency", "USD")
        self.generated_at: str = doc.get("generated_at", "")
        self.generator: str = doc.get("generator", "")
        self.regions: tuple[str, ...] = tuple(doc.get("regions", ()))
        self.sources = {
            sid: Source(sid, s.get("title", sid), s.get("url", ""), s.get("retrieved", ""))
            for sid, s in doc.get("sources", {}).items()
        }
        self._entries: dict[str, dict[str, Any]] = doc.get("prices", {})
        self._parsed: dict[tuple[str, str], Price] = {}

    @classmethod
    def from_file(cls, path: Path | str = CATALOGUE_FILE) -> PriceCatalogue:
        return cls(json.loads(Path(path).read_text()))

    def keys(self) -> list[str]:
        return sorted(self._entries)

    def unit(self, key: str) -> str:
        return self._entries.get(key, {}).get("unit", "")

    def description(self, key: str) -> str:
        return self._entries.get(key, {}).get("description", "")

    def has(self, key: str, region: str) -> bool:
        return region in self._entries.get(key, {}).get("regions", {})

    def unavailable_reason(self, key: str, region: str) -> str | None:
        """None when priced; otherwise the sentence saying why there is no price."""
        entry = self._entries.get(key)
        if entry is None:
            return f"the price catalogue has no {key} prices"
        if region in entry.get("regions", {}):
            return None
        return entry.get("unavailable", {}).get(region) or f"the price catalogue has no {key} price for {region}"

    def price(self, key: str, region: str) -> Price:
        cached = self._parsed.get((key, region))
        if cached is not None:
            return cached
        reason = self.unavailable_reason(key, region)
        if reason is not None:
            raise PriceUnavailable(key, region, reason)
        entry = self._entries[key]
        raw = entry["regions"][region]
        if "tiers" in raw:
            tiers = tuple(
                Tier(None if t.get("upto") in (None, "") else Decimal(str(t["upto"])), Decimal(str(t["usd"])))
                for t in raw["tiers"]
            )
        else:
            tiers = (Tier(None, Decimal(str(raw["usd"]))),)
        source_id = raw.get("source", "")
        source = self.sources.get(source_id) or Source(source_id, source_id, "")
        price = Price(
            key=key, region=region, unit=raw.get("unit") or entry.get("unit", ""), tiers=tiers,
            usage_type=raw.get("usage_type", ""), effective=raw.get("effective", ""), source=source,
            sku=raw.get("sku", ""),
        )
        self._parsed[(key, region)] = price
        return price

    def lines(
        self, key: str, region: str, quantity: Decimal, *, item: str, role: str = "current"
    ) -> list[PriceLine]:
        """Price ``quantity`` (per month) of ``key``: one line per tier it reaches."""
        price = self.price(key, region)
        out: list[PriceLine] = []
        remaining, floor = Decimal(quantity), Decimal(0)
        for tier in price.tiers:
            if remaining <= 0:
                break
            span = remaining if tier.upto is None else min(remaining, tier.upto - floor)
            if span > 0:
                label = item if price.flat else f"{item} ({_tier_label(floor, tier.upto)})"
                out.append(PriceLine(
                    item=label, role=role, price_key=key, usage_type=price.usage_type, unit_price=tier.usd,
                    unit=price.unit, quantity=span, region=region, effective_date=price.effective,
                    source=price.source.id, source_title=price.source.title, source_url=price.source.url,
                    sku=price.sku,
                ))
                remaining -= span
            if tier.upto is not None:
                floor = tier.upto
        return out


def _tier_label(floor: Decimal, upto: Decimal | None) -> str:
    if upto is None:
        return f"above {floor:,}"
    return f"first {upto:,}" if floor == 0 else f"{floor:,} to {upto:,}"


class Bill:
    """Price lines for one side of a formula, with missing prices collected instead of raised.

        now = Bill(catalogue, "current")
        now.add("ebs.gp2.storage", "eu-west-1", Decimal(100), "storage")
        now.total  # Decimal, or None when a price was unavailable (see now.missing)
    """

    def __init__(self, catalogue: PriceCatalogue, role: str = "current"):
        self.catalogue = catalogue
        self.role = role
        self.lines: list[PriceLine] = []
        self.missing: list[PriceUnavailable] = []

    def add(self, key: str, region: str, quantity: Decimal | int | str, item: str) -> Bill:
        quantity = Decimal(str(quantity))
        if quantity <= 0:
            return self
        try:
            self.lines.extend(self.catalogue.lines(key, region, quantity, item=item, role=self.role))
        except PriceUnavailable as missing:
            self.missing.append(missing)
        return self

    @property
    def priced(self) -> bool:
        return not self.missing

    @property
    def total(self) -> Decimal | None:
        if self.missing:
            return None
        return sum((line.amount for line in self.lines), Decimal(0))


def load_catalogue(path: Path | str | None = None) -> PriceCatalogue:
    """The catalogue at ``path`` (the shipped one by default), read once per process."""
    return _catalogue(str(path) if path else None)


@cache
def _catalogue(path: str | None) -> PriceCatalogue:
    return PriceCatalogue.from_file(path or CATALOGUE_FILE)
