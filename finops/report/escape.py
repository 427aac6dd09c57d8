"""Untrusted text (resource names, tags, ids from the customer's account) kept as text.

HTML is escaped by Jinja's autoescape; these cover Markdown and CSV.
"""

from __future__ import annotations

import re
from typing import Any

_MD_SPECIAL = "\\`*_{}[]()#+-.!|~"
# HTML's own characters become entities: every Markdown renderer shows an entity as text, while
# not all of them honour a backslash before "<" (Python-Markdown passes "\<tag>" through).
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Characters that end a line for some renderer (Markdown tables break on any of them): a space.
_LINE_BREAKS = "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_MD_TABLE = str.maketrans({
    **{ch: f"\\{ch}" for ch in _MD_SPECIAL}, **_MD_ENTITIES, **{ch: " " for ch in _LINE_BREAKS},
})
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection), also after
# leading spaces (ordinary, non-breaking or any other Unicode space), and in their full-width forms.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def md_escape(value: Any) -> str:
    """Escape untrusted text so Markdown shows it as text, on one line."""
    return ("" if value is None else str(value)).translate(_MD_TABLE)


def md_code_block(text: str, info: str = "") -> list[str]:
    """A fenced code block no content can close early: the fence outgrows any backtick run inside."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *text.replace("\r", "").split("\n"), fence]


def csv_cell(value: Any) -> str:
    """Text for one CSV cell that no spreadsheet will run: a leading formula character is quoted."""
    text = "" if value is None else str(value)
    stripped = text.lstrip(" \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                           "\u200b\u202f\u205f\u3000\ufeff")
    return "'" + text if text.startswith(_FORMULA_START) or stripped.startswith(_FORMULA_START) else text
