"""SARIF 2.1.0 output, validated against the official OASIS schema vendored in tests/data."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from patchkit import rules
from patchkit.findings import Finding, Outcome, Report
from patchkit.formats import render

SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"


def report() -> Report:
    return Report(
        findings=(
            Finding("PK102", "retry.sleep is the original time.sleep", file="retry.py", line=3),
            Finding("PK201", "psycopg2 does its I/O in C", module="psycopg2"),
            Finding(
                "PK301",
                "time.sleep called from a greenlet",
                file="app.py",
                line=9,
                stack=("app.py:9 in handle",),
            ),
        ),
        target="app.py",
        outcome=Outcome("timeout", None, 30.0),
    )


def test_sarif_output_validates_against_the_official_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    log = json.loads(render(report(), "sarif"))
    jsonschema.Draft4Validator(schema).validate(log)


def test_one_result_per_finding_with_rules_from_the_catalog() -> None:
    run = json.loads(render(report(), "sarif"))["runs"][0]
    driver = run["tool"]["driver"]
    assert [r["id"] for r in driver["rules"]] == rules.codes()
    assert [r["ruleId"] for r in run["results"]] == ["PK102", "PK201", "PK301"]
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    first = run["results"][0]
    assert first["level"] == "error"
    assert first["locations"][0]["physicalLocation"]["region"] == {"startLine": 3}
    assert "locations" not in run["results"][1]  # a module-only finding has no file
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False and "exitCode" not in invocation
    assert invocation["properties"]["outcome"]["status"] == "timeout"


def test_empty_report_is_valid_sarif() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft4Validator(schema).validate(json.loads(render(Report(), "sarif")))


def test_rules_link_their_docs_page_and_the_link_follows_mkdocs_site_url() -> None:
    import re

    from patchkit.formats import sarif

    repo = Path(__file__).resolve().parent.parent
    found = re.search(r"^site_url:\s*(\S+)", (repo / "mkdocs.yml").read_text(), re.M)
    site_url = found.group(1).strip("'\"") if found else None
    assert site_url == sarif.DOCS_URL  # kept in step: no site yet, so repository paths
    driver = json.loads(render(report(), "sarif"))["runs"][0]["tool"]["driver"]
    for rule in driver["rules"]:
        assert rule["helpUri"] == f"docs/rules/{rule['id']}.md"
        assert (repo / rule["helpUri"]).is_file()


def test_third_party_frames_are_related_locations_and_the_project_frame_is_the_location(
    tmp_path: Path, monkeypatch
) -> None:
    import sysconfig

    monkeypatch.chdir(tmp_path)
    lib = str(tmp_path / ".venv" / "lib" / "site-packages" / "redis" / "conn.py")
    stdlib = str(Path(sysconfig.get_paths()["stdlib"]) / "socket.py")
    finding = Finding(
        "PK301",
        "socket.recv called from a greenlet",
        file=lib,
        line=40,
        stack=(f"{tmp_path / 'app.py'}:7 in handle", f"{lib}:40 in read", f"{stdlib}:700 in recv"),
    )
    log = json.loads(render(Report((finding,), "app.py", "run"), "sarif"))
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(log)
    (result,) = log["runs"][0]["results"]
    (location,) = result["locations"]
    assert location["physicalLocation"]["artifactLocation"] == {
        "uri": "app.py",
        "uriBaseId": "%SRCROOT%",
    }
    assert location["physicalLocation"]["region"] == {"startLine": 7}
    related = [r["physicalLocation"]["region"]["startLine"] for r in result["relatedLocations"]]
    assert related == [40, 700]
    assert [r["id"] for r in result["relatedLocations"]] == [0, 1]


def test_every_result_has_a_fingerprint_and_a_baseline_marks_its_state() -> None:
    from patchkit import baseline
    from patchkit.formats import sarif

    findings = report().findings
    keys = [k.key for k in baseline.keyed(findings)]
    log = json.loads(sarif.render(report(), accepted=frozenset(keys[:1])))
    results = log["runs"][0]["results"]
    assert [r["partialFingerprints"]["patchkit/v1"] for r in results] == [k[2] for k in keys]
    assert [r["baselineState"] for r in results] == ["unchanged", "new", "new"]
    assert all(
        "baselineState" not in r
        for r in json.loads(render(report(), "sarif"))["runs"][0]["results"]
    )
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(log)
