"""A small, dated price table, priced per region.

Every quote carries its region, date and whether it is a list price from the table or an
estimate derived from it, so each finding can show where its number came from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources

REFERENCE_REGION = "us-east-1"
# Scale a us-east-1 price by the region's gp2 ratio when the table lacks the key.
SCALE_KEY = "ebs.gp2.gb_month"


@dataclass(frozen=True)
class PriceQuote:
    key: str
    amount: Decimal
    region: str
    as_of: str
    estimated: bool = False
    basis: str = ""

    def evidence(self) -> dict[str, str | bool]:
        out: dict[str, str | bool] = {
            "price_key": self.key,
            "unit_price": str(self.amount),
            "price_region": self.region,
            "price_date": self.as_of,
        }
        if self.estimated:
            out["estimated_price"] = True
            out["price_basis"] = self.basis
        return out


class MissingPrice(KeyError):
    pass


@dataclass(frozen=True)
class PriceBook:
    as_of: str
    currency: str
    regions: dict[str, dict[str, Decimal]]

    @classmethod
    def from_dict(cls, doc: dict) -> PriceBook:
        regions = {
            region: {key: Decimal(value) for key, value in prices.items()}
            for region, prices in doc["regions"].items()
        }
        return cls(doc["as_of"], doc["currency"], regions)

    def quote(self, region: str, key: str) -> PriceQuote:
        table = self.regions.get(region, {})
        if key in table:
            return PriceQuote(key, table[key], region, self.as_of)
        reference = self.regions[REFERENCE_REGION]
        if key not in reference:
            raise MissingPrice(key)
        if region in self.regions and SCALE_KEY in table:
            ratio = table[SCALE_KEY] / reference[SCALE_KEY]
            amount = (reference[key] * ratio).quantize(Decimal("0.000001"))
            basis = f"us-east-1 price x {region}/us-east-1 gp2 ratio {ratio:.4f}"
            return PriceQuote(key, amount, region, self.as_of, True, basis)
        basis = f"{region} is not in the price table; us-east-1 list price used"
        return PriceQuote(key, reference[key], region, self.as_of, True, basis)


@cache
def default_price_book() -> PriceBook:
    text = resources.files(__package__).joinpath("prices.json").read_text()
    return PriceBook.from_dict(json.loads(text))
