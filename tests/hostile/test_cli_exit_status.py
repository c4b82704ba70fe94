"""SPEC's exit-status table: 0 normal, 1 findings, 2 patchkit could not do its job, 3 abnormal end.

One small target per way of ending; the status, the JSON outcome and the first lines of the text
report must agree, and "No findings." is never all a report says about a run that went wrong.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from patchkit.audit import launcher
from patchkit.commands import audit as audit_command
from patchkit.findings import Outcome
from tests.helpers import write
from tests.hostile.cli_helpers import assert_valid_sarif, audit, report


def test_crash_at_import_without_findings_is_status_3_and_says_so(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "import json\n\nimport no_such_module_xyz\n")
    proc = audit("--format", "json", "app.py", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    outcome = report(proc)["outcome"]
    assert outcome["status"] == "exception"
    assert outcome["message"].startswith(
        "ModuleNotFoundError: No module named 'no_such_module_xyz'"
    )

    text = audit("app.py", cwd=tmp_path)
    assert text.returncode == 3
    first = text.stdout.decode().splitlines()[1]
    assert first.startswith("target crashed: ModuleNotFoundError: No module named")
    assert "(raised at app.py:3)" in first
    assert "findings below cover only what ran before the crash" in first
    assert "No findings.\n" not in text.stdout.decode()


def test_non_zero_exit_without_findings_is_status_3(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "import sys\nsys.exit(4)\n")
    proc = audit("--format", "json", "app.py", cwd=tmp_path)
    assert proc.returncode == 3
    assert report(proc)["outcome"]["exit_code"] == 4
    text = audit("app.py", cwd=tmp_path).stdout.decode()
    assert "target exited with status 4" in text.splitlines()[1]


def test_sys_exit_true_is_status_1_everywhere_and_sarif_stays_valid(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "import sys\nsys.exit(True)\n")
    proc = audit("--format", "json", "app.py", cwd=tmp_path)
    assert proc.returncode == 3
    code = report(proc)["outcome"]["exit_code"]
    assert code == 1 and code is not True
    sarif = report(audit("--format", "sarif", "app.py", cwd=tmp_path))
    assert_valid_sarif(sarif)
    (invocation,) = sarif["runs"][0]["invocations"]
    assert invocation["exitCode"] == 1 and invocation["executionSuccessful"] is False


def test_exit_256_is_the_status_the_os_saw(tmp_path: Path) -> None:
    # The process really returns 256 & 0xFF == 0 (what `echo $?` shows): a normal end.
    write(tmp_path / "app.py", "import sys\nsys.exit(256)\n")
    proc = audit("--format", "json", "app.py", cwd=tmp_path)
    assert report(proc)["outcome"]["exit_code"] == 0
    assert proc.returncode == 0


def test_target_killed_by_a_signal_is_status_3_and_not_successful_in_sarif(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    proc = audit("--format", "sarif", "app.py", cwd=tmp_path)
    assert proc.returncode == 3
    sarif = report(proc)
    assert_valid_sarif(sarif)
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_timeout_without_findings_is_status_3(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "import threading\nthreading.Event().wait(60)\n")
    proc = audit("--format", "json", "--timeout", "2", "app.py", cwd=tmp_path)
    assert proc.returncode == 3
    assert report(proc)["outcome"]["status"] == "timeout"


def test_clean_run_is_status_0(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "print('fine')\n")
    proc = audit("app.py", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.decode().splitlines()[1].startswith("target completed (exit code 0)")


def test_static_is_0_or_1_never_3(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "raise SystemExit(9)\n")
    proc = audit("--static", "--format", "json", "app.py", cwd=tmp_path)
    assert proc.returncode == 0 and report(proc)["mode"] == "static"


def _options(**given: object) -> argparse.Namespace:
    argv = [f"--{k}={v}" for k, v in given.items()]
    return audit_command.parser().parse_args(argv)


def _capture_run_child(monkeypatch: pytest.MonkeyPatch, result: launcher.ChildResult) -> dict:
    seen: dict = {}

    def fake(target, **kwargs):
        seen.update(kwargs)
        return result

    monkeypatch.setattr(launcher, "run_child", fake)
    return seen


def test_an_error_from_the_child_is_status_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The launcher hands back `error` for a patchkit config/profile error, wherever it was raised.
    app = write(tmp_path / "app.py", "import patchkit\npatchkit.apply('nope')\n")
    bad = launcher.ChildResult(Outcome("exception", 1), error="unknown profile 'nope'")
    _capture_run_child(monkeypatch, bad)
    from patchkit.cli import main

    assert main(["audit", str(app)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == "patchkit audit: unknown profile 'nope'"


def test_duration_is_passed_on_and_moves_the_default_timeout_past_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app = write(tmp_path / "app.py", "pass\n")
    seen = _capture_run_child(monkeypatch, launcher.ChildResult(Outcome("stopped", 0, 10.0)))
    assert audit_command.main(["--duration", "10", str(app)]) == 0  # stopped is a normal end
    assert seen["duration"] == 10.0 and seen["timeout"] == 40.0
    assert "target stopped after --duration 10 s, as asked" in capsys.readouterr().out
    audit_command.main(["--duration", "10", "--timeout", "5", str(app)])
    assert seen["timeout"] == 5.0
    audit_command.main([str(app)])
    assert seen["timeout"] == 30.0 and seen["duration"] == 10.0  # not passed: still the old one
