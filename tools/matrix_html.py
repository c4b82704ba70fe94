"""docs/compat-matrix.html: one self-contained page (inline CSS, no scripts, no external assets).

Readable from a 390 px phone to a 1920 px screen: the table scrolls inside its own box (the page
never scrolls sideways), the header row and the library column stay in view while it does, and
each cell is a <details>: its measurement and what to do open on click, tap or Enter.

Python, gevent and platform are picked with radio buttons, and CSS alone shows the picked
combination (each cell holds one <details> per combination; ``#py…:checked ~ #gv…:checked ~
#pf…:checked ~ * .k-…`` shows one): the page works without JavaScript. A cell whose outcome
differs between combinations carries a ≠ marker listing each one, and a checkbox hides the
rows where nothing differs.
"""

from __future__ import annotations

from itertools import product
from typing import Any

from tools.matrix_render import (
    COLOURS,
    advice,
    counts,
    escape,
    grouped_rows,
    inline_code,
    profiles_of,
)
from tools.matrix_versions import (
    Difference,
    Key,
    all_cells,
    as_schema_2,
    differences,
    key_of,
    keys_of,
    label,
    minor,
    slug,
    version_key,
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
.v{display:none}
td.differs{box-shadow:inset 4px 0 #5b2a86}
.diff{color:#5b2a86;font-weight:bold;margin-left:.3rem}
input.pick{position:absolute;opacity:0;width:1px;height:1px;margin:0}
.pickers{display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin:0 0 .75rem}
.pickers div{display:flex;flex-wrap:wrap;gap:.25rem;align-items:center}
.pickers label{border:1px solid #888;border-radius:1rem;padding:.1rem .6rem;cursor:pointer;
 background:#fff}
.mismatch{outline:3px solid #b00020;outline-offset:-3px}
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


def _variant(cell: dict[str, Any], fix: str, diff: Difference | None, several: bool) -> str:
    """One combination's measurement of a cell: a <details> that opens on click."""
    outcome = cell["outcome"]
    expected = cell.get("expected")
    cls = f"v k-{slug(key_of(cell))} o-{outcome}" if several else ""
    note = ""
    if expected and expected != outcome:
        cls += " mismatch"
        note = f"<p><b>expected {escape(expected)}</b> (compat_tests/expected.toml)</p>"
    short = "" if cell.get("factor") is None else f"×{cell['factor']:.1f}"
    why = f"<p>{escape(_reason(cell.get('detail') or ''))}</p>" if outcome == "broken" else ""
    numbers = _numbers(cell)
    if outcome == "cooperative" and not fix.startswith("Nothing"):
        fix = f"nothing under `{cell['profile']}`. Where it blocks or breaks: {fix}"
    marker = versions = ""
    if diff:
        marker = f'<span class="diff" title="{escape(diff.describe())}">≠</span>'
        items = "".join(f"<li>{escape(label(k))}: {escape(o)}</li>" for k, o in diff.outcomes)
        versions = f"<p><b>Differs between versions:</b></p><ul>{items}</ul>"
    where = (f"<p>Measured on {escape(cell.get('platform'))}: CPython {escape(cell.get('python'))},"
             f" gevent {escape(cell.get('gevent'))}; {escape(cell.get('library'))} "
             f"{escape(cell.get('version'))}</p>")  # fmt: skip
    attr = f' class="{cls.strip()}"' if cls.strip() else ""
    return (
        f"<details{attr}>"
        f"<summary><b>{escape(outcome)}</b><small>{escape(short)}</small>{marker}</summary>"
        f'<div class="more">{note}{why}'
        + (f"<p>{escape(numbers)}</p>" if numbers else "")
        + f"<p>{escape(cell.get('detail') or '')}</p>{where}{versions}"
        f"<p><b>What to do:</b> {inline_code(fix)}</p></div></details>"
    )


Variants = dict[Key, dict[str, dict[str, Any]]]  # combination -> {profile: cell}, one library


def _cell(
    variants: Variants, profile: str, keys: list[Key], library: str, diff: Difference | None
) -> str:
    several = len(keys) > 1
    parts = []
    for key in keys:
        cells = variants.get(key, {})
        cell = cells.get(profile)
        if cell is not None:
            parts.append(_variant(cell, advice(library, cells), diff, several))
        elif several:
            parts.append(f'<span class="v k-{slug(key)} none">–</span>')
    if not parts:
        return '<td class="cell"><span class="none">–</span></td>'
    mismatch = (not several) and 'class="mismatch"' in parts[0]
    cls = "cell" + (" differs" if diff else "") + (" mismatch" if mismatch else "")
    # One combination: the cell's colour is its outcome's; several: CSS colours the cell after
    # the variant shown (td:has(...), in _pickers).
    shown = variants.get(keys[0], {}).get(profile) or {}
    colour = "" if several else f' style="background:{COLOURS.get(shown.get("outcome"), "#eee")}"'
    return f'<td class="{cls}"{colour}>{"".join(parts)}</td>'


def _body(doc: dict[str, Any], profiles: list[str], keys: list[Key]) -> str:
    variants: dict[str, Variants] = {}
    for cell in all_cells(doc):
        per_key = variants.setdefault(cell["library"], {})
        per_key.setdefault(key_of(cell), {})[cell["profile"]] = cell
    diffs = differences(doc)
    out = []
    for title, group in grouped_rows({"cells": all_cells(doc)}):
        rows = []
        for library, version, _ in group:
            found = [diffs.get((library, p)) for p in profiles]
            tds = "".join(_cell(variants[library], p, keys, library, d)
                          for p, d in zip(profiles, found, strict=True))  # fmt: skip
            cls = "row differs" if any(found) else "row"
            rows.append(
                f'<tr class="{cls}"><th class="lib" scope="row"><code>{escape(library)}</code>'
                f"<small>{escape(version)}</small></th>{tds}</tr>"
            )
        has = " has-diff" if any('class="row differs"' in r for r in rows) else ""
        out.append(
            f'<tbody class="group{has}"><tr class="family"><th colspan="{len(profiles) + 1}" '
            f'scope="rowgroup"><span>{escape(title)}</span></th></tr>'
        )
        out.extend(rows)
        out.append("</tbody>")
    return "\n".join(out)


def _counts_rows(doc: dict[str, Any], profiles: list[str], keys: list[Key]) -> str:
    several = len(keys) > 1
    per = {k: counts({"cells": [c for c in all_cells(doc) if key_of(c) == k]}) for k in keys}
    out = []
    for outcome, colour in COLOURS.items():
        tds = ""
        for p in profiles:
            spans = [(k, per[k].get(p, {}).get(outcome, 0)) for k in keys]
            tds += (
                "<td>"
                + "".join(
                    f'<span class="v k-{slug(k)}">{n}</span>' if several else str(n)
                    for k, n in spans
                )
                + "</td>"
            )
        out.append(f'<tr><th class="lib" style="background:{colour}">{outcome}</th>{tds}</tr>')
    return "\n".join(out)


def _dims(keys: list[Key]) -> list[tuple[str, str, list[str]]]:
    """(input name, title, values newest first) per dimension: Python, gevent, platform."""
    seen: list[list[str]] = [[], [], []]
    for key in keys:
        for i, value in enumerate(key):
            if value not in seen[i]:
                seen[i].append(value)
    pythons = sorted(seen[0], key=version_key, reverse=True)
    return [("py", "Python", pythons), ("gv", "gevent", sorted(seen[1], key=version_key,
                                                                reverse=True)),
            ("pf", "platform", sorted(seen[2], key=lambda p: p != "linux"))]  # fmt: skip


def _input_id(name: str, value: str) -> str:
    return f"{name}-{value.replace('.', '-')}"


def _pickers(doc: dict[str, Any], keys: list[Key]) -> tuple[str, str, str]:
    """(inputs, labels, CSS) that choose the combination shown; empty when there is one."""
    if len(keys) < 2:
        return "", "", ""
    default = key_of(doc["cells"][0]) if doc["cells"] else keys[0]
    dims = _dims(keys)
    inputs, labels, css = [], [], []
    for i, (name, title, values) in enumerate(dims):
        group = []
        for value in values:
            ident = _input_id(name, value)
            checked = " checked" if value == default[i] else ""
            inputs.append(f'<input type="radio" class="pick" name="{name}" id="{ident}"{checked}>')
            group.append(f'<label for="{ident}">{escape(value)}</label>')
            css.append(f"#{ident}:checked~.pickers label[for={ident}]"
                       "{background:#1d1d1f;color:#fff}")  # fmt: skip
            css.append(f"#{ident}:focus-visible~.pickers label[for={ident}]"
                       "{outline:2px solid #1a4fd6}")  # fmt: skip
        labels.append(f"<div><span>{title}</span>{''.join(group)}</div>")
    inputs.append('<input type="checkbox" class="pick" id="only-diff">')
    labels.append('<div><label for="only-diff">show only rows that differ</label></div>')
    css.append("#only-diff:checked~.pickers label[for=only-diff]{background:#5b2a86;color:#fff}")
    css.append("#only-diff:checked~.scroll tbody.group:not(.has-diff),"
               "#only-diff:checked~.scroll tr.row:not(.differs){display:none}")  # fmt: skip
    for combo in product(*(values for _, _, values in dims)):
        picked = zip(dims, combo, strict=True)
        chain = "~".join(f"#{_input_id(n, v)}:checked" for (n, _, _), v in picked)
        k = slug(combo)  # type: ignore[arg-type]
        css.append(f"{chain}~* .k-{k}{{display:block}}")
        css.extend(f"{chain}~* td.cell:has(>.k-{k}.o-{o}){{background:{c}}}"
                   for o, c in COLOURS.items())  # fmt: skip
    return "\n".join(inputs), f'<div class="pickers">{"".join(labels)}</div>', "\n".join(css)


def _environments(doc: dict[str, Any], keys: list[Key]) -> str:
    """Which combination the table shows: one line per measured one (and for a picked
    combination that was not measured, a line saying so)."""
    walls = {(minor(c["python"]), c["gevent"], c["platform"]): c for c in doc["combinations"]}
    if len(keys) < 2:
        key = keys[0] if keys else ("?", "?", "?")
        return f'<p class="env">{_env_text(walls.get(key), key)}</p>'
    lines = []
    for combo in product(*(values for _, _, values in _dims(keys))):
        text = (
            _env_text(walls[combo], combo)
            if combo in walls
            else f"Not measured: CPython {combo[0]}, gevent {combo[1]} on {combo[2]}."
        )
        lines.append(f'<p class="env v k-{slug(combo)}">{text}</p>')
    return f'<div class="envs">{"".join(lines)}</div>'


def _env_text(combo: dict[str, Any] | None, key: Key) -> str:
    if combo is None:
        return f"Measured on CPython {escape(key[0])}, gevent {escape(key[1])}, {escape(key[2])}."
    wall = "" if combo.get("wall_s") is None else f", all profiles in {combo['wall_s']:.0f} s"
    where = escape(combo["platform"])
    return (f"Showing CPython {escape(combo['python'])}, gevent {escape(combo['gevent'])}, "
            f"measured on <b>{where}</b>: {combo['cells']} cells{wall}.")  # fmt: skip


def render_html(doc: dict[str, Any]) -> str:
    doc = as_schema_2(doc)
    # The default combination first: its <details> is the first in each cell, the one shown.
    default = key_of(doc["cells"][0]) if doc["cells"] else None
    keys = sorted(keys_of(doc), key=lambda k: k != default)
    profiles = profiles_of({"cells": all_cells(doc)})
    head = "".join(f'<th scope="col"><code>{escape(p)}</code></th>' for p in profiles)
    inputs, pickers, pick_css = _pickers(doc, keys)
    legend = "".join(f'<span style="background:{c}">{o}</span>' for o, c in COLOURS.items())
    several = len(keys) > 1
    how_pick = ""
    if several:
        how_pick = (" Pick the Python, gevent and platform above; a <b>≠</b> marks a cell whose "
                    "outcome differs between the combinations measured.")  # fmt: skip
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>patchkit compatibility matrix</title><style>{STYLE}{pick_css}</style></head>
<body>
<h1>patchkit compatibility matrix</h1>
{inputs}
{pickers}
{_environments(doc, keys)}
<p class="env">Each cell: 10 concurrent waits of 0.2 s against a real
server, from greenlets, under one profile. <b>×factor</b> = the 10 waits
together / one wait alone (about 1 when they overlap, about 10 when they serialise).
<b>Click or tap a cell</b> (or Tab to it and press Enter) for what was measured, the longest
hub stall, where it was measured and what to do. A red outline marks a cell that differs
from compat_tests/expected.toml.{how_pick}</p>
<p class="legend">{legend}</p>
<div class="scroll">
<table>
<thead><tr><th scope="col">library</th>{head}</tr></thead>
{_body(doc, profiles, keys)}
<tfoot>
{_counts_rows(doc, profiles, keys)}
</tfoot>
</table>
</div>
<p class="env">How each outcome is measured: the
<a href="compat-matrix/">compatibility matrix page</a> of the documentation
(<code>docs/compat-matrix.md</code> in the repository).</p>
</body></html>
"""
