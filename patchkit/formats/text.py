"""The report for people: findings grouped by severity, each with its place and its fix."""

from __future__ import annotations

import os
from collections.abc import Mapping

from patchkit.findings import SEVERITIES, Finding, Outcome, Report
from patchkit.formats.outcome import details, headline

_COLORS = {"error": "31", "warning": "33", "info": "36", "dim": "2", "bold": "1"}


def render(report: Report, color: bool = False) -> str:
    paint = _painter(color)
    lines: list[str] = []
    if report.target:
        title = "patchkit scan" if report.mode == "scan" else "patchkit audit"
        lines.append(paint("bold", f"{title}: {report.target} ({report.mode})"))
    if report.outcome is not None:
        lines += _outcome(report.outcome, paint)
    names = _process_names(report)
    if len(names) > 1:  # a prefork server or a pool: say which processes were audited
        lines.append("processes: " + ", ".join(names.values()))
    for severity in SEVERITIES:
        group = [f for f in report.findings if f.severity == severity]
        if not group:
            continue
        lines += ["", paint(severity, f"{severity.upper()}S ({len(group)})")]
        for finding in group:
            lines += _finding(finding, paint, names if len(names) > 1 else {})
    lines += ["", _summary(report)]
    return _relative("\n".join(lines).lstrip("\n") + "\n")


def _relative(text: str) -> str:
    """People read paths relative to where they stand; JSON and SARIF keep them absolute."""
    try:
        here = os.getcwd().rstrip(os.sep) + os.sep
    except OSError:  # the working directory was deleted: keep the paths absolute
        return text
    return text.replace(here, "") if here != os.sep else text


def _finding(finding: Finding, paint, names: dict[int, str]) -> list[str]:
    head = f"{finding.location}: {paint(finding.severity, finding.code)} {finding.name}"
    if finding.detail.get("static"):
        head += f" {paint('dim', '(static)')}"
    out = [head, f"    {finding.message}", f"    {paint('dim', 'fix:')} {finding.fix}"]
    if finding.detail.get("chain"):
        out.insert(2, f"    {paint('dim', 'imported via')} {' -> '.join(finding.detail['chain'])}")
    pids = list(finding.detail.get("processes") or [finding.process])
    where = [names[pid] for pid in pids if pid in names]
    if where:
        out.insert(1, f"    {paint('dim', 'in')} {', '.join(where)}")
    out += [
        "    ..." if frame == "..." else f"    {paint('dim', 'at')} {frame}"
        for frame in _shown(finding.stack)
    ]
    return out


def _shown(stack: tuple[str, ...]) -> list[str]:
    """The outermost frame (where the user's code started it) and the innermost four."""
    if len(stack) <= 5:
        return list(stack)
    return [stack[0], "...", *stack[-4:]]


def _process_names(report: Report) -> dict[int, str]:
    """``{pid: "worker 2 (pid 4711)"}``: workers and children numbered in the order they started."""
    out: dict[int, str] = {}
    seen: dict[str, int] = {}
    for proc in report.processes:
        role = proc.get("role", "child")
        seen[role] = seen.get(role, 0) + 1
        number = "" if role == "main" else f" {seen[role]}"
        out[proc["pid"]] = f"{role}{number} (pid {proc['pid']})"
    return out


def _outcome(outcome: Outcome, paint) -> list[str]:
    first = headline(outcome)
    if first is None:
        return []
    if not outcome.finished_normally:
        first = paint("bold", first)
    return [first, *(f"  {line}" for line in details(outcome))]


def _summary(report: Report) -> str:
    counts = report.summary()
    if not report.findings:
        if report.outcome is not None and not report.outcome.finished_normally:
            return "No findings in what ran, but the target did not finish normally (see above)."
        return "No findings."
    parts = [f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}" for s in SEVERITIES if counts[s]]
    return f"Found {len(report.findings)} finding(s): {', '.join(parts)}."


def _painter(color: bool):
    def paint(style: str, text: str) -> str:
        return f"\033[{_COLORS[style]}m{text}\033[0m" if color else text

    return paint


def wants_color(mode: str, to_terminal: bool, environ: Mapping[str, str]) -> bool:
    """``--color``: always/never as said; auto colours a terminal, as the conventions say.

    ``NO_COLOR`` (no-color.org) set to anything non-empty turns auto's colour off; ``FORCE_COLOR``
    (force-color.org) non-empty turns it on where there is no terminal. NO_COLOR wins if both
    are set, as in pytest.
    """
    if mode != "auto":
        return mode == "always"
    if environ.get("NO_COLOR"):
        return False
    return bool(environ.get("FORCE_COLOR")) or to_terminal
