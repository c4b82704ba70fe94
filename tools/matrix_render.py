"""Compatibility results -> docs/compat-matrix.{json,md,html}. Pure functions; no measuring here.

The input is the JSON lines the compat suite writes (one cell per library, profile and Python x
gevent x platform combination); the JSON document is schema 2 (tools/matrix_versions.py,
docs/compat-matrix.md "The JSON"). Every page renders from the default combination's ``cells``
and lists where other combinations differ.
"""

from __future__ import annotations

import html
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from compat_tests.cases import load_all  # noqa: E402
from compat_tests.expected import expected_outcome  # noqa: E402
from tools.matrix_versions import (  # noqa: E402
    SCHEMA,
    all_cells,
    as_schema_2,
    combinations,
    default_key,
    differences,
    key_of,
    label,
    ordered_keys,
)

PROFILES = ("full", "nothread", "network", "none")
# What a cell keeps: the measurement, the expectation and where it was measured.
MEASURED = ("library", "version", "profile", "outcome", "factor", "max_stall_s", "detail")
CELL_KEYS = (*MEASURED, "expected", "python", "gevent", "platform")
COLOURS = {"cooperative": "#c8e6c9", "blocks": "#ffe9a8", "broken": "#ffcdd2"}
TEMPLATE = ROOT / "tools" / "templates" / "compat-matrix.md"


def load_results(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Every cell in the JSON-lines files; a later line for the same library, profile and
    combination replaces an earlier one (files are read in sorted order)."""
    cells: dict[tuple[str, ...], dict[str, Any]] = {}
    for path in sorted(Path(p) for p in paths):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                cell = json.loads(line)
                cells[(cell["library"], cell["profile"], *key_of(cell))] = cell
    return list(cells.values())


def _library_order() -> list[str]:
    return list(load_all())


def build_document(
    records: list[dict[str, Any]], runs: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The matrix JSON (schema 2): the default combination's environment and ``cells`` (as in
    schema 1), every combination with its wall time (``runs``: tools/matrix.py's
    combination.json records), and the other combinations' cells in ``other_cells``."""
    order = {name: i for i, name in enumerate(_library_order())}
    keys = ordered_keys([key_of(c) for c in records])
    default = default_key(keys) if keys else ("", "", "")

    def key(cell: dict[str, Any]) -> tuple[int, int, str, int]:
        profile = PROFILES.index(cell["profile"]) if cell["profile"] in PROFILES else 99
        library = cell["library"]
        return keys.index(key_of(cell)), order.get(library, len(order)), library, profile

    cells = [{k: cell.get(k) for k in CELL_KEYS} for cell in sorted(records, key=key)]
    first = next((c for c in cells if key_of(c) == default), {})
    return {
        "schema": SCHEMA,
        **{k: first.get(k) for k in ("python", "gevent", "platform")},
        "combinations": combinations(cells, runs or []),
        "cells": [c for c in cells if key_of(c) == default],
        "other_cells": [c for c in cells if key_of(c) != default],
    }


@dataclass(frozen=True)
class Mismatch:
    library: str
    profile: str
    expected: str | None
    measured: str
    detail: str
    where: str = ""  # the combination, when the document has several

    def __str__(self) -> str:
        want = self.expected or "no entry in compat_tests/expected.toml"
        where = f" ({self.where})" if self.where else ""
        return f"{self.library} [{self.profile}]{where}: expected {want}, measured {self.measured}"


def compare(doc: dict[str, Any], table: dict[str, Any] | None = None) -> list[Mismatch]:
    """Cells whose measured outcome is not the one expected.toml gives for their Python, gevent
    and platform, in every combination."""
    doc = as_schema_2(doc)
    out = []
    for cell in all_cells(doc):
        python = "py" + "".join((cell.get("python") or "0.0").split(".")[:2])
        want = expected_outcome(
            cell["library"],
            cell["profile"],
            table=table,
            platform=cell.get("platform") or sys.platform,
            python=python,
            gevent=cell.get("gevent") or "",
        )
        if want != cell["outcome"]:
            where = label(key_of(cell)) if doc.get("other_cells") else ""
            out.append(Mismatch(cell["library"], cell["profile"], want, cell["outcome"],
                                cell["detail"], where))  # fmt: skip
    return out


def rows(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, dict[str, Any]]]]:
    """(library, version, {profile: cell}) in the suite's order."""
    grouped: dict[str, dict[str, dict[str, Any]]] = {}
    versions: dict[str, str] = {}
    for cell in doc["cells"]:
        grouped.setdefault(cell["library"], {})[cell["profile"]] = cell
        versions.setdefault(cell["library"], cell.get("version") or "")
    return [(lib, versions[lib], cells) for lib, cells in grouped.items()]


def profiles_of(doc: dict[str, Any]) -> list[str]:
    seen = {cell["profile"] for cell in doc["cells"]}
    return [p for p in PROFILES if p in seen] + sorted(seen - set(PROFILES))


def counts(doc: dict[str, Any]) -> dict[str, dict[str, int]]:
    """{profile: {outcome: number of cells}}."""
    out: dict[str, dict[str, int]] = {}
    for cell in doc["cells"]:
        per = out.setdefault(cell["profile"], {"cooperative": 0, "blocks": 0, "broken": 0})
        per[cell["outcome"]] = per.get(cell["outcome"], 0) + 1
    return out


def _factor(cell: dict[str, Any]) -> str:
    return "" if cell.get("factor") is None else f" ×{cell['factor']:.1f}"


def environment_line(doc: dict[str, Any]) -> str:
    """The default combination's environment, and how many others the document holds."""
    others = len(doc.get("combinations") or [None]) - 1
    more = f" (the default of {others + 1} combinations measured)" if others > 0 else ""
    return (
        f"CPython {doc['python']}, gevent {doc['gevent']}, platform `{doc['platform']}`; "
        f"{len(doc['cells'])} cells{more}"
    )


GROUPS = (
    ("databases", "Databases"),
    ("caches", "Caches, directories and coordination"),
    ("http", "HTTP"),
    ("cloud", "Cloud and SOAP"),
    ("messaging", "Messaging and tasks"),
    ("rpc", "RPC"),
    ("remote", "Remote shells, mail and file transfer"),
    ("observability", "Observability (background threads)"),
    ("stdlib", "Standard library: I/O"),
    ("concurrency", "Standard library: threads, processes, asyncio"),
)
Row = tuple[str, str, dict[str, dict[str, Any]]]


def grouped_rows(doc: dict[str, Any]) -> list[tuple[str, list[Row]]]:
    """(group title, rows) by the cases' family: databases, HTTP, messaging, RPC, stdlib."""
    cases = load_all()
    titles = dict(GROUPS)
    groups: dict[str, list[Row]] = {}
    for row in rows(doc):
        case = cases.get(row[0])
        family = case.family if case and case.family in titles else "other"
        groups.setdefault(family, []).append(row)
    order = [f for f, _ in GROUPS] + ["other"]
    return [(titles.get(f, "Other"), groups[f]) for f in order if f in groups]


def advice(library: str, cells: dict[str, dict[str, Any]]) -> str:
    """What to do about this library (Markdown with backticks), from its compat case."""
    case = load_all().get(library)
    if all(c["outcome"] == "cooperative" for c in cells.values()):
        return "Nothing: cooperative under every profile measured."
    return (case.fix if case else "") or "No advice recorded for this library."


def inline_code(text: str) -> str:
    """Escaped HTML with `backticks` as <code>: the advice reads the same on both pages."""
    parts = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def cell_label(cell: dict[str, Any]) -> str:
    return f"{cell['outcome']}{_factor(cell)}"


def _md_cell(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "<td>–</td>"
    colour = COLOURS.get(cell["outcome"], "#eee")
    return (
        f'<td style="background:{colour};color:#1d1d1f;white-space:nowrap" '
        f'title="{escape(cell.get("detail") or "")}">{escape(cell_label(cell))}</td>'
    )


FAMILY_STYLE = "background:#e8eaf0;color:#1d1d1f;font-weight:bold"


def markdown_table(doc: dict[str, Any]) -> str:
    """The matrix as an HTML table inside the Markdown page: coloured cells, grouped by kind, and
    under each library's cells (its name spans both rows) what to do about it. One line per row
    and no blank line: Markdown keeps it as one raw HTML block."""
    profiles = profiles_of(doc)
    head = "".join(f"<th><code>{escape(p)}</code></th>" for p in profiles)
    lines = [
        '<div class="compat-matrix" style="overflow-x:auto">',
        "<table>",
        f"<thead><tr><th>library</th>{head}</tr></thead>",
        "<tbody>",
    ]
    for title, group in grouped_rows(doc):
        span = len(profiles) + 1
        lines.append(f'<tr><td colspan="{span}" style="{FAMILY_STYLE}">{escape(title)}</td></tr>')
        for library, version, cells in group:
            tds = "".join(_md_cell(cells.get(p)) for p in profiles)
            lib = f"<code>{escape(library)}</code><br><small>{escape(version)}</small>"
            fix = inline_code(advice(library, cells))
            lines.append(f'<tr><td rowspan="2">{lib}</td>{tds}</tr>')
            lines.append(f'<tr><td colspan="{len(profiles)}"><b>What to do:</b> {fix}</td></tr>')
    lines += ["</tbody>", "</table>", "</div>"]
    return "\n".join(lines)


def legend() -> str:
    """The outcome colours, as inline HTML spans for the Markdown page."""
    return ", ".join(
        f'<span style="background:{c};color:#1d1d1f;padding:0 .4em">{o}</span>'
        for o, c in COLOURS.items()
    )


def fixes_table(doc: dict[str, Any]) -> str:
    lines = ["| library | where it blocks or breaks | what to do |", "|---|---|---|"]
    for library, _, cells in rows(doc):
        bad = [f"`{p}`: {c['outcome']}" for p, c in cells.items() if c["outcome"] != "cooperative"]
        if bad:
            lines.append(f"| `{library}` | {', '.join(bad)} | {advice(library, cells)} |")
    return "\n".join(lines)


def ranges(doc: dict[str, Any]) -> str:
    """What this run measured for each outcome, over every combination: the spread of factors
    and hub stalls."""
    parts = []
    for outcome in ("cooperative", "blocks"):
        cells = [c for c in all_cells(doc) if c["outcome"] == outcome and c.get("factor")]
        if cells:
            f = [c["factor"] for c in cells]
            g = [c["max_stall_s"] for c in cells]
            parts.append(
                f"{outcome} cells measured factors of {min(f):.1f}–{max(f):.1f} and longest "
                f"hub stalls of {min(g) * 1000:.0f}–{max(g) * 1000:.0f} ms"
            )
    return "; ".join(parts)


def combinations_table(doc: dict[str, Any]) -> str:
    """Every combination measured, with its wall time (all profiles) and outcome counts."""
    lines = ["| Python | gevent | platform | wall time | cells | cooperative | blocks | broken |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for c in doc["combinations"]:
        wall = "–" if c.get("wall_s") is None else f"{c['wall_s']:.0f} s"
        mark = " (default)" if c.get("default") else ""
        n = c["counts"]
        outcomes = f"{n['cooperative']} | {n['blocks']} | {n['broken']}"
        lines.append(f"| {c['python']}{mark} | {c['gevent']} | `{c['platform']}` | {wall} | "
                     f"{c['cells']} | {outcomes} |")  # fmt: skip
    return "\n".join(lines)


def differences_section(doc: dict[str, Any]) -> str:
    """Every (library, profile) whose outcome differs between combinations or platforms."""
    found = differences(doc)
    if len(doc["combinations"]) < 2:
        return "Only one combination was measured: nothing to compare."
    if not found:
        n = len(doc["combinations"])
        return f"None: every cell has the same outcome in all {n} combinations."
    lines = ["| library | profile | outcome per combination |", "|---|---|---|"]
    for (library, profile), diff in sorted(found.items()):
        lines.append(f"| `{library}` | `{profile}` | {diff.describe()} |")
    return "\n".join(lines)


def render_markdown(doc: dict[str, Any], template: str | None = None) -> str:
    doc = as_schema_2(doc)
    text = TEMPLATE.read_text(encoding="utf-8") if template is None else template
    return Template(text).substitute(
        environment=environment_line(doc),
        table=markdown_table(doc),
        fixes=fixes_table(doc),
        legend=legend(),
        ranges=ranges(doc),
        combinations=combinations_table(doc),
        differences=differences_section(doc),
    )


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1) + "\n"


def escape(text: object) -> str:
    return html.escape(str(text), quote=True)
