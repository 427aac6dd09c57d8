"""Small helpers shared by tests (no fixtures here: those live in conftest.py)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in page"
    return match.group(1) or match.group(2)


def start_review(client: Any) -> str:
    """Create a review through the web flow; return its id."""
    home = client.get("/")
    response = client.post("/reviews", data={"csrf_token": csrf(home.get_data(as_text=True))})
    assert response.status_code == 303, response.status_code
    return response.headers["Location"].rsplit("/", 1)[-1]


def connect_form(client: Any, review_id: str, **overrides: str) -> dict[str, str]:
    page = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    external_id = re.search(r'<code id="external-id" class="big">([^<]+)</code>', page).group(1)
    data = {
        "csrf_token": csrf(page),
        "role_arn": "",
        "external_id": external_id,
        "contact_name": "Dana Customer",
        "contact_email": "dana@example.com",
        "contact_company": "Example Corp",
    }
    data.update(overrides)
    return data


def assume_role_calls(local_aws: Any) -> list[dict]:
    return [r for r in local_aws.requests() if r["service"] == "sts" and r["action"] == "AssumeRole"]


def expected_waste(regions: tuple[str, ...] | None = None) -> dict[tuple[str, str], Decimal]:
    """seed.DEMO_WASTE in dollars, from the catalogue file's own entries (not from the checks' code)."""
    import json

    from finops.pricing import CATALOGUE_FILE
    from finops.sandbox import seed

    prices = json.loads(CATALOGUE_FILE.read_text())["prices"]
    out = {}
    for (check_id, region), lines in seed.DEMO_WASTE.items():
        if regions is None or region in regions:
            total = sum(Decimal(prices[key]["regions"][region]["usd"]) * quantity for key, quantity in lines)
            out[(check_id, region)] = total.quantize(Decimal("0.01"))
    return out
