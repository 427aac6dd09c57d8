"""Untrusted text (resource names, tags, ids from the customer's account) kept as text.

HTML is escaped by Jinja's autoescape; these cover Markdown and CSV.
"""

from __future__ import annotations

import re
from typing import Any

_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~")
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def md_escape(value: Any) -> str:
    """Escape untrusted text so Markdown shows it as text, on one line."""
    text = "" if value is None else str(value)
    text = text.replace("\r", " ").replace("\n", " ")
    return "".join(f"\\{ch}" if ch in _MD_SPECIAL else ch for ch in text)


def md_code_block(text: str, info: str = "") -> list[str]:
    """A fenced code block no content can close early: the fence outgrows any backtick run inside."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *text.replace("\r", "").split("\n"), fence]


def csv_cell(value: Any) -> str:
    """Text for one CSV cell that no spreadsheet will run: a leading formula character is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
