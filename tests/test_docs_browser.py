"""The docs site in a real headless browser (tools/docs_check.py): 390, 1400 and 1920 px wide."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools import docs_check

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = docs_check.find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not found (apt-get install chromium, or set $CHROMIUM)"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs", reason="mkdocs not installed (pip install -e '.[docs]')")
    out = tmp_path_factory.mktemp("site")
    docs_check.build_site(out)
    return out


@needs_chromium
@pytest.mark.timeout(300)
def test_every_checked_page_fits_390_1400_and_1920_px(site: Path, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    pages = docs_check.PAGES[:3]  # the home page and both matrix pages (the rest: make docs-check)
    assert docs_check.check_site(CHROMIUM, site, tmp_path, pages) == []
    shots = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(shots) == len(pages) * len(docs_check.WIDTHS)
    for shot in tmp_path.glob("*.png"):
        width = int(shot.stem.rsplit("-", 1)[1])
        assert docs_check.png_size(shot) == (width, docs_check.HEIGHT), shot.name


@needs_chromium
@pytest.mark.timeout(120)
def test_the_probe_sees_a_table_that_makes_the_page_scroll_sideways(tmp_path: Path) -> None:
    """The check can fail: a bare 1500 px table (the old matrix page) is caught at 1400 px."""
    assert CHROMIUM is not None
    page = tmp_path / "wide.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width">'
        '</head><body><table><tr><td style="min-width:1500px">x</td></tr></table></body></html>'
    )
    found = docs_check.problems(docs_check.measure(CHROMIUM, page, 1400), 1400)
    assert any("scrolls sideways" in p and "> 1400 px" in p for p in found), found
    assert docs_check.problems(docs_check.measure(CHROMIUM, page, 1920), 1920) == []


def test_the_matrix_pages_links_resolve_in_the_built_site(site: Path) -> None:
    assert docs_check.broken_links(site) == []
    html_page = (site / "compat-matrix.html").read_text()
    assert 'href="compat-matrix/"' in html_page  # back to the Markdown page as the site shows it


def test_the_site_matrix_page_keeps_the_colours_and_the_advice(site: Path) -> None:
    page = (site / "compat-matrix" / "index.html").read_text()
    for colour in ("#c8e6c9", "#ffe9a8", "#ffcdd2"):
        assert f"background:{colour}" in page
    assert page.count("<b>What to do:</b>") >= 30


def test_without_chromium_the_check_says_so_in_one_line() -> None:
    env = dict(os.environ, PATH="/nonexistent", CHROMIUM="")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "docs_check.py")],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "docs_check: chromium not found (apt-get install chromium)"
    ]


def test_the_built_nav_names_each_rule_by_code_and_name(site: Path) -> None:
    from patchkit import rules

    nav = (site / "index.html").read_text()
    for rule in rules.CATALOG:
        assert re.search(rf'href="rules/{rule.code}/"[^>]*>\s*<span[^>]*>\s*'
                         rf"{rule.code} {rule.name}\s*<", nav), rule.code  # fmt: skip
