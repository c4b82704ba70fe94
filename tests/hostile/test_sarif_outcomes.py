"""SARIF stays schema-valid for every outcome, and its URIs are percent-encoded under %SRCROOT%."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from patchkit.findings import OUTCOMES, Finding, Outcome, Report
from patchkit.formats import FORMATS, render
from tests.hostile.cli_helpers import assert_valid_sarif

CASES = [
    Outcome("completed", 0, 0.1),
    Outcome("exception", 1, 0.1, "ValueError: boom (raised at app.py:3)"),
    Outcome("exit", True, 0.1, "sys.exit(True)"),  # a bool from the target, as the child saw it
    Outcome("exit", 256, 0.1, "sys.exit(256)"),
    Outcome("exit", 3, 0.1),
    Outcome("timeout", None, 30.0, "did not finish within 30 s; stuck at:\n  app.py:9 in main"),
    Outcome("killed", -9, 0.2),
    Outcome("interrupted", 130, 1.0),
    Outcome("stopped", 0, 10.0),
    Outcome("static"),
]


def invocation(outcome: Outcome) -> dict:
    document = json.loads(render(Report((), "app.py", "run", None, outcome), "sarif"))
    assert_valid_sarif(document)
    (inv,) = document["runs"][0]["invocations"]
    return inv


def test_cases_cover_every_outcome() -> None:
    assert {c.status for c in CASES} == {*OUTCOMES, "static"}


@pytest.mark.parametrize("outcome", CASES, ids=lambda o: f"{o.status}-{o.exit_code}")
def test_every_outcome_gives_valid_sarif_and_honest_success(outcome: Outcome) -> None:
    inv = invocation(outcome)
    assert inv["executionSuccessful"] is outcome.finished_normally
    code = inv.get("exitCode")
    assert code is None or type(code) is int


def test_exit_codes_are_the_status_the_os_reports() -> None:
    assert invocation(Outcome("exit", True))["exitCode"] == 1
    assert invocation(Outcome("exit", 256))["exitCode"] == 0


def test_a_signal_is_named_and_never_successful() -> None:
    inv = invocation(Outcome("killed", -9, 0.2))
    assert inv["executionSuccessful"] is False and "exitCode" not in inv
    assert inv["exitSignalName"] == "SIGKILL" and inv["exitSignalNumber"] == 9
    assert "killed by SIGKILL" in inv["toolExecutionNotifications"][0]["message"]["text"]


def test_text_and_json_say_the_same_outcome() -> None:
    outcome = Outcome("killed", -15, 0.2)
    text = render(Report((), "app.py", "run", None, outcome), "text")
    assert text.splitlines()[1].startswith("target was killed by SIGTERM")
    assert "No findings.\n" not in text
    data = json.loads(render(Report((), "app.py", "run", None, outcome), "json"))
    assert data["outcome"]["status"] == "killed"


def test_uris_are_percent_encoded_and_relative_to_srcroot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    inside = str(tmp_path / "sub dir" / "a#b%c é.py")
    findings = (
        Finding("PK301", "sleep", file=inside, line=2),
        Finding("PK301", "sleep", file="rel.py", line=3),
        Finding("PK302", "stall", file="/elsewhere/x y.py", line=4),
        Finding("PK302", "stall", file=os.fsdecode(b"/elsewhere/n\xff.py"), line=5),
    )
    document = json.loads(render(Report(findings, "app.py", "run"), "sarif"))
    assert_valid_sarif(document)
    run = document["runs"][0]
    root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root.startswith("file:///") and root.endswith("/")
    assert root == tmp_path.as_uri() + "/"
    places = {}
    for r in run["results"]:  # outside the project: a related location, never a location
        (where,) = r.get("locations", []) + r.get("relatedLocations", [])
        assert ("locations" in r) == (where["physicalLocation"]["region"]["startLine"] < 4)
        places[where["physicalLocation"]["region"]["startLine"]] = where["physicalLocation"][
            "artifactLocation"
        ]
    assert places[2] == {"uri": "sub%20dir/a%23b%25c%20%C3%A9.py", "uriBaseId": "%SRCROOT%"}
    assert places[3] == {"uri": "rel.py", "uriBaseId": "%SRCROOT%"}
    assert places[4] == {"uri": "file:///elsewhere/x%20y.py"}
    assert places[5] == {"uri": "file:///elsewhere/n%FF.py"}


def test_the_registry_is_what_format_accepts() -> None:
    from patchkit.commands import audit

    (action,) = [a for a in audit.parser()._actions if "--format" in a.option_strings]
    assert tuple(action.choices) == tuple(FORMATS) == ("text", "json", "sarif")
