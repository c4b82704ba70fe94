"""The report for people: findings grouped by severity, each with its place and its fix."""

from __future__ import annotations

import os

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
    for severity in SEVERITIES:
        group = [f for f in report.findings if f.severity == severity]
        if not group:
            continue
        lines += ["", paint(severity, f"{severity.upper()}S ({len(group)})")]
        for finding in group:
            lines += _finding(finding, paint)
    lines += ["", _summary(report)]
    return _relative("\n".join(lines).lstrip("\n") + "\n")


def _relative(text: str) -> str:
    """People read paths relative to where they stand; JSON and SARIF keep them absolute."""
    try:
        here = os.getcwd().rstrip(os.sep) + os.sep
    except OSError:  # the working directory was deleted: keep the paths absolute
        return text
    return text.replace(here, "") if here != os.sep else text


def _finding(finding: Finding, paint) -> list[str]:
    head = f"{finding.location}: {paint(finding.severity, finding.code)} {finding.name}"
    out = [head, f"    {finding.message}", f"    {paint('dim', 'fix:')} {finding.fix}"]
    out += [f"    {paint('dim', 'at')} {frame}" for frame in finding.stack[-5:]]
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
