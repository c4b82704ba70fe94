"""``patchkit audit [OPTIONS] (TARGET | -m MODULE) [ARGS...]``: run a program under the detectors.

The target runs in a child interpreter (see ``patchkit.audit``); this side merges the child's
findings with the static check of the entry file, filters, renders, and picks the exit status
(SPEC's table, ``EXIT_STATUSES`` below). Like python, audit's options come before the target and
every word after it belongs to the target.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from typing import Any

from patchkit import baseline, progress, rules
from patchkit.audit.advice import fit_fixes
from patchkit.commands import Parser, milliseconds, seconds, warn, write_stdout
from patchkit.commands.static import static_report
from patchkit.config import ProjectConfig, load_config
from patchkit.detect.static import check_entry_file
from patchkit.errors import PatchkitError
from patchkit.findings import SEVERITIES, Finding, Outcome, Report
from patchkit.formats import FORMATS, render, sarif
from patchkit.formats.outcome import exit_status
from patchkit.formats.text import wants_color
from patchkit.suppress import filter_findings
from patchkit.target import Target, split_target

DEFAULT_TIMEOUT_S = 30.0
DURATION_GRACE_S = 30.0  # with --duration and no --timeout: time to stop before "it hung"

EXIT_STATUSES = """exit status:
  0  the target finished normally (exit 0, or stopped by --duration) and no finding at or
     above --fail-on
  1  findings at or above --fail-on, however the target ended
  2  patchkit could not do its job: usage error, missing or unreadable target, a patchkit
     config or profile error (also one raised inside the target)
  3  no such findings, but the target did not finish normally: it raised, exited non-zero,
     timed out, was killed by a signal or was interrupted

Options come before TARGET; every word after TARGET (or -m MODULE) goes to the target, as
with python:  patchkit audit --format json -o report.json app.py --port 8000
Seconds (--timeout, --duration) and milliseconds (--threshold) must be above 0 and at most
one week."""


def parser() -> Parser:
    p = Parser(
        prog="patchkit audit",
        usage="patchkit audit [OPTIONS] (TARGET | -m MODULE) [ARGS...]",
        description="Run TARGET (or read it, with --static) and report what blocks the hub.",
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = p.add_argument
    add("--profile", metavar="P", help="apply P before the target runs (default: observe as is)")
    add("--static", action="store_true", help="read each entry file and its import closure; "
        "run nothing (TARGET and ARGS are entry files; none: [tool.patchkit] entry)")  # fmt: skip
    add("--no-cache", action="store_true", help="--static: parse every file again")
    add("--format", choices=tuple(FORMATS), default="text")
    add("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    add("--timeout", type=seconds, metavar="S", help="seconds before the target counts as hung "
        f"(default {DEFAULT_TIMEOUT_S:g}; with --duration, S + {DURATION_GRACE_S:g})")  # fmt: skip
    add("--duration", type=seconds, metavar="S", help="stop the target after S seconds, gracefully "
        "(servers under traffic); the outcome is 'stopped', not a failure")  # fmt: skip
    add("--threshold", type=milliseconds, default=100.0, metavar="MS", help="PK302 (default 100)")
    add("--fail-on", choices=SEVERITIES, default="warning", help="exit 1 at this severity")
    add("--select", type=_codes, action="extend", default=[], metavar="CODES",
        help="only these codes or prefixes (a,b; repeatable)")  # fmt: skip
    add("--ignore", type=_codes, action="extend", default=[], metavar="CODES",
        help="never these codes or prefixes (a,b; repeatable)")  # fmt: skip
    once = p.add_mutually_exclusive_group()
    once.add_argument("--baseline", metavar="FILE",
        help="report only findings FILE does not accept (written by --write-baseline)")  # fmt: skip
    once.add_argument("--write-baseline", metavar="FILE",
        help="accept every finding of this run: write them to FILE and exit 0")  # fmt: skip
    add("--color", choices=("auto", "always", "never"), default="auto",
        help="colour the text report (auto: stdout is a terminal, NO_COLOR unset; "
        "FORCE_COLOR set forces it)")  # fmt: skip
    return p


def _codes(text: str) -> tuple[str, ...]:
    try:
        return rules.parse_codes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: Sequence[str]) -> int:
    p = parser()
    own, target = split_target(argv, p.value_options())
    options = p.parse_args(own)
    if target is None and not options.static:
        p.error("missing TARGET or -m MODULE")
    config = load_config()
    accepted = baseline.load(options.baseline) if options.baseline else None
    if options.static:
        report = static_report(target, config, options)
    else:
        assert target is not None
        target.check()
        report = _run(target, options)
    report = dataclasses.replace(
        report, findings=tuple(_selected(report.findings, options, config))
    )
    if options.write_baseline:
        count = baseline.write(options.write_baseline, report.findings, config.root)
        warn(f"patchkit audit: wrote {count} finding(s) to {options.write_baseline}")
        return 0
    everything = report
    if accepted is not None:
        new, old = baseline.split(report.findings, accepted, config.root)
        report = dataclasses.replace(report, findings=tuple(new))
        if old:
            warn(f"patchkit audit: {len(old)} finding(s) accepted by {options.baseline} not shown")
    _emit(everything if options.format == "sarif" else report, options, accepted, config.root)
    return status(report, options.fail_on)


def _selected(findings, options: argparse.Namespace, config: ProjectConfig) -> list[Finding]:
    return filter_findings(
        findings,
        select=options.select,
        ignore=options.ignore,
        config_ignore=config.ignore,
        exclude=config.exclude,
        per_file_ignores=config.per_file_ignores,
        root=config.root,
    )


def status(report: Report, fail_on: str) -> int:
    """0, 1 or 3 as SPEC's table says (2 never gets this far: it is raised as PatchkitError)."""
    limit = SEVERITIES.index(fail_on)
    if any(SEVERITIES.index(f.severity) <= limit for f in report.findings):
        return 1
    if report.outcome is not None and not report.outcome.finished_normally:
        return 3
    return 0


def _run(target: Target, options: argparse.Namespace) -> Report:
    from patchkit.audit.launcher import run_child

    timeout = options.timeout
    if timeout is None:
        timeout = DEFAULT_TIMEOUT_S if options.duration is None else options.duration + 30.0
    extra = {"duration": options.duration} if options.duration is not None else {}
    shown = _progress(options)
    try:
        result = run_child(
            target,
            profile=options.profile,
            timeout=timeout,
            threshold=options.threshold / 1000.0,
            on_start=shown.start if shown is not None else None,
            **extra,
        )
    finally:
        if shown is not None:
            shown.stop()
    if result.error:
        raise PatchkitError(result.error)
    findings = fit_fixes(_dedupe(result.findings + _static(target)), target.kind, target.name)
    return Report(
        tuple(findings),
        target.display,
        "run",
        _applied_profile(result.patches) or options.profile,
        _as_the_os_saw_it(result.outcome),
        tuple(result.patches),
        tuple(result.processes),
    )


def _applied_profile(patches: Sequence[dict[str, Any]]) -> str | None:
    """The profile the target really ran under, with its source: "web (pyproject.toml)"."""
    for record in reversed(patches):
        name = record.get("profile")
        if name:
            source = record.get("profile_source")
            return f"{name} ({source})" if source else str(name)
    return None


def _as_the_os_saw_it(outcome: Outcome) -> Outcome:
    """The exit code the process really returned: ``sys.exit(True)`` is 1, ``sys.exit(256)`` 0."""
    code = exit_status(outcome.exit_code)
    if code == outcome.exit_code and type(code) is type(outcome.exit_code):
        return outcome
    return Outcome(outcome.status, code, outcome.duration_s, outcome.message)


def _static(target: Target) -> list[Finding]:
    """PK501/PK502 for the entry file (the script, or the module's file)."""
    path = target.entry_file()
    return [] if path is None else list(check_entry_file(path))


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[object, ...]] = set()
    out = []
    for finding in findings:
        key = (finding.code, finding.file, finding.line, finding.message, finding.process)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out


def _progress(options: argparse.Namespace) -> progress.Progress | None:
    """The status line, unless a machine reads the report from a pipe (json/sarif to stdout)."""
    if options.format != "text" and options.output is None and not _is_tty(sys.stdout):
        return None
    return progress.for_audit()


def _is_tty(stream: Any) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):
        return False


def _emit(
    report: Report,
    options: argparse.Namespace,
    accepted: frozenset[baseline.Key] | None = None,
    root: str | None = None,
) -> None:
    to_terminal = options.output is None and _is_tty(sys.stdout)
    if options.format == "sarif":
        text = sarif.render(report, accepted, root)
    else:
        color = options.format == "text" and wants_color(options.color, to_terminal, os.environ)
        text = render(report, options.format, color=color)
    if not text.endswith("\n"):
        text += "\n"
    if options.output is None:
        write_stdout(text)
        return
    try:
        with open(options.output, "wb") as handle:
            handle.write(text.encode("utf-8", "surrogateescape"))
    except (OSError, UnicodeEncodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise PatchkitError(f"{options.output}: cannot write ({why})") from None
