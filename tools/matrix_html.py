"""docs/compat-matrix.html: one self-contained page (inline CSS, no scripts, no external assets)."""

from __future__ import annotations

from typing import Any

from tools.matrix_render import (
    COLOURS,
    counts,
    environment_line,
    escape,
    profiles_of,
    rows,
)

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d1d1f}
h1{font-size:1.5rem;margin:0 0 .25rem}
p.env{color:#555;margin:0 0 1rem}
table{border-collapse:collapse}
th,td{border:1px solid #d0d0d0;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.cell{text-align:center;min-width:7.5rem;cursor:help}
td.cell small{display:block;color:#444;white-space:nowrap}
td.mismatch{outline:3px solid #b00020;outline-offset:-3px}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace}
.legend span{display:inline-block;padding:.1rem .5rem;margin-right:.5rem;border:1px solid #ccc}
.counts td{text-align:center}
"""


def _reason(detail: str, width: int = 44) -> str:
    """The short why of a broken cell: the exception or the hang, not the timings."""
    head = detail.split(";")[0]
    if "(" in head and not head.startswith("hang"):
        head = head.split("(", 1)[1].rstrip(")")
    else:
        head = head.split(" (")[0]
    return head if len(head) <= width else head[: width - 1] + "…"


def _cell(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return '<td class="cell">–</td>'
    outcome = cell["outcome"]
    factor = "" if cell.get("factor") is None else f"factor {cell['factor']:.1f}"
    stall = "" if cell.get("max_stall_s") is None else f"hub stall {cell['max_stall_s']:.3f} s"
    tip = cell.get("detail") or ""
    expected = cell.get("expected")
    cls = "cell"
    note = ""
    if expected and expected != outcome:
        cls += " mismatch"
        note = f"<small>expected {escape(expected)}</small>"
        tip = f"expected {expected}; " + tip
    small = _reason(cell.get("detail") or "") if outcome == "broken" else ""
    small = small or " · ".join(x for x in (factor, stall) if x)
    return (
        f'<td class="{cls}" style="background:{COLOURS.get(outcome, "#eee")}" '
        f'title="{escape(tip)}"><b>{escape(outcome)}</b><small>{escape(small)}</small>{note}</td>'
    )


def _counts_rows(doc: dict[str, Any], profiles: list[str]) -> str:
    per = counts(doc)
    out = []
    for outcome, colour in COLOURS.items():
        tds = "".join(f"<td>{per.get(p, {}).get(outcome, 0)}</td>" for p in profiles)
        out.append(f'<tr><th colspan="2" style="background:{colour}">{outcome}</th>{tds}</tr>')
    return "\n".join(out)


def render_html(doc: dict[str, Any]) -> str:
    profiles = profiles_of(doc)
    head = "".join(f"<th><code>{escape(p)}</code></th>" for p in profiles)
    body = []
    for library, version, cells in rows(doc):
        tds = "".join(_cell(cells.get(p)) for p in profiles)
        body.append(
            f"<tr><th><code>{escape(library)}</code></th><td>{escape(version)}</td>{tds}</tr>"
        )
    env = escape(environment_line(doc).replace("`", ""))
    legend = "".join(f'<span style="background:{c}">{o}</span>' for o, c in COLOURS.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>patchkit compatibility matrix</title><style>{STYLE}</style></head>
<body>
<h1>patchkit compatibility matrix</h1>
<p class="env">Measured on {env}. Each cell: 10 concurrent waits of 0.2 s against a real
server, from greenlets, under one profile. <b>factor</b> = the 10 waits
together / one wait alone (about 1 when they overlap, about 10 when they serialise);
<b>hub stall</b> = the longest time a heartbeat greenlet did not run. Hover a cell for what
was measured. A red outline marks a cell that differs from compat_tests/expected.toml.</p>
<p class="legend">{legend}</p>
<table>
<thead><tr><th>library</th><th>version</th>{head}</tr></thead>
<tbody>
{chr(10).join(body)}
</tbody>
<tfoot class="counts">
{_counts_rows(doc, profiles)}
</tfoot>
</table>
<p class="env">How each outcome is measured and what to do about a cell:
<a href="compat-matrix.md">compat-matrix.md</a>.</p>
</body></html>
"""
