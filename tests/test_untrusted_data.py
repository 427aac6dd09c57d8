"""Names and tags come from customers' accounts: they stay data in HTML, Markdown and CSV."""

from __future__ import annotations

import csv
import io
import json

from finops.report import csv_cell, md_escape
from finops.sandbox import seed
from tests.conftest import run_worker_burst
from tests.helpers import connect_form, start_review

EVIL = '=HYPERLINK("http://evil.example","click")<script>alert(1)</script>|**[x](javascript:y)**'


def test_a_hostile_name_tag_is_escaped_everywhere(client, settings, customer):
    ec2 = customer.session("us-east-1").client("ec2")
    volume_id = ec2.create_volume(
        AvailabilityZone="us-east-1a", Size=10, VolumeType="gp2",
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": EVIL}]}],
    )["VolumeId"]
    seed.backdate_volume(customer, "us-east-1", volume_id, 30)
    token = start_review(client)
    form = connect_form(client, token)
    form["role_arn"] = seed.create_scanner_role(customer, form["external_id"])
    client.post(f"/reviews/{token}/scan", data=form)
    run_worker_burst(settings)
    page = client.get(f"/reviews/{token}").get_data(as_text=True)
    assert f'href="/reviews/{token}/report"' in page
    token = client.get(f"/reviews/{token}/report").headers["Location"].rsplit("/r/", 1)[1]

    data = json.loads(client.get(f"/r/{token}.json").get_data(as_text=True))
    (finding,) = [f for f in data["findings"] if f["resource_id"] == volume_id]
    assert finding["resource_name"] == EVIL  # JSON keeps the data exactly

    html = client.get(f"/r/{token}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    markdown = client.get(f"/r/{token}.md").get_data(as_text=True)
    top_action = next(line for line in markdown.splitlines() if md_escape(volume_id) in line)  # the summary's
    assert "<script>" not in top_action and top_action.count(" | ") == 4
    findings_table = markdown[markdown.index("## Savings opportunities"):]
    row = next(line for line in findings_table.splitlines() if md_escape(volume_id) in line)
    assert "<script>" not in row and "&lt;script&gt;" in row
    assert row.count(" | ") == 5  # the name's "|" did not add a column
    assert "[x](javascript" not in row

    response = client.get(f"/r/{token}.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    (csv_row,) = [r for r in rows if r["resource_id"] == volume_id]
    assert csv_row["resource_name"] == "'" + EVIL  # a spreadsheet shows it as text, never runs it
    assert csv_row["monthly_savings"] == "1.00"


def test_csv_cell_quotes_every_formula_start():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_cell(start + "1+1") == "'" + start + "1+1"
    assert csv_cell("old-build-cache") == "old-build-cache"
    assert csv_cell(None) == ""
