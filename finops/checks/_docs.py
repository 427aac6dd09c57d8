"""The check catalogue as documentation: ``finops-pack checks`` prints it; the README embeds it.

    python -m finops.checks._docs          # the Markdown table, as in the README
    finops-pack checks --format md         # the same

A test keeps the README's copy (between the ``checks:begin``/``checks:end`` markers) equal to this
output, so the documented catalogue is the code's.
"""

from __future__ import annotations

import sys

from finops.checks import CheckSpec, discover
from finops.checks.thresholds import DEFAULTS

BEGIN, END = "<!-- checks:begin -->", "<!-- checks:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _thresholds(spec: CheckSpec) -> str:
    parts = []
    for name in spec.thresholds:
        t = DEFAULTS[name]
        value = ", ".join(t.default) if isinstance(t.default, list) else str(t.default)
        parts.append(f"`{name}` = {value}{'' if t.unit in ('tag keys', 'tag values') else ' ' + t.unit}")
    return "; ".join(parts) or "-"


def markdown() -> str:
    rows = [
        "| Check | Category | Action | Rule | Default thresholds | Formula | Confidence |",
        "|---|---|---|---|---|---|---|",
    ]
    for spec in sorted(discover().values(), key=lambda s: (s.kind != "usage", s.category, s.id)):
        kind = " (commitment)" if spec.kind == "commitment" else ""
        rows.append(
            f"| `{spec.id}`<br>{_cell(spec.title)} | {_cell(spec.category)} | {spec.action}{kind} | {_cell(spec.rule)} "
            f"| {_cell(_thresholds(spec))} | {_cell(spec.formula)} | {spec.confidence} |"
        )
    return "\n".join(rows) + "\n"


def readme_section() -> str:
    return f"{BEGIN}\n{markdown()}{END}"


if __name__ == "__main__":
    sys.stdout.write(markdown())
