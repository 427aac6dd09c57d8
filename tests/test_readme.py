"""The README documents every setting and command (so it cannot silently drift)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_finops_setting_is_in_the_readme_table():
    source = (ROOT / "finops" / "config.py").read_text()
    settings = set(re.findall(r'"(FINOPS_[A-Z_]+)"', source))
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `(FINOPS_[A-Z_]+)` \|", readme, re.M))
    assert settings, "no settings found: the test is looking in the wrong place"
    assert settings == documented


def test_every_cli_command_is_in_the_readme():
    source = (ROOT / "finops" / "cli.py").read_text()
    commands = set(re.findall(r'sub\.add_parser\(\s*"([a-z-]+)"', source))
    readme = (ROOT / "README.md").read_text()
    assert commands >= {"serve", "worker", "scan", "demo", "purge"}
    for command in commands:
        assert f"finops-pack {command}" in readme, command


def test_readme_quick_start_commands_exist_in_the_makefile():
    makefile = (ROOT / "Makefile").read_text()
    readme = (ROOT / "README.md").read_text()
    for target in ("demo", "test"):
        assert re.search(rf"^{target}:", makefile, re.M)
        assert f"make {target}" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_readme_check_catalogue_is_the_codes():
    from finops.checks._docs import BEGIN, END, readme_section

    readme = (ROOT / "README.md").read_text()
    assert BEGIN in readme and END in readme, "the README lost its check catalogue markers"
    documented = readme[readme.index(BEGIN):readme.index(END) + len(END)]
    assert documented == readme_section(), "run: python -m finops.checks._docs (and paste it into the README)"
