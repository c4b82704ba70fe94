"""SARIF 2.1.0: one run, the catalog as the tool's rules, one result per finding.

The invocation describes the audited target's run: ``executionSuccessful`` only when it finished
normally, ``exitCode`` the integer status the OS reported (``sys.exit(256)`` is 0, as ``$?`` shows;
``sys.exit(True)`` is 1), ``exitSignalName`` when a signal killed it. Locations are relative to
``%SRCROOT%``, the working directory, given in ``originalUriBaseIds``.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

from patchkit import rules
from patchkit._version import __version__
from patchkit.findings import Finding, Report
from patchkit.formats.outcome import exit_status, headline, signal_name

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
ROOT = "%SRCROOT%"  # the base GitHub code scanning and SARIF viewers know: the checkout
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def render(report: Report) -> str:
    return json.dumps(as_sarif(report), indent=2) + "\n"


def as_sarif(report: Report) -> dict[str, Any]:
    catalog = list(rules.CATALOG)
    index = {rule.code: i for i, rule in enumerate(catalog)}
    here = _cwd()
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "patchkit",
                "version": __version__,
                "rules": [_rule(rule) for rule in catalog],
            }
        },
        "results": [_result(f, index[f.code], here) for f in report.findings],
        "invocations": [_invocation(report)],
    }
    if report.processes:
        run["properties"] = {"processes": [dict(p) for p in report.processes]}
    if here is not None:
        run["originalUriBaseIds"] = {ROOT: {"uri": _file_uri(os.path.join(here, ""))}}
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


def _result(finding: Finding, rule_index: int, here: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": f"{finding.message}. Fix: {finding.fix}"},
        "properties": {"module": finding.module, "object": finding.object},
    }
    if finding.file and not finding.file.startswith("<"):  # "<string>" is no file
        physical: dict[str, Any] = {"artifactLocation": _location(finding.file, here)}
        if finding.line:
            physical["region"] = {"startLine": finding.line}
        result["locations"] = [{"physicalLocation": physical}]
    if finding.detail.get("static"):  # read from source, not seen in a running process
        result["properties"]["static"] = True
        result["properties"]["chain"] = list(finding.detail.get("chain") or ())
    if finding.stack:
        result["properties"]["stack"] = list(finding.stack)
    if finding.process is not None:
        result["properties"]["process"] = finding.process
        if finding.detail.get("processes"):
            result["properties"]["processes"] = list(finding.detail["processes"])
    return result


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:  # deleted: every location is then an absolute URI
        return None


def _file_uri(absolute: str) -> str:
    """``file://`` and the percent-encoded bytes of the name (valid even if not UTF-8)."""
    return "file://" + quote(os.fsencode(absolute).replace(os.sep.encode(), b"/"), safe="/")


def _location(path: str, here: str | None) -> dict[str, Any]:
    """Relative to ``%SRCROOT%`` (what code-scanning UIs expect) when inside it, else absolute."""
    absolute = os.path.normpath(os.path.join(here, path) if here else path)
    if here is not None:
        relative = os.path.relpath(absolute, here)
        if relative != os.pardir and not relative.startswith(os.pardir + os.sep):
            encoded = os.fsencode(relative).replace(os.sep.encode(), b"/")
            return {"uri": quote(encoded, safe="/"), "uriBaseId": ROOT}
    return {"uri": _file_uri(absolute)}


def _invocation(report: Report) -> dict[str, Any]:
    """How the target ran: successful only if it finished normally; the status as an integer."""
    outcome = report.outcome
    if outcome is None:
        return {"executionSuccessful": True}
    out: dict[str, Any] = {"executionSuccessful": outcome.finished_normally}
    code = exit_status(outcome.exit_code)
    name = signal_name(outcome)
    if name is not None and code is not None:
        out["exitSignalName"] = name
        out["exitSignalNumber"] = -code
    elif code is not None:
        out["exitCode"] = code
    line = headline(outcome)
    if line is not None:
        level = "note" if outcome.finished_normally else "error"
        out["toolExecutionNotifications"] = [{"level": level, "message": {"text": line}}]
    out["properties"] = {"outcome": outcome.as_dict()}
    return out
