"""The writers: text for people, JSON in SPEC's schema 1."""

from __future__ import annotations

import json

import pytest

from patchkit.errors import PatchkitError
from patchkit.findings import Finding, Outcome, Report
from patchkit.formats import render


def sample() -> Report:
    return Report(
        findings=(
            Finding(
                "PK102",
                "retry.sleep is the original time.sleep, which blocks the hub for the whole call",
                module="retry",
                file="/abs/retry.py",
                line=3,
                object="time.sleep",
            ),
            Finding("PK501", "`requests` is imported before the patch call", file="app.py", line=1),
            Finding("PK201", "psycopg2 does its I/O in C", module="psycopg2", object="psycopg2"),
        ),
        target="app.py",
        mode="run",
        outcome=Outcome("completed", 0, 0.41),
        patches=({"module": "time", "items": ["sleep"], "requested_by": "app.py:4"},),
    )


def test_text_groups_by_severity_with_place_message_and_fix() -> None:
    text = render(sample(), "text")
    errors, warnings = text.index("ERRORS (2)"), text.index("WARNINGS (1)")
    assert errors < text.index("/abs/retry.py:3: PK102 stale-global") < warnings
    assert warnings < text.index("app.py:1: PK501 import-before-patch")
    assert "    fix: Look the function up" not in text  # the catalog fix of PK103 is not PK102's
    assert "    fix: Import the module, not the name" in text
    assert "psycopg2: PK201 blocking-extension" in text  # no file: the module is the place
    assert text.startswith("patchkit audit: app.py (run)\ntarget completed (exit code 0) in 0.41 s")
    assert text.rstrip().endswith("Found 3 finding(s): 2 errors, 1 warning.")
    assert "\033[" not in text


def test_text_uses_color_only_when_asked() -> None:
    assert "\033[31mPK102\033[0m" in render(sample(), "text", color=True)


def test_text_of_an_empty_report_says_so() -> None:
    assert render(Report(), "text").strip() == "No findings."


def test_json_is_schema_1_exactly() -> None:
    data = json.loads(render(sample(), "json"))
    assert list(data) == [
        "schema", "patchkit", "target", "mode", "profile", "python", "gevent", "platform",
        "outcome", "processes", "patches", "findings", "summary",
    ]  # fmt: skip
    assert data["schema"] == 1
    assert data["outcome"] == {"status": "completed", "exit_code": 0, "duration_s": 0.41}
    assert data["summary"] == {"error": 2, "warning": 1, "info": 0}
    first = data["findings"][0]
    assert list(first) == [
        "code", "name", "severity", "message", "module", "file", "line", "object", "fix", "stack",
        "process",
    ]  # fmt: skip
    assert (first["code"], first["file"], first["line"]) == ("PK102", "/abs/retry.py", 3)


def test_unknown_format_is_a_patchkit_error() -> None:
    with pytest.raises(PatchkitError, match="unknown format"):
        render(sample(), "xml")


@pytest.mark.parametrize(
    ("mode", "tty", "env", "expected"),
    [
        ("auto", True, {}, True),
        ("auto", False, {}, False),
        ("auto", True, {"NO_COLOR": "1"}, False),
        ("auto", True, {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value counts
        ("auto", False, {"FORCE_COLOR": "1"}, True),
        ("auto", False, {"FORCE_COLOR": ""}, False),
        ("auto", False, {"FORCE_COLOR": "0"}, True),  # any non-empty value forces it
        ("auto", True, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        ("always", False, {"NO_COLOR": "1"}, True),
        ("never", True, {"FORCE_COLOR": "1"}, False),
    ],
)
def test_color_follows_the_option_then_the_conventions(
    mode: str, tty: bool, env: dict[str, str], expected: bool
) -> None:
    from patchkit.formats.text import wants_color

    assert wants_color(mode, tty, env) is expected


def test_audit_color_option_and_force_color_reach_the_report(tmp_path) -> None:
    from tests.helpers import clean_env, run_patchkit

    (tmp_path / "helper.py").write_text("X = 1\n")
    (tmp_path / "app.py").write_text(
        "import helper\nfrom gevent import monkey\nmonkey.patch_all()\n"
    )
    env = {k: v for k, v in clean_env().items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    plain = run_patchkit("audit", "app.py", cwd=tmp_path, env=env)
    assert "\033[" not in plain.stdout and "PK501" in plain.stdout
    always = run_patchkit("audit", "--color", "always", "app.py", cwd=tmp_path, env=env)
    assert "\033[33mPK501\033[0m" in always.stdout
    forced = run_patchkit("audit", "app.py", cwd=tmp_path, env={**env, "FORCE_COLOR": "1"})
    assert "\033[33mPK501\033[0m" in forced.stdout
    never = run_patchkit("audit", "--color", "never", "app.py", cwd=tmp_path,
                         env={**env, "FORCE_COLOR": "1"})  # fmt: skip
    assert "\033[" not in never.stdout
    bad = run_patchkit("audit", "--color", "sometimes", "app.py", cwd=tmp_path, env=env)
    assert bad.returncode == 2 and "--color" in bad.stderr
