"""``patchkit audit [OPTIONS] (TARGET | -m MODULE) [ARGS...]``: run a program under the detectors.

The target runs in a child interpreter (see ``patchkit.audit``); this side merges the child's
findings with the static check of the entry file, filters, renders, and picks the exit status:
0 nothing at or above ``--fail-on``, 1 findings, 2 usage error or a target that cannot be audited.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import sys
from collections.abc import Sequence

from patchkit import rules
from patchkit.commands import Parser
from patchkit.errors import PatchkitError
from patchkit.findings import SEVERITIES, Finding, Report
from patchkit.target import Target, split_target

VALUE_OPTIONS = (
    "--profile",
    "--format",
    "--timeout",
    "--threshold",
    "--fail-on",
    "--select",
    "--ignore",
    "--output",
)


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="patchkit audit",
        usage="patchkit audit [OPTIONS] (TARGET | -m MODULE) [ARGS...] [OPTIONS] [-- ARGS...]",
        description="Run TARGET (or read it, with --static) and report what blocks the hub. "
        "audit's own options may also follow the target (`patchkit audit app.py --format json`); "
        "after `--`, every word goes to the target.",
    )
    add = p.add_argument
    add("--profile", metavar="P", help="apply P before the target runs (default: observe as is)")
    add("--static", action="store_true", help="read the entry file's source only; run nothing")
    add("--format", choices=("text", "json", "sarif"), default="text")
    add("--timeout", type=_positive, default=30.0, metavar="S", help="seconds (default 30)")
    add("--threshold", type=_positive, default=100.0, metavar="MS", help="PK302 (default 100)")
    add("--fail-on", choices=SEVERITIES, default="warning", help="exit 1 at this severity")
    add("--select", type=_codes, default=(), metavar="CODES", help="only these codes (a,b)")
    add("--ignore", type=_codes, default=(), metavar="CODES", help="never these codes (a,b)")
    add("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    return p


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _codes(text: str) -> tuple[str, ...]:
    codes = tuple(code.strip().upper() for code in text.split(",") if code.strip())
    for code in codes:
        if not any(known.startswith(code) for known in rules.codes()):
            raise argparse.ArgumentTypeError(f"unknown rule code {code!r}")
    return codes


FLAG_OPTIONS = ("--static",)


def _own_options_after(target: Target) -> tuple[list[str], Target]:
    """Take audit's options out of the target's arguments, up to a ``--``.

    SPEC's ``patchkit audit app.py --format json | jq`` puts them after the target; a target
    that needs a word such as ``--format`` for itself gets it after ``--``.
    """
    own: list[str] = []
    rest: list[str] = []
    words = iter(target.args)
    for word in words:
        name = word.partition("=")[0]
        if word == "--":
            rest.extend(words)
        elif word in FLAG_OPTIONS or (name in VALUE_OPTIONS and "=" in word):
            own.append(word)
        elif word in VALUE_OPTIONS:
            value = next(words, None)  # missing: argparse says "expected one argument"
            own += [word] if value is None else [word, value]
        else:
            rest.append(word)
    return own, Target(target.kind, target.name, tuple(rest))


def main(argv: Sequence[str]) -> int:
    p = parser()
    own, target = split_target(argv, VALUE_OPTIONS)
    if target is None:
        p.parse_args(own)
        p.error("missing TARGET or -m MODULE")
    trailing, target = _own_options_after(target)
    options = p.parse_args(own + trailing)
    target.check()
    config_ignore = _config_ignore()
    if options.static:
        report = Report(tuple(_static(target)), target.display, "static", options.profile)
    else:
        report = _run(target, options)
    findings = _filter(list(report.findings), options, config_ignore)
    report = dataclasses.replace(report, findings=tuple(findings))
    _emit(report, options)
    limit = SEVERITIES.index(options.fail_on)
    return 1 if any(SEVERITIES.index(f.severity) <= limit for f in findings) else 0


def _run(target: Target, options: argparse.Namespace) -> Report:
    from patchkit.audit.launcher import run_child

    result = run_child(
        target,
        profile=options.profile,
        timeout=options.timeout,
        threshold=options.threshold / 1000.0,
    )
    if result.error:
        raise PatchkitError(result.error)
    findings = _dedupe(result.findings + _static(target))
    return Report(
        tuple(findings),
        target.display,
        "run",
        options.profile,
        result.outcome,
        tuple(result.patches),
        tuple(result.processes),
    )


def _static(target: Target) -> list[Finding]:
    """PK501/PK502 for the entry file (the script, or the module's file)."""
    path = _entry_file(target)
    if path is None:
        return []
    try:
        from patchkit.detect.static import check_entry_file
    except ImportError:
        return []
    return list(check_entry_file(path))


def _entry_file(target: Target) -> str | None:
    if target.kind == "script":
        path = target.name
        if os.path.isdir(path):
            path = os.path.join(path, "__main__.py")
        return os.path.abspath(path)
    try:
        spec = importlib.util.find_spec(target.name)
        if spec is not None and spec.submodule_search_locations is not None:
            spec = importlib.util.find_spec(f"{target.name}.__main__")
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None and spec.has_location else None


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[object, ...]] = set()
    out = []
    for finding in findings:
        key = (finding.code, finding.file, finding.line, finding.message, finding.process)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out


def _config_ignore() -> tuple[str, ...]:
    """The project's ``ignore`` list (a broken config file is a one-line error, status 2)."""
    try:
        from patchkit.config import load_config
    except ImportError:
        return ()
    return tuple(getattr(load_config(), "ignore", ()) or ())


def _filter(
    findings: list[Finding], options: argparse.Namespace, config_ignore: tuple[str, ...]
) -> list[Finding]:
    try:
        from patchkit.suppress import filter_findings
    except ImportError:
        return _filter_codes(findings, options.select, options.ignore + config_ignore)
    return list(
        filter_findings(
            findings, select=options.select, ignore=options.ignore, config_ignore=config_ignore
        )
    )


def _filter_codes(
    findings: list[Finding], select: tuple[str, ...], ignore: tuple[str, ...]
) -> list[Finding]:
    """Code filtering alone, for when the suppression module is not there."""
    if select:
        findings = [f for f in findings if f.code.startswith(select)]
    return [f for f in findings if not (ignore and f.code.startswith(ignore))]


def _emit(report: Report, options: argparse.Namespace) -> None:
    to_terminal = options.output is None and sys.stdout.isatty()
    color = to_terminal and options.format == "text" and "NO_COLOR" not in os.environ
    try:
        from patchkit.formats import render

        text = render(report, options.format, color=color)
    except ImportError:
        text = json.dumps(report.as_dict(), indent=2)
    if not text.endswith("\n"):
        text += "\n"
    if options.output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        with open(options.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise PatchkitError(f"{options.output}: cannot write ({exc.strerror})") from None
