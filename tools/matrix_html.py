"""docs/compat-matrix.html: one self-contained page (inline CSS, no scripts, no external assets).

Readable from a 390 px phone to a 1920 px screen: the table scrolls inside its own box (the page
never scrolls sideways), the header row and the library column stay in view while it does, and
each cell is a <details>: its measurement and what to do open on click, tap or Enter.
"""

from __future__ import annotations

from typing import Any

from tools.matrix_render import (
    COLOURS,
    advice,
    counts,
    environment_line,
    escape,
    grouped_rows,
    inline_code,
    profiles_of,
)

STYLE = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1rem auto;
 padding:0 clamp(.5rem,2vw,2rem);max-width:88rem;color:#1d1d1f}
h1{font-size:1.5rem;margin:0 0 .25rem}
p.env{color:#444;margin:0 0 1rem;max-width:60rem}
.scroll{overflow:auto;max-height:calc(100vh - 4rem);border:1px solid #d0d0d0}
table{border-collapse:separate;border-spacing:0;width:100%}
th,td{border:0 solid #d0d0d0;border-width:0 1px 1px 0;padding:.35rem .5rem;text-align:left;
 vertical-align:top}
thead th{position:sticky;top:0;z-index:2;background:#f3f3f3}
thead th:first-child{left:0;z-index:3}
th.lib{position:sticky;left:0;z-index:1;background:#fff;font-weight:normal;
 width:12rem;min-width:8.5rem;max-width:12rem;overflow-wrap:anywhere}
th.lib small{display:block;color:#555}
tr.family th{background:#e8eaf0;font-size:1rem;padding:.5rem}
tr.family th span{position:sticky;left:.5rem}
td.cell{min-width:7.5rem;padding:0}
td.mismatch{outline:3px solid #b00020;outline-offset:-3px}
summary{cursor:pointer;padding:.35rem .5rem;list-style:none;white-space:nowrap}
summary::-webkit-details-marker{display:none}
summary::before{content:"▸";display:inline-block;width:.9em;color:#555}
details[open]>summary::before{content:"▾"}
summary b{margin-right:.3rem}
summary small{color:#333}
summary:focus-visible{outline:2px solid #1a4fd6;outline-offset:-2px}
.more{padding:0 .5rem .5rem;width:min(20rem,calc(100vw - 10rem));white-space:normal}
.more p{margin:.3rem 0}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
.legend span{display:inline-block;padding:.1rem .5rem;margin:0 .5rem .25rem 0;
 border:1px solid #ccc}
tfoot th,tfoot td{background:#fafafa}
tfoot td{text-align:center}
@media (max-width:600px){body{font-size:13px}th.lib{width:7.5rem;min-width:7.5rem}
 td.cell{min-width:6.5rem}}
"""


def _reason(detail: str, width: int = 60) -> str:
    """The short why of a broken cell: the exception or the hang, not the timings."""
    head = detail.split(";")[0]
    if "(" in head and not head.startswith("hang"):
        head = head.split("(", 1)[1].rstrip(")")
    else:
        head = head.split(" (")[0]
    return head if len(head) <= width else head[: width - 1] + "…"


def _numbers(cell: dict[str, Any]) -> str:
    factor = "" if cell.get("factor") is None else f"factor {cell['factor']:.1f}"
    stall = "" if cell.get("max_stall_s") is None else f"hub stall {cell['max_stall_s']:.3f} s"
    return " · ".join(x for x in (factor, stall) if x)


def _cell(cell: dict[str, Any] | None, fix: str) -> str:
    if cell is None:
        return '<td class="cell"><span class="none">–</span></td>'
    outcome = cell["outcome"]
    expected = cell.get("expected")
    cls = "cell"
    note = ""
    if expected and expected != outcome:
        cls += " mismatch"
        note = f"<p><b>expected {escape(expected)}</b> (compat_tests/expected.toml)</p>"
    short = "" if cell.get("factor") is None else f"×{cell['factor']:.1f}"
    why = f"<p>{escape(_reason(cell.get('detail') or ''))}</p>" if outcome == "broken" else ""
    numbers = _numbers(cell)
    if outcome == "cooperative" and not fix.startswith("Nothing"):
        fix = f"nothing under `{cell['profile']}`. Where it blocks or breaks: {fix}"
    return (
        f'<td class="{cls}" style="background:{COLOURS.get(outcome, "#eee")}">'
        f"<details><summary><b>{escape(outcome)}</b><small>{escape(short)}</small></summary>"
        f'<div class="more">{note}{why}'
        + (f"<p>{escape(numbers)}</p>" if numbers else "")
        + f"<p>{escape(cell.get('detail') or '')}</p>"
        f"<p><b>What to do:</b> {inline_code(fix)}</p></div></details></td>"
    )


def _body(doc: dict[str, Any], profiles: list[str]) -> str:
    out = []
    for title, group in grouped_rows(doc):
        out.append(
            f'<tbody><tr class="family"><th colspan="{len(profiles) + 1}" scope="rowgroup">'
            f"<span>{escape(title)}</span></th></tr>"
        )
        for library, version, cells in group:
            fix = advice(library, cells)
            tds = "".join(_cell(cells.get(p), fix) for p in profiles)
            out.append(
                f'<tr><th class="lib" scope="row"><code>{escape(library)}</code>'
                f"<small>{escape(version)}</small></th>{tds}</tr>"
            )
        out.append("</tbody>")
    return "\n".join(out)


def _counts_rows(doc: dict[str, Any], profiles: list[str]) -> str:
    per = counts(doc)
    out = []
    for outcome, colour in COLOURS.items():
        tds = "".join(f"<td>{per.get(p, {}).get(outcome, 0)}</td>" for p in profiles)
        out.append(f'<tr><th class="lib" style="background:{colour}">{outcome}</th>{tds}</tr>')
    return "\n".join(out)


def render_html(doc: dict[str, Any]) -> str:
    profiles = profiles_of(doc)
    head = "".join(f'<th scope="col"><code>{escape(p)}</code></th>' for p in profiles)
    env = escape(environment_line(doc).replace("`", ""))
    legend = "".join(f'<span style="background:{c}">{o}</span>' for o, c in COLOURS.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>patchkit compatibility matrix</title><style>{STYLE}</style></head>
<body>
<h1>patchkit compatibility matrix</h1>
<p class="env">Measured on {env}. Each cell: 10 concurrent waits of 0.2 s against a real
server, from greenlets, under one profile. <b>×factor</b> = the 10 waits
together / one wait alone (about 1 when they overlap, about 10 when they serialise).
<b>Click or tap a cell</b> (or Tab to it and press Enter) for what was measured, the longest
hub stall and what to do. A red outline marks a cell that differs from
compat_tests/expected.toml.</p>
<p class="legend">{legend}</p>
<div class="scroll">
<table>
<thead><tr><th scope="col">library</th>{head}</tr></thead>
{_body(doc, profiles)}
<tfoot>
{_counts_rows(doc, profiles)}
</tfoot>
</table>
</div>
<p class="env">How each outcome is measured: the
<a href="compat-matrix/">compatibility matrix page</a> of the documentation
(<code>docs/compat-matrix.md</code> in the repository).</p>
</body></html>
"""
