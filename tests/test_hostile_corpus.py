"""Untrusted data stays data: a corpus of hostile names and tags, planted across the resource types
a report names, scanned through the real pipeline, comes back inert in HTML (in Chromium: no
dialog, no script runs), Markdown, CSV and JSON.
"""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest
from markdown import Markdown

from finops import reviews
from finops.db import connect
from finops.report.escape import md_escape
from finops.sandbox import seed
from tests.conftest import run_worker_burst
from tests.helpers import connect_form, report_token_of, review_id_of, start_review
from tests.hostile import PAYLOADS
from tests.test_browser import live_server, page  # noqa: F401 - the browser fixtures, reused


class Tags(HTMLParser):
    """The elements and URL attributes a Markdown renderer produced (text is not looked at)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.seen.add(tag)
        self.urls += [value for name, value in attrs if name in ("href", "src", "action") and value]


FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def tag(name: str, resource_type: str) -> list[dict]:
    return [{"ResourceType": resource_type, "Tags": [{"Key": "Name", "Value": name}, {"Key": "team", "Value": name}]}]


def as_read(payload: str) -> str:
    """What an XML API returns for a stored value: XML turns every CR and CR LF into LF."""
    return payload.replace("\r\n", "\n").replace("\r", "\n")


def plant(customer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every payload as the Name of an idle volume; some on other resource types too."""
    ec2 = customer.session("us-east-1").client("ec2")
    planted: dict[str, str] = {}
    for payload in PAYLOADS:
        volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=10, VolumeType="gp2",
                                   TagSpecifications=tag(payload, "volume"))["VolumeId"]
        seed.backdate_volume(customer, "us-east-1", volume, 30)
        planted[volume] = payload
    for payload in PAYLOADS[:8]:  # addresses, stopped instances' neighbours, snapshots, NAT gateways
        address = ec2.allocate_address(Domain="vpc", TagSpecifications=tag(payload, "elastic-ip"))["AllocationId"]
        planted[address] = payload
    gone = ec2.create_volume(AvailabilityZone="us-east-1a", Size=20, VolumeType="gp2")["VolumeId"]
    for payload in PAYLOADS[8:14]:
        snapshot = ec2.create_snapshot(VolumeId=gone, TagSpecifications=tag(payload, "snapshot"))["SnapshotId"]
        planted[snapshot] = payload
    ec2.delete_volume(VolumeId=gone)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    nat_eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=nat_eip,
                                 TagSpecifications=tag(PAYLOADS[14], "natgateway"))["NatGateway"]["NatGatewayId"]
    planted[nat] = PAYLOADS[14]
    return planted


@pytest.fixture
def hostile_report(client, settings, local_aws, customer, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FINOPS_REGIONS", "us-east-1")
    planted = plant(customer)
    token = start_review(client, company=COMPANY, name=CONTACT)
    form = connect_form(client, token, contact_company=COMPANY, contact_name=CONTACT)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    client.post(f"/reviews/{token}/scan", data=form)
    run_worker_burst(settings)
    review = reviews.get_review(connect(settings.db_path), review_id_of(client, token))
    assert review["status"] in ("complete", "partial"), review["error_message"]
    return report_token_of(settings, review["id"]), {rid: as_read(payload) for rid, payload in planted.items()}


COMPANY = "<script>alert('PWNED')</script> & Sons =HYPERLINK(\"https://evil.example\")"
CONTACT = "<img src=x onerror=alert('PWNED')> [click](javascript:alert('PWNED'))"


def test_the_report_email_keeps_hostile_names_as_text(client, settings, hostile_report):
    from finops import mail

    token, planted = hostile_report
    db = connect(settings.db_path)
    review = next(r for r in db.query("select * from reviews") if r["contact_company"] == COMPANY)
    mail.queue_report_email(db, settings.with_secret_key(), review["id"])
    message = mail.compose_report_email(db, settings.with_secret_key(), review, mail.latest(db, review["id"]))
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert COMPANY in text  # plain text is text: shown as typed
    tags = Tags()
    tags.feed(html)
    assert tags.seen <= EMAIL_TAGS, tags.seen - EMAIL_TAGS
    assert all(url.startswith(("https://", "http://127.0.0.1", "mailto:")) for url in tags.urls), tags.urls
    assert "&lt;script&gt;alert(&#39;PWNED&#39;)&lt;/script&gt;" in html
    shown = [payload for payload in planted.values() if payload in text]
    assert shown, "the email's top actions name none of the planted resources"


EMAIL_TAGS = {"html", "head", "meta", "title", "body", "div", "p", "h1", "h2", "h3", "table", "thead", "tbody", "tr",
              "th", "td", "a", "strong", "em", "ul", "ol", "li", "span", "br", "hr", "small", "code"}


@pytest.mark.browser
def test_hostile_names_stay_data_everywhere(client, hostile_report, live_server, page):  # noqa: F811
    token, planted = hostile_report

    # JSON keeps the data exactly, every payload on the finding of its resource.
    data = json.loads(client.get(f"/r/{token}.json").get_data(as_text=True))
    names = {f["resource_id"]: f["resource_name"] for f in data["findings"]}
    for finding in data["findings"]:
        names.update({a["resource_id"]: None for a in finding["alternatives"] if a["resource_id"] not in names})
    shown = {rid: payload for rid, payload in planted.items() if names.get(rid)}
    assert len(shown) >= len(PAYLOADS), "the payloads did not reach the report"
    wrong = {rid: (names[rid], payload) for rid, payload in shown.items() if names[rid] != payload}
    assert not wrong, list(wrong.values())[:3]

    # HTML, in a real browser: nothing runs, nothing pops up, every name is shown as text.
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_server}/r/{token}")
    # Groups show their first findings; "Show more" fetches the rest as HTML fragments (HTMX).
    more = page.locator("tr.more-row a.button")
    assert more.count() > 0, "the corpus fills a group past its preview: the fragments must be tried too"
    while more.count():
        before = page.locator("tr.finding").count()
        more.first.click()
        page.wait_for_function(f"() => document.querySelectorAll('tr.finding').length > {before}")
    for summary in page.locator("details summary").all():
        summary.click()
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("script:not([src])").count() == 0  # no inline script at all
    planted_elements = "iframe, svg[onload], img[onerror], meta[http-equiv], base, form[action^='https://evil']"
    assert page.locator(planted_elements).count() == 0
    text = page.inner_text("#findings")
    for payload in {p for p in shown.values() if p.strip() and "\n" not in p and "\r" not in p}:
        assert payload.strip() in text.replace("\n", " ") or payload in page.content(), payload[:40]
    page.console_errors.clear()  # an <img src=x> never loads, so nothing else to report

    # Markdown: escaped, on one line, never a tag or a link, whichever renderer reads it.
    markdown = client.get(f"/r/{token}.md").get_data(as_text=True)
    outside_code = re.sub(r"(?ms)^(`{3,})sh\n.*?^\1$", "", markdown)
    tags = Tags()
    tags.feed(Markdown(extensions=["tables"]).convert(markdown))
    assert tags.seen <= {"h1", "h2", "h3", "h4", "p", "ul", "li", "strong", "em", "code", "pre", "table", "thead",
                         "tbody", "tr", "th", "td"}, tags.seen
    assert tags.urls == [], tags.urls
    section = outside_code.split("## Savings opportunities\n\n", 1)[1].split("\n\n", 1)[0]
    table = section.splitlines()[2:]  # the findings table, below its header and rule
    cells = [re.split(r"(?<!\\)\|", line) for line in table]  # split on unescaped pipes only
    assert table and all(len(row) == 8 for row in cells), [r for r in cells if len(r) != 8][:2]  # no added column
    for payload in shown.values():
        assert md_escape(payload) in outside_code, payload[:40]

    # CSV: no cell a spreadsheet would run.
    rows = list(csv.reader(io.StringIO(client.get(f"/r/{token}.csv").get_data(as_text=True))))
    for row in rows[1:]:
        for cell in row:
            stripped = cell.lstrip(" \u00a0\u3000")
            assert not (cell.startswith(FORMULA) or stripped.startswith(FORMULA)) or cell.startswith("'"), cell[:40]
    csv_names = {row[rows[0].index("resource_id")]: row[rows[0].index("resource_name")] for row in rows[1:]}
    for rid, payload in shown.items():
        if rid in csv_names:
            expected = "'" + payload if payload.lstrip(" \u00a0\u3000").startswith(FORMULA) else payload
            assert csv_names[rid] == expected, payload[:40]
