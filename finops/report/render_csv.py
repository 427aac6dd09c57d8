"""CSV of the findings and commitments, one row each, safe to open in any spreadsheet."""

from __future__ import annotations

import csv
import io
from typing import Any

from finops.report.escape import csv_cell

CSV_COLUMNS = (
    "check_id", "title", "category", "action", "kind", "resource_id", "resource_name", "resource_type",
    "account_id", "region", "monthly_savings", "current_monthly_cost", "currency", "price_status", "recommended",
    "confidence", "effort", "restart_needed", "rollback_possible", "sources", "remediation",
    "operator_note",  # added by issue 9: columns are only ever appended
    "account_name",  # issue 11: the account's name in an organization review (the customer's text); "" otherwise
)


def to_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    names = {a["account_id"]: a["name"] for a in report.get("accounts") or []}
    for finding in [*report["findings"], *report.get("commitments", [])]:
        row = {**finding, "sources": " + ".join(finding.get("sources") or []),
               "account_name": names.get(finding["account_id"], "")}
        writer.writerow([csv_cell(row.get(column)) for column in CSV_COLUMNS])
    return out.getvalue()
