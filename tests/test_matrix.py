"""tools/matrix_render.py and compat_tests/expected.py: rendering, expected vs measured."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from compat_tests.cases import load_all
from compat_tests.expected import OUTCOMES, expected_outcome, load
from tools.matrix_html import render_html
from tools.matrix_render import (
    build_document,
    compare,
    counts,
    load_results,
    markdown_table,
    render_markdown,
)

REPO = Path(__file__).resolve().parent.parent
ENV = {"python": "3.11.7", "gevent": "26.9.0", "platform": "linux"}


def cell(library: str, profile: str, outcome: str, factor: float | None = 1.0, **extra) -> dict:
    return {"library": library, "version": "1.2.3", "profile": profile, "outcome": outcome,
            "factor": factor, "max_stall_s": 0.01, "detail": f"{library} measured",
            "expected": outcome, **ENV, **extra}  # fmt: skip


@pytest.fixture
def records() -> list[dict]:
    return [
        cell("psycopg2", "none", "blocks", 9.8, max_stall_s=1.96),
        cell("psycopg2", "full", "blocks", 9.9, max_stall_s=1.98),
        cell("requests", "full", "cooperative", 1.1),
        cell("requests", "none", "blocks", 10.2),
        cell("multiprocessing.Pool", "full", "broken", None, detail="hang: no result in 20 s"),
        cell("socket", "full", "cooperative", 1.0),
    ]


def test_document_is_schema_1_with_cells_in_suite_order(records):
    doc = build_document(records)
    assert {k: doc[k] for k in ("schema", "python", "gevent", "platform")} == {"schema": 1, **ENV}
    order = [(c["library"], c["profile"]) for c in doc["cells"]]
    assert order[0] == ("socket", "full")  # stdlib family first, like the suite
    assert order.index(("psycopg2", "full")) + 1 == order.index(("psycopg2", "none"))
    assert set(doc["cells"][0]) >= {"library", "version", "profile", "outcome", "factor",
                                    "detail", "max_stall_s"}  # fmt: skip


def test_a_later_line_for_the_same_cell_replaces_the_earlier_one(tmp_path):
    path = tmp_path / "full.jsonl"
    lines = [cell("redis", "full", "blocks", 9.0), cell("redis", "full", "cooperative", 1.0)]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    (only,) = load_results([path])
    assert only["outcome"] == "cooperative"


def test_markdown_table_is_coloured_grouped_by_kind_and_advises_each_library(records):
    table = markdown_table(build_document(records))
    assert (
        "<thead><tr><th>library</th><th><code>full</code></th><th><code>none</code></th>" in table
    )
    assert "\n\n" not in table  # one raw HTML block for Markdown
    groups = re.findall(r'<td colspan="3" style="[^"]*background:[^"]*">([^<]+)</td>', table)
    assert groups == ["Databases", "HTTP", "Standard library: I/O",
                      "Standard library: threads, processes, asyncio"]  # fmt: skip
    psycopg2 = table.split("<code>psycopg2</code><br>")[1].split("<code>requests</code><br>")[0]
    assert "background:#ffe9a8" in psycopg2 and ">blocks ×9.9</td>" in psycopg2
    assert "<b>What to do:</b> Add the <code>psycopg2</code> integration" in psycopg2
    pool = table.split("<code>multiprocessing.Pool</code>")[1]
    assert "background:#ffcdd2" in pool and "<td>–</td>" in pool  # broken; no `none` cell
    assert (
        table.index("<code>psycopg2</code>")
        < table.index("<code>requests</code>")
        < (table.index("<code>socket</code>"))
    )


def test_markdown_template_keeps_the_explanation_and_lists_fixes(records):
    template = "# M\n$environment\n$ranges\n$table\n## Fix\n$fixes\n"
    text = render_markdown(build_document(records), template)
    assert "blocks cells measured factors of 9.8–10.2" in text
    assert "CPython 3.11.7, gevent 26.9.0" in text
    assert re.search(r"\| `psycopg2` \| `full`: blocks, `none`: blocks \| .*psycogreen", text)
    assert "`socket` |" not in text.split("## Fix")[1]  # cooperative everywhere: nothing to fix


def test_html_is_self_contained_and_shows_outcome_factor_and_detail(records):
    page = render_html(build_document(records))
    assert not re.search(r"(src|href)=\"https?:|<script|@import|url\(", page)
    assert "CPython 3.11.7, gevent 26.9.0, platform linux" in page
    assert "factor 9.9" in page and "#ffcdd2" in page  # broken cell colour


def test_html_cell_detail_and_what_to_do_open_on_click_not_hover(records):
    page = render_html(build_document(records))
    assert "title=" not in page  # nothing is hover-only
    cells = re.findall(r'<td class="cell"[^>]*>(.*?)</td>', page, re.S)
    opened = [c for c in cells if "<details>" in c]
    assert len(opened) == len(records)
    psycopg2 = next(c for c in opened if "psycopg2 measured" in c)
    assert psycopg2.startswith("<details><summary><b>blocks</b>")
    assert "<b>What to do:</b> Add the <code>psycopg2</code> integration" in psycopg2
    assert "hub stall 1.980 s" in psycopg2
    requests = next(c for c in opened if "requests measured" in c and "cooperative" in c)
    assert (
        "What to do:</b> nothing under <code>full</code>. Where it blocks or breaks: " in requests
    )
    socket = next(c for c in opened if "socket measured" in c)
    assert "What to do:</b> Nothing: cooperative under every profile measured." in socket


def test_html_rows_are_grouped_by_kind_under_sticky_headers(records):
    page = render_html(build_document(records))
    groups = re.findall(r'<tr class="family"><th [^>]*><span>([^<]+)</span>', page)
    assert groups[:2] == ["Databases", "HTTP"] and groups[2].startswith("Standard library")
    assert page.index("<code>psycopg2</code>") < page.index("<code>requests</code>")
    assert re.search(r"thead th\{position:sticky;top:0", page)
    assert re.search(r"th\.lib\{position:sticky;left:0", page)
    assert '<div class="scroll">' in page  # the table scrolls in its box, never the page


def test_committed_matrix_pages_are_rendered_from_the_committed_json():
    doc = json.loads((REPO / "docs" / "compat-matrix.json").read_text())
    stale = "stale: run `python tools/matrix.py --render-only` (see tools/matrix.py)"
    assert (REPO / "docs" / "compat-matrix.md").read_text() == render_markdown(doc), stale
    assert (REPO / "docs" / "compat-matrix.html").read_text() == render_html(doc), stale


def test_html_marks_a_cell_that_differs_from_expected(records):
    records[2]["expected"] = "blocks"
    page = render_html(build_document(records))
    assert page.count('class="cell mismatch"') == 1 and "expected blocks" in page


def test_counts_per_profile(records):
    per = counts(build_document(records))
    assert per["full"] == {"cooperative": 2, "blocks": 1, "broken": 1}
    assert per["none"] == {"cooperative": 0, "blocks": 2, "broken": 0}


def test_compare_reports_both_values_when_measured_differs_from_expected():
    table = {"requests": {"full": "cooperative"}, "psycopg2": {"full": "blocks"}}
    doc = build_document(
        [cell("requests", "full", "blocks", 9.7), cell("psycopg2", "full", "blocks", 9.9)]
    )
    (mismatch,) = compare(doc, table)
    assert str(mismatch) == "requests [full]: expected cooperative, measured blocks"


def test_compare_reports_a_cell_without_an_expected_entry():
    (mismatch,) = compare(build_document([cell("newlib", "full", "cooperative")]), {})
    assert "no entry in compat_tests/expected.toml" in str(mismatch)


def test_platform_and_python_overrides_are_more_specific_than_the_default():
    table = {"grpcio": {"full": "broken", "darwin": {"full": "blocks"}, "py313": {"full": "ok"}}}
    assert expected_outcome("grpcio", "full", table=table, platform="linux", python="py311") == (
        "broken"
    )
    assert expected_outcome("grpcio", "full", table=table, platform="darwin", python="py311") == (
        "blocks"
    )
    assert expected_outcome("grpcio", "full", table=table, platform="darwin", python="py313") == (
        "ok"
    )
    assert expected_outcome("grpcio", "none", table=table) is None


def test_expected_toml_has_a_valid_outcome_for_every_case_and_profile():
    table = load()
    for library in load_all():
        for profile in ("full", "nothread", "network", "none"):
            assert table[library][profile] in OUTCOMES, (library, profile)
    assert set(table) == set(load_all())


def test_committed_matrix_json_matches_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    doc = json.loads((REPO / "docs" / "compat-matrix.json").read_text())
    number = {"type": ["number", "null"]}
    schema = {
        "type": "object",
        "required": ["schema", "python", "gevent", "platform", "cells"],
        "properties": {
            "schema": {"const": 1},
            "cells": {"type": "array", "minItems": 80, "items": {
                "type": "object",
                "required": ["library", "version", "profile", "outcome", "factor", "detail",
                             "max_stall_s"],
                "properties": {"outcome": {"enum": list(OUTCOMES)}, "factor": number,
                               "max_stall_s": number},
            }},
        },
    }  # fmt: skip
    jsonschema.validate(doc, schema)
    assert not compare(doc), "docs/compat-matrix.json disagrees with compat_tests/expected.toml"
