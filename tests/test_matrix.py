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
from tools.matrix_versions import SchemaError, as_schema_2

REPO = Path(__file__).resolve().parent.parent
SCHEMA_FILE = REPO / "tools" / "templates" / "compat-matrix.schema.json"
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


def test_document_is_schema_2_with_cells_in_suite_order(records):
    doc = build_document(records)
    assert {k: doc[k] for k in ("schema", "python", "gevent", "platform")} == {"schema": 2, **ENV}
    assert doc["other_cells"] == [] and len(doc["combinations"]) == 1
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
    assert "Showing CPython 3.11.7, gevent 26.9.0, measured on <b>linux</b>" in page
    assert "factor 9.9" in page and "#ffcdd2" in page  # broken cell colour


def test_html_cell_detail_and_what_to_do_open_on_click_not_hover(records):
    page = render_html(build_document(records))
    assert "title=" not in page  # nothing is hover-only
    cells = re.findall(r'<td class="cell"[^>]*>(.*?)</td>', page, re.S)
    opened = [c for c in cells if "<details" in c]
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
    # A schema-1 file (before the first multi-version run) is read through as_schema_2.
    jsonschema.validate(as_schema_2(doc), json.loads(SCHEMA_FILE.read_text()))
    assert len(doc["cells"]) >= 80
    assert not compare(doc), "docs/compat-matrix.json disagrees with compat_tests/expected.toml"


# --- several Python x gevent x platform combinations (schema 2) ---

NEW = {"python": "3.13.0", "gevent": "26.9.0", "platform": "linux"}
OLD_GEVENT = {"python": "3.13.0", "gevent": "25.9.1", "platform": "linux"}
OLD_PYTHON = {"python": "3.12.1", "gevent": "26.9.0", "platform": "linux"}
MAC = {"python": "3.13.1", "gevent": "26.9.0", "platform": "darwin"}


@pytest.fixture
def combos() -> list[dict]:
    """requests/full differs on the older gevent, grpcio/full on macOS; psycopg2 never."""
    out = []
    for env in (OLD_PYTHON, OLD_GEVENT, MAC, NEW):  # the default one last: order must not matter
        out.append(cell("psycopg2", "full", "blocks", 9.8, **env))
        requests = "blocks" if env is OLD_GEVENT else "cooperative"
        out.append(cell("requests", "full", requests, 9.5 if requests == "blocks" else 1.1, **env))
        if env is not OLD_PYTHON:  # skipped there: no cell
            grpc = "blocks" if env is MAC else "broken"
            out.append(cell("grpcio", "full", grpc, 9.9 if grpc == "blocks" else None, **env))
    return out


RUNS = [{"python": "3.13", "gevent": "26.9.0", "platform": "linux", "wall_s": 312.4},
        {"python": "3.12", "gevent": "26.9.0", "platform": "linux", "wall_s": 290.0}]  # fmt: skip


def test_schema_2_keeps_the_default_combination_in_cells_and_the_rest_in_other_cells(combos):
    doc = build_document(combos, RUNS)
    assert doc["schema"] == 2
    assert {k: doc[k] for k in ("python", "gevent", "platform")} == NEW  # newest, linux
    assert {(c["library"], c["profile"]) for c in doc["cells"]} == {
        ("psycopg2", "full"), ("requests", "full"), ("grpcio", "full")}  # fmt: skip
    assert all({k: c[k] for k in NEW} == NEW for c in doc["cells"])
    assert len(doc["other_cells"]) == len(combos) - 3
    assert all(c["python"] and c["gevent"] and c["platform"] for c in doc["other_cells"])
    table = {(c["python"], c["gevent"], c["platform"]): c for c in doc["combinations"]}
    assert table[("3.13.0", "26.9.0", "linux")]["wall_s"] == 312.4
    assert table[("3.13.0", "26.9.0", "linux")]["default"] is True
    assert table[("3.13.1", "26.9.0", "darwin")]["wall_s"] is None  # no combination.json
    assert table[("3.13.0", "25.9.1", "linux")]["counts"] == {
        "cooperative": 0, "blocks": 2, "broken": 1}  # fmt: skip
    assert [c["default"] for c in doc["combinations"]].count(True) == 1


def test_schema_2_document_validates_against_the_schema_file(combos):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.validate(json.loads(json.dumps(build_document(combos, RUNS))), schema)
    broken = build_document(combos, RUNS)
    del broken["other_cells"][0]["gevent"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_results_of_several_combinations_are_all_kept(tmp_path):
    a, b = tmp_path / "py313-gevent26.9.0", tmp_path / "py313-gevent25.9.1"
    for folder, env in ((a, NEW), (b, OLD_GEVENT)):
        folder.mkdir()
        (folder / "full.jsonl").write_text(json.dumps(cell("redis", "full", "cooperative", **env)))
    assert sorted(c["gevent"] for c in load_results(tmp_path.rglob("*.jsonl"))) == [
        "25.9.1", "26.9.0"]  # fmt: skip


def test_schema_1_documents_still_render_and_unknown_schemas_fail_clearly(records):
    old = {"schema": 1, **ENV, "cells": [{k: v for k, v in c.items() if k not in ENV}
                                         for c in records]}  # fmt: skip
    assert "CPython 3.11.7, gevent 26.9.0" in render_markdown(old, "$environment\n$differences")
    assert "<code>psycopg2</code>" in render_html(old)
    assert all(c["gevent"] == "26.9.0" for c in as_schema_2(old)["cells"])
    with pytest.raises(SchemaError, match="schema 3; this reader knows 1 and 2"):
        render_html({**old, "schema": 3})


def test_html_picks_the_newest_python_and_gevent_on_linux_by_default(combos):
    page = render_html(build_document(combos, RUNS))
    assert not re.search(r"<script|(src|href)=\"https?:", page)
    checked = re.findall(r'<input type="radio" class="pick" name="(\w+)" id="([\w-]+)" checked>',
                         page)  # fmt: skip
    assert checked == [("py", "py-3-13"), ("gv", "gv-26-9-0"), ("pf", "pf-linux")]
    assert re.findall(r'<label for="py-[\d-]+">([\d.]+)</label>', page) == ["3.13", "3.12"]
    assert re.findall(r'<label for="pf-\w+">(\w+)</label>', page) == ["linux", "darwin"]
    # one CSS rule per picked combination shows that combination's cells
    rule = "#py-3-13:checked~#gv-25-9-1:checked~#pf-linux:checked~* .k-py313-g25-9-1-linux"
    assert rule + "{display:block}" in page
    assert "Not measured: CPython 3.12, gevent 25.9.1 on darwin." in page


def test_html_marks_cells_whose_outcome_differs_between_versions(combos):
    page = render_html(build_document(combos, RUNS))
    rows = {lib: cls for cls, lib in re.findall(r'<tr class="([\w ]+)"><th class="lib" '
                                                r'scope="row"><code>([\w.]+)<', page)}  # fmt: skip
    assert rows == {"psycopg2": "row", "requests": "row differs", "grpcio": "row differs"}
    differing = re.findall(r'<td class="cell differs">(.*?)</td>', page, re.S)
    assert len(differing) == 2  # requests/full and grpcio/full; psycopg2 is the same everywhere
    requests = next(c for c in differing if "requests measured" in c)
    title = re.search(r'<span class="diff" title="([^"]+)">≠</span>', requests).group(1)
    assert title == ("py3.13 gevent 26.9.0 linux: cooperative; py3.13 gevent 26.9.0 darwin: "
                     "cooperative; py3.13 gevent 25.9.1 linux: blocks; "
                     "py3.12 gevent 26.9.0 linux: cooperative")  # fmt: skip
    assert "<li>py3.13 gevent 25.9.1 linux: blocks</li>" in requests  # on click, not hover only
    psycopg2 = re.search(r"<code>psycopg2</code>.*?</tr>", page, re.S).group(0)
    assert "differs" not in psycopg2 and "≠" not in psycopg2
    assert '<tr class="row differs"><th class="lib" scope="row"><code>requests</code>' in page
    assert "#only-diff:checked~.scroll tr.row:not(.differs){display:none}" in page
    # the cell takes the colour of the combination shown
    shown = "#py-3-13:checked~#gv-25-9-1:checked~#pf-linux:checked~* td.cell"
    assert shown + ":has(>.k-py313-g25-9-1-linux.o-blocks){background:#ffe9a8}" in page


def test_html_says_which_platform_each_cell_was_measured_on(combos):
    page = render_html(build_document(combos, RUNS))
    darwin = re.findall(r'<details class="v k-py313-g26-9-0-darwin o-\w+".*?</details>', page, re.S)
    (grpc_mac,) = [d for d in darwin if "grpcio measured" in d]
    assert "<summary><b>blocks</b>" in grpc_mac
    assert "Measured on darwin: CPython 3.13.1, gevent 26.9.0; grpcio 1.2.3" in grpc_mac
    assert '<span class="v k-py312-g26-9-0-linux none">–</span>' in page  # grpcio skipped there
    assert "measured on <b>darwin</b>" in page


def test_markdown_shows_the_default_combination_and_lists_every_difference(combos):
    doc = build_document(combos, RUNS)
    text = render_markdown(doc, "$environment\n$table\n## Where\n$differences\n## C\n$combinations")
    table = text.split("## Where")[0]
    assert "CPython 3.13.0, gevent 26.9.0, platform `linux`" in text
    assert ">cooperative ×1.1</td>" in table and "blocks ×9.5" not in table  # default only
    where = text.split("## Where")[1].split("## C")[0]
    assert "| `requests` | `full` | py3.13 gevent 26.9.0 linux: cooperative; " in where
    assert "py3.13 gevent 25.9.1 linux: blocks" in where
    assert "| `grpcio` | `full` | py3.13 gevent 26.9.0 linux: broken; " in where
    assert "py3.13 gevent 26.9.0 darwin: blocks" in where and "psycopg2" not in where
    combinations = text.split("## C")[1]
    assert "| 3.13.0 (default) | 26.9.0 | `linux` | 312 s | 3 | 1 | 1 | 1 |" in combinations
    assert "| 3.13.1 | 26.9.0 | `darwin` | – |" in combinations


def test_compare_applies_each_cells_own_gevent_and_platform(combos):
    table = {"psycopg2": {"full": "blocks"},
             "requests": {"full": "cooperative", "gevent25": {"full": "blocks"}},
             "grpcio": {"full": "broken", "darwin": {"full": "blocks"}}}  # fmt: skip
    assert compare(build_document(combos, RUNS), table) == []
    del table["requests"]["gevent25"]
    (mismatch,) = compare(build_document(combos, RUNS), table)
    assert str(mismatch) == (
        "requests [full] (py3.13 gevent 25.9.1 linux): expected cooperative, measured blocks"
    )


def test_gevent_overrides_sit_between_python_and_platform():
    table = {"requests": {"full": "cooperative", "gevent25": {"full": "blocks"},
                          "darwin": {"full": "broken"},
                          "py310": {"full": "cooperative"}}}  # fmt: skip
    assert expected_outcome("requests", "full", table=table, python="py313", platform="linux",
                            gevent="25.9.1") == "blocks"  # fmt: skip
    assert expected_outcome("requests", "full", table=table, python="py313", platform="darwin",
                            gevent="25.9.1") == "blocks"  # fmt: skip
    assert expected_outcome("requests", "full", table=table, python="py313", platform="darwin",
                            gevent="26.9.0") == "broken"  # fmt: skip
    assert expected_outcome("requests", "full", table=table, python="py310", platform="linux",
                            gevent="25.9.1") == "cooperative"  # fmt: skip


def test_gevent_pair_is_the_newest_and_the_newest_a_year_older():
    from datetime import datetime

    from tools.matrix_venvs import pick_gevents

    releases = {"24.11.1": datetime(2024, 11, 5), "25.4.2": datetime(2025, 4, 20),
                "25.9.1": datetime(2025, 9, 18), "26.4.0": datetime(2026, 4, 2),
                "26.9.0": datetime(2026, 9, 1)}  # fmt: skip
    assert pick_gevents(releases) == ("26.9.0", "25.9.1")
    assert pick_gevents({"26.9.0": datetime(2026, 9, 1)}) == ("26.9.0", "26.9.0")


def test_native_clients_are_read_from_one_list(tmp_path):
    from tools import native_clients

    listing = tmp_path / "clients.txt"
    listing.write_text("# header\nmysqlclient  # needs libmariadb-dev\n\npylibmc\n")
    assert native_clients.names(listing) == ["mysqlclient", "pylibmc"]
    for name in native_clients.names():  # the Makefile and tox.ini hold no copy of the list
        assert name not in (REPO / "Makefile").read_text()
        assert name not in (REPO / "tox.ini").read_text()


def test_progress_reads_pytests_closing_line(tmp_path):
    from tools.matrix import _pytest_summary

    log = tmp_path / "full.log"
    log.write_text("....\n===== 29 passed, 2 skipped in 81.20s (0:01:21) =====\n")
    assert _pytest_summary(log) == "29 passed, 2 skipped"
    log.write_text("ImportError: no module named xdist\n")
    assert _pytest_summary(log) == "no pytest summary (see the log)"


def test_a_probe_measured_alone_excludes_shared_probes_and_shared_ones_overlap(
    tmp_path, monkeypatch
):
    from compat_tests._runner import LOCK_ENV, probe_slot

    monkeypatch.setenv(LOCK_ENV, str(tmp_path / "probes.lock"))
    # parallel probes share; one that wants to run alone cannot while they do (it says so)
    with probe_slot(alone=False), probe_slot(alone=False), probe_slot(True, 0.2) as exclusive:
        assert exclusive is False
    with probe_slot(alone=True) as exclusive:
        assert exclusive is True
        with probe_slot(alone=True, wait_s=0.2) as second:
            assert second is False


def test_the_default_combinations_cell_comes_first_even_when_macos_has_a_newer_python(combos):
    newer_mac = {"python": "3.14.0", "gevent": "26.9.0", "platform": "darwin"}
    doc = build_document([*combos, cell("requests", "full", "blocks", 9.0, **newer_mac)])
    assert doc["platform"] == "linux" and doc["python"] == "3.13.0"
    page = render_html(doc)
    requests = re.search(r"<code>requests</code>.*?</tr>", page, re.S).group(0)
    first = re.search(r'<details class="v k-([\w-]+) o-', requests).group(1)
    assert first == "py313-g26-9-0-linux"  # the one docs_check clicks is the one shown


def test_render_only_merges_a_darwin_artifact_with_linux_combinations(tmp_path, combos):
    from tools.matrix import main

    results = tmp_path / "compat-results"
    by_env: dict[tuple, list[dict]] = {}
    for c in combos:
        by_env.setdefault((c["python"], c["gevent"], c["platform"]), []).append(c)
    for (python, gevent, platform), cells in by_env.items():
        # linux: tools/matrix.py's layout; darwin: the macOS job's artifact, unpacked by CI
        top = "compat-results-macos-py3.13" if platform == "darwin" else "."
        folder = results / top / f"py{python[:4].replace('.', '')}-gevent{gevent}"
        folder.mkdir(parents=True)
        (folder / "full.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cells))
        run = {"python": python[:4], "gevent": gevent, "platform": platform, "wall_s": 100.0}
        (folder / "combination.json").write_text(json.dumps(run))
    main(["--render-only", "--results", str(results), "--out", str(tmp_path / "docs")])
    doc = json.loads((tmp_path / "docs" / "compat-matrix.json").read_text())
    assert doc["schema"] == 2 and doc["platform"] == "linux"
    darwin = [c for c in doc["other_cells"] if c["platform"] == "darwin"]
    assert {c["library"] for c in darwin} == {"psycopg2", "requests", "grpcio"}
    assert {(c["platform"], c["wall_s"]) for c in doc["combinations"]} == {
        ("linux", 100.0), ("darwin", 100.0)}  # fmt: skip
    page = (tmp_path / "docs" / "compat-matrix.html").read_text()
    assert '<label for="pf-darwin">darwin</label>' in page
