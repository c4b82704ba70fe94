"""Findings are values: detectors return them, formatters render them, nothing else touches them."""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from patchkit import rules
from patchkit._version import __version__

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One problem, with the place to fix it.

    ``fix`` defaults to the catalog's advice for the rule; a detector passes a more specific one
    when it knows better (the exact integration to call, say). ``stack`` holds
    ``"file:line in function"`` strings, innermost last.
    """

    code: str
    message: str
    module: str | None = None
    file: str | None = None
    line: int | None = None
    object: str | None = None
    fix: str = ""
    stack: tuple[str, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    process: int | None = None  # the pid that found it, in an audit that followed several

    def __post_init__(self) -> None:
        rule = rules.get(self.code)  # raises KeyError for a code that is not in the catalog
        if not self.fix:
            object.__setattr__(self, "fix", rule.fix)
        object.__setattr__(self, "stack", tuple(self.stack))

    @property
    def name(self) -> str:
        return rules.get(self.code).name

    @property
    def severity(self) -> str:
        return rules.get(self.code).severity

    @property
    def location(self) -> str:
        if self.file is None:
            return self.module or "<unknown>"
        return f"{self.file}:{self.line}" if self.line else self.file

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "module": self.module,
            "file": self.file,
            "line": self.line,
            "object": self.object,
            "fix": self.fix,
            "stack": list(self.stack),
        }
        if self.detail:
            out["detail"] = dict(self.detail)
        out["process"] = self.process
        return out


# How a target can end. SPEC's exit-status table: completed, stopped (by --duration) and exit 0
# are normal; everything else makes an audit without findings exit 3.
OUTCOMES = ("completed", "exception", "exit", "timeout", "killed", "interrupted", "stopped")


@dataclass(frozen=True)
class Outcome:
    """How the audited target ended (one of ``OUTCOMES``, or ``static``: not run)."""

    status: str
    exit_code: int | None = None
    duration_s: float | None = None
    message: str | None = None

    @property
    def finished_normally(self) -> bool:
        """It ran to the end with status 0, or ``--duration`` stopped it (exit status 0 allowed)."""
        if self.status in ("completed", "stopped", "static"):
            return True
        return self.status == "exit" and self.exit_code == 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "exit_code": self.exit_code,
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
        }
        if self.message:
            out["message"] = self.message
        return out


@dataclass(frozen=True)
class Report:
    """Everything one audit or scan produced; the JSON form is SPEC's schema 1."""

    findings: tuple[Finding, ...] = ()
    target: str | None = None
    mode: str = "scan"
    profile: str | None = None
    outcome: Outcome | None = None
    patches: tuple[Mapping[str, Any], ...] = ()
    processes: tuple[Mapping[str, Any], ...] = ()  # {"pid", "role", "argv"}: main first

    def __post_init__(self) -> None:
        object.__setattr__(self, "findings", tuple(sort_findings(self.findings)))
        object.__setattr__(self, "patches", tuple(self.patches))
        object.__setattr__(self, "processes", tuple(self.processes))

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITIES, 0)
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        import gevent

        return {
            "schema": 1,
            "patchkit": __version__,
            "target": self.target,
            "mode": self.mode,
            "profile": self.profile,
            "python": platform.python_version(),
            "gevent": gevent.__version__,
            "platform": sys.platform,
            "outcome": self.outcome.as_dict() if self.outcome else None,
            "processes": [dict(p) for p in self.processes],
            "patches": [dict(p) for p in self.patches],
            "findings": [f.as_dict() for f in self.findings],
            "summary": self.summary(),
        }


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then by place, so reports are stable from run to run."""
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(
        findings,
        key=lambda f: (order[f.severity], f.code, f.file or "", f.line or 0, f.message),
    )
