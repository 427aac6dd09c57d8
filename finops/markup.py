"""Operator notes in Markdown, rendered to HTML that can run nothing.

Python-Markdown (the product's ``markdown`` package) with its raw-HTML handling removed, so any
``<tag>`` in a note is shown as text, then a strict allow-list over the tree it built: only the
elements Markdown itself makes, only ``href``/``title``/``alt`` attributes, links only to
``http``, ``https`` and ``mailto`` (after undoing entities and dropping control characters, so
``java&#115;cript:`` or ``jav\\tascript:`` do not slip through), and no images (a note has no
business loading anything). The result is marked safe for Jinja only after all that.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET  # noqa: S405 - builds nothing from input; Markdown's own tree
from urllib.parse import urlsplit

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "div",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
SAFE_SCHEMES = {"http", "https", "mailto"}
MAX_NOTE_LENGTH = 20_000
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]+")


def safe_href(value: str) -> str | None:
    """The link if it is an absolute http(s) or mailto URL, else None."""
    cleaned = _CONTROL.sub("", html.unescape(value or ""))
    try:
        scheme = urlsplit(cleaned).scheme.lower()
    except ValueError:
        return None
    return value if scheme in SAFE_SCHEMES and cleaned == value.strip() else None


class _AllowList(Treeprocessor):
    def run(self, root: ET.Element) -> None:
        self._clean(root)

    def _clean(self, parent: ET.Element) -> None:
        for index, child in enumerate(list(parent)):
            if child.tag == "img":  # shown as its alt text
                replacement = ET.Element("span")
                replacement.text = child.get("alt", "")
                replacement.tail = child.tail
                parent.remove(child)
                parent.insert(index, replacement)
                continue
            if child.tag not in ALLOWED_TAGS:
                child.tag = "span"
            allowed = ALLOWED_ATTRIBUTES.get(child.tag, set())
            for name in list(child.attrib):
                if name not in allowed:
                    del child.attrib[name]
            if child.tag == "a":
                href = safe_href(child.get("href", ""))
                if href is None:
                    child.tag = "span"
                    child.attrib.clear()
                else:
                    child.set("rel", "noopener noreferrer nofollow")
            self._clean(child)


class SafeNotes(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown's API
        md.preprocessors.deregister("html_block")  # raw HTML blocks: shown as text
        md.inlinePatterns.deregister("html")  # inline raw HTML: shown as text
        md.treeprocessors.register(_AllowList(md), "finops_allow_list", 0)  # last


def render(text: str | None) -> Markup:
    """A note as HTML that is safe to put in a page or an email."""
    if not text or not text.strip():
        return Markup("")
    converter = markdown.Markdown(extensions=[SafeNotes(), "tables", "sane_lists"], output_format="html")
    return Markup(converter.convert(text[:MAX_NOTE_LENGTH]))  # noqa: S704 - escaped and allow-listed above


def for_markdown_export(text: str | None) -> str:
    """A note inside the Markdown export: the same Markdown, with raw HTML neutralised."""
    return (text or "").replace("<", "&lt;").strip()
