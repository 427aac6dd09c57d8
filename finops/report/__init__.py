"""Reports: a stored review -> the report model (``loader``) -> one renderer per format.

HTML is the Jinja template ``templates/reports/show.html``; Markdown, JSON and CSV are here.
Nothing in this package does AWS I/O or imports botocore.
"""

from finops.report.escape import csv_cell, md_escape
from finops.report.loader import (
    GROUP_PAGE,
    GROUP_PREVIEW,
    STATUS_WORDS,
    build_report,
    gap_sentence,
    group_findings,
    groups,
    source_title,
)
from finops.report.render_csv import CSV_COLUMNS, to_csv
from finops.report.render_json import to_json
from finops.report.render_markdown import to_markdown

__all__ = [
    "CSV_COLUMNS", "GROUP_PAGE", "GROUP_PREVIEW", "STATUS_WORDS", "build_report", "csv_cell", "gap_sentence",
    "group_findings", "groups", "md_escape", "source_title", "to_csv", "to_json", "to_markdown",
]
