"""SARIF 2.1.0: one run, the catalog as the tool's rules, one result per finding.

The invocation describes the audited target's run: ``executionSuccessful`` only when it finished
normally, ``exitCode`` the integer status the OS reported (``sys.exit(256)`` is 0, as ``$?`` shows;
``sys.exit(True)`` is 1), ``exitSignalName`` when a signal killed it. Locations are relative to
``%SRCROOT%``, the working directory, given in ``originalUriBaseIds``.

Only the project's own files are a result's ``locations`` (what code scanning annotates): a
finding in an installed package or the stdlib is placed at the innermost project frame of its
stack, and the third-party places go into ``relatedLocations``. Each result carries the baseline
fingerprint (``partialFingerprints["patchkit/v1"]``, see ``patchkit.baseline``); given a
baseline, each says whether the baseline accepted it (``baselineState``: unchanged or new).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection
from typing import Any
from urllib.parse import quote

from patchkit import baseline, rules
from patchkit._frames import is_app_file, is_installed_file
from patchkit._version import __version__
from patchkit.findings import Finding, Report
from patchkit.formats.outcome import exit_status, headline, signal_name

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
ROOT = "%SRCROOT%"  # the base GitHub code scanning and SARIF viewers know: the checkout
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
# Where the rule pages are published: mkdocs.yml's ``site_url`` (a test keeps the two in step).
# It has none yet, so helpUri is the page's path in the repository, relative to the checkout.
DOCS_URL: str | None = None
_FRAME = re.compile(r"^(?P<file>.+):(?P<line>\d+) in .*$")


def render(
    report: Report, accepted: Collection[baseline.Key] | None = None, root: str | None = None
) -> str:
    """The SARIF log; ``accepted`` (a baseline's keys, relative to ``root``) sets baselineState."""
    return json.dumps(as_sarif(report, accepted, root), indent=2) + "\n"


def help_uri(code: str) -> str:
    """The rule's page on the docs site, or its Markdown in the repository without a site."""
    return f"{DOCS_URL.rstrip('/')}/rules/{code}/" if DOCS_URL else f"docs/rules/{code}.md"


def as_sarif(
    report: Report, accepted: Collection[baseline.Key] | None = None, root: str | None = None
) -> dict[str, Any]:
    catalog = list(rules.CATALOG)
    index = {rule.code: i for i, rule in enumerate(catalog)}
    here = _cwd()
    results = []
    for item in baseline.keyed(report.findings, root):
        result = _result(item.finding, index[item.finding.code], here)
        result["partialFingerprints"] = {baseline.FINGERPRINT_KEY: item.fingerprint}
        if accepted is not None:
            result["baselineState"] = "unchanged" if item.key in accepted else "new"
        results.append(result)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "patchkit",
                "version": __version__,
                "rules": [_rule(rule) for rule in catalog],
            }
        },
        "results": results,
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
        "helpUri": help_uri(rule.code),
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
    places = _places(finding)
    own = [place for place in places if _is_project_file(place[0], here)]
    if own:
        result["locations"] = [_physical(*own[0], here)]
    others = [place for place in places if place not in own]
    if others:
        result["relatedLocations"] = [
            {**_physical(file, line, here), "id": i, "message": {"text": "third-party frame"}}
            for i, (file, line) in enumerate(others)
        ]
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


def _places(finding: Finding) -> list[tuple[str, int | None]]:
    """The finding's file, then its stack's frames innermost first, each place once."""
    out: list[tuple[str, int | None]] = []
    if finding.file and not finding.file.startswith("<"):  # "<string>" is no file
        out.append((finding.file, finding.line or None))
    for frame in reversed(finding.stack):
        match = _FRAME.match(frame)
        if match and not match["file"].startswith("<"):
            place = (match["file"], int(match["line"]) or None)
            if place not in out:
                out.append(place)
    return out


def _is_project_file(path: str, here: str | None) -> bool:
    """Under ``%SRCROOT%`` and the user's own: not installed, not the stdlib, not the toolchain."""
    if here is None or is_installed_file(path):
        return False
    absolute = os.path.normpath(os.path.join(here, path))
    relative = os.path.relpath(absolute, here)
    inside = relative != os.pardir and not relative.startswith(os.pardir + os.sep)
    return inside and is_app_file(absolute)


def _physical(path: str, line: int | None, here: str | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _location(path, here)}
    if line:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


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
