"""SARIF 2.1.0: one run, the catalog as the tool's rules, one result per finding."""

from __future__ import annotations

import json
import os
from typing import Any

from patchkit import rules
from patchkit._version import __version__
from patchkit.findings import Finding, Report

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def render(report: Report) -> str:
    return json.dumps(as_sarif(report), indent=2) + "\n"


def as_sarif(report: Report) -> dict[str, Any]:
    catalog = list(rules.CATALOG)
    index = {rule.code: i for i, rule in enumerate(catalog)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "patchkit",
                "version": __version__,
                "rules": [_rule(rule) for rule in catalog],
            }
        },
        "results": [_result(f, index[f.code]) for f in report.findings],
        "invocations": [_invocation(report)],
    }
    if report.processes:
        run["properties"] = {"processes": [dict(p) for p in report.processes]}
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(rule: rules.Rule) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.what or rule.summary},
        "help": {"text": rule.fix},
        "properties": {"docs": f"docs/rules/{rule.code}.md", "tags": [rule.severity]},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": f"{finding.message}. Fix: {finding.fix}"},
        "properties": {"module": finding.module, "object": finding.object},
    }
    if finding.file:
        physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(finding.file)}}
        if finding.line:
            physical["region"] = {"startLine": finding.line}
        result["locations"] = [{"physicalLocation": physical}]
    if finding.stack:
        result["properties"]["stack"] = list(finding.stack)
    if finding.process is not None:
        result["properties"]["process"] = finding.process
        if finding.detail.get("processes"):
            result["properties"]["processes"] = list(finding.detail["processes"])
    return result


def _uri(path: str) -> str:
    """Relative to the working directory when inside it (what code-scanning UIs expect)."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    if not relative.startswith(".."):
        return relative.replace(os.sep, "/")
    return "file://" + absolute.replace(os.sep, "/")


def _invocation(report: Report) -> dict[str, Any]:
    outcome = report.outcome
    done = outcome is None or outcome.status in ("completed", "exit", "static")
    out: dict[str, Any] = {"executionSuccessful": done}
    if outcome is not None and outcome.exit_code is not None:
        out["exitCode"] = outcome.exit_code
    return out
