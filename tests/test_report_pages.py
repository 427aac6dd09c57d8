"""Large reports: each group shows its largest findings and fetches the rest on demand, every
finding is one link away, and the per-process report cache never shows a stale report."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from finops import notes, operators, reviews
from finops.db import connect, iso, utcnow
from finops.money import display
from finops.report import GROUP_PAGE, GROUP_PREVIEW, build_report, groups
from finops.sandbox import large_review
from tests.test_workspace import OPERATOR, PASSWORD, sign_in

FINDINGS = 150


@pytest.fixture
def large(settings):  # type: ignore[no-untyped-def]
    """A finished review of FINDINGS findings: (review id, report path, its report model)."""
    db = connect(settings.db_path)
    review_id, path = large_review.create(db, settings.with_secret_key(), FINDINGS)
    return review_id, path, build_report(db, reviews.get_review(db, review_id))


def uids(html: str) -> list[str]:
    return re.findall(r'<tr class="finding[^"]*" data-check="[^"]*" data-uid="([^"]+)"', html)


def more_links(html: str) -> list[str]:
    return [link.replace("&amp;", "&") for link in re.findall(r'hx-get="([^"]+)"', html)]


def test_each_group_shows_its_largest_findings_and_loads_the_rest_in_order(client, large):  # type: ignore[no-untyped-def]
    _, path, model = large
    page = client.get(path).get_data(as_text=True)
    expected = groups(model["findings"])
    assert sum(len(g["findings"]) for g in expected) == FINDINGS
    assert any(len(g["findings"]) > GROUP_PREVIEW for g in expected), "the review must fill a group past its preview"
    shown = uids(page)
    assert shown == [f["uid"] for g in expected for f in g["findings"][:GROUP_PREVIEW]]
    # Totals are over every finding, shown or not.
    assert f'<strong id="total-monthly">{display(model["totals"]["monthly_savings"])}</strong>' in page
    for group in expected:
        assert f'<span class="group-total">{display(group["monthly_savings"])} per month</span>' in page
    # "Show more" fetches the next rows of exactly that group, in the report's order, then stops.
    links = more_links(page)
    assert len(links) == sum(1 for g in expected if len(g["findings"]) > GROUP_PREVIEW)
    for group, link in zip([g for g in expected if len(g["findings"]) > GROUP_PREVIEW], links, strict=True):
        fetched, url = [], link
        while url:
            fragment = client.get(url, headers={"HX-Request": "true"})
            assert fragment.status_code == 200
            html = fragment.get_data(as_text=True)
            assert "<html" not in html  # a fragment, not a page
            rows = uids(html)
            assert 0 < len(rows) <= GROUP_PAGE
            fetched += rows
            nxt = more_links(html)
            url = nxt[0] if nxt else None
        assert fetched == [f["uid"] for f in group["findings"][GROUP_PREVIEW:]]
    # The page says how to print every finding, and ?all=1 shows them all.
    assert 'id="every-finding"' in page
    assert len(uids(client.get(f"{path}?all=1").get_data(as_text=True))) == FINDINGS


def test_show_more_refuses_what_the_report_refuses(client, settings, large):  # type: ignore[no-untyped-def]
    review_id, path, _ = large
    link = more_links(client.get(path).get_data(as_text=True))[0]
    assert client.get(link.replace("offset=", "offset=x")).status_code == 200  # a bad offset starts at 0
    assert client.get(f"{path}/findings?category=Nothing&action=Delete").get_data(as_text=True).strip() == ""
    assert client.get(link.replace(path, "/r/" + "A" * 43)).status_code == 404
    db = connect(settings.db_path)
    db.execute("update reviews set expires_at = ? where id = ?", [iso(utcnow() - timedelta(minutes=1)), review_id])
    expired = client.get(link)
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True).lower()


def test_a_small_report_is_unchanged(client, settings):  # type: ignore[no-untyped-def]
    db = connect(settings.db_path)
    _, path = large_review.create(db, settings.with_secret_key(), 12)
    page = client.get(path).get_data(as_text=True)
    assert len(uids(page)) == 12 and "more-row" not in page and 'id="every-finding"' not in page


def test_the_cache_shares_a_model_and_never_shows_a_stale_report(app, client, settings, large):  # type: ignore[no-untyped-def]
    review_id, path, model = large
    cache = app.extensions["finops.report_cache"]
    client.get(path)
    misses = cache.misses
    client.get(path)
    client.get(f"{path}.json")
    assert cache.misses == misses and cache.hits >= 2  # one build, shared by the pages
    db = connect(settings.db_path)
    uid = model["findings"][0]["uid"]
    # A note on a finding and the consultant's summary show at once.
    notes.set_finding_note(db, review_id, uid, "Talk to **the platform team** first.", by=OPERATOR)
    assert "the platform team" in client.get(path).get_data(as_text=True)
    notes.set_summary(db, review_id, "We found *plenty*.")
    assert "plenty" in client.get(path).get_data(as_text=True)
    notes.set_finding_note(db, review_id, uid, "", by=OPERATOR)
    assert "the platform team" not in client.get(path).get_data(as_text=True)
    # A new expiry (the consultant extends retention) shows too.
    later = utcnow() + timedelta(days=30)
    db.execute("update reviews set expires_at = ? where id = ?", [iso(later), review_id])
    assert later.date().isoformat() in client.get(path).get_data(as_text=True)


def test_the_operator_pages_groups_too_and_returns_to_a_noted_finding(client, settings, large):  # type: ignore[no-untyped-def]
    review_id, _, model = large
    operators.add(connect(settings.db_path), OPERATOR, PASSWORD)
    assert sign_in(client).status_code == 303
    page = client.get(f"/dashboard/reviews/{review_id}/report").get_data(as_text=True)
    link = more_links(page)[0]
    assert link.startswith(f"/dashboard/reviews/{review_id}/findings?")
    fragment = client.get(link).get_data(as_text=True)
    assert uids(fragment) and 'name="body"' in fragment  # each fetched finding has its note editor
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    uid = groups(model["findings"])[0]["findings"][-1]["uid"]  # past the group's preview
    saved = client.post(f"/dashboard/reviews/{review_id}/findings/{uid}/note",
                        data={"csrf_token": token, "body": "Later."})
    assert saved.status_code == 303 and "all=1" in saved.headers["Location"]
    assert "Later." in client.get(saved.headers["Location"]).get_data(as_text=True)
