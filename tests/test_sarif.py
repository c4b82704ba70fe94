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
            Finding(
                "PK102", "retry.sleep is the original time.sleep", file="retry.py", line=3
            ),
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
