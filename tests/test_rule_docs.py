"""docs/rules/ is generated from the catalog; a stale page fails here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from patchkit import rules

ROOT = Path(__file__).resolve().parent.parent


def test_every_rule_is_documented_ruff_style() -> None:
    for rule in rules.CATALOG:
        assert rule.what and rule.why and rule.example and rule.use_instead, rule.code
        assert rule.profiles != "all profiles that patch the affected module", rule.code


def test_generated_rule_pages_are_up_to_date() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_rule_docs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, f"run `python tools/gen_rule_docs.py`:\n{proc.stderr}"


def test_index_links_every_rule_page() -> None:
    index = (ROOT / "docs" / "rules" / "index.md").read_text()
    for code in rules.codes():
        assert f"[{code}]({code}.md)" in index
        assert (ROOT / "docs" / "rules" / f"{code}.md").exists()


def test_every_rule_names_the_module_that_makes_its_finding() -> None:
    """Each page says where its check lives (ruff-style); a moved check must move the name too."""
    for rule in rules.CATALOG:
        assert rule.detector, rule.code
        for path in rule.detector:
            assert (ROOT / path).is_file(), f"{rule.code}: {path} does not exist"
        maker = (ROOT / rule.detector[0]).read_text()
        assert f'"{rule.code}"' in maker, f"{rule.code}: {rule.detector[0]} never makes it"
        assert f"Checked in `{rule.detector[0]}`" in rules.page(rule.code)


def test_mkdocs_nav_lists_every_rule_page_by_code_and_name() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for rule in rules.CATALOG:
        entry = f"- {rule.code} {rule.name}: rules/{rule.code}.md"
        assert entry in nav, f"add `{entry}` to the Rules nav in mkdocs.yml"
