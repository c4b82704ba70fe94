"""``patchkit audit`` as users call it: options, exit statuses, stdout kept for the report."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import REPO, run_patchkit, write

APPS = REPO / "tests" / "apps"
EXAMPLES = REPO / "examples"

STALE_SLEEP_APP = """
from time import sleep

import gevent


def handler():
    sleep(0.2)


gevent.spawn(handler).join()
"""


def audit(*args: str, cwd: Path = REPO):
    return run_patchkit("audit", *args, cwd=cwd)


def codes(report: dict) -> set[str]:
    return {f["code"] for f in report["findings"]}


def assert_one_line_error(proc, name: str) -> None:
    assert proc.returncode == 2, proc
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_file_is_one_line_and_status_2() -> None:
    assert_one_line_error(audit("no/such/app.py"), "no/such/app.py")


def test_syntax_error_is_one_line_and_status_2() -> None:
    path = str(APPS / "runtime_syntax_error.py")
    assert_one_line_error(audit(path), path)


def test_missing_target_is_a_usage_error() -> None:
    proc = audit("--format", "json")
    assert proc.returncode == 2 and proc.stdout == ""


def test_unknown_rule_code_is_a_usage_error() -> None:
    proc = audit("--select", "PK999", str(APPS / "runtime_prints.py"))
    assert proc.returncode == 2 and "PK999" in proc.stderr


def test_unknown_profile_is_one_line_and_status_2() -> None:
    proc = audit("--profile", "no-such-profile", str(APPS / "runtime_prints.py"))
    assert_one_line_error(proc, "no-such-profile")


def test_target_stdout_goes_to_stderr_and_stdout_is_pure_json() -> None:
    proc = audit("--format", "json", str(APPS / "runtime_prints.py"))
    report = json.loads(proc.stdout)  # the whole of stdout, not its last line
    assert report["schema"] == 1 and report["outcome"]["status"] == "completed"
    assert "line 199" in proc.stderr and '"not": "the report"' in proc.stderr
    assert proc.returncode == 0


def test_output_file_gets_the_report_and_stdout_stays_empty(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = audit("--format", "json", "--output", str(out), str(APPS / "runtime_crash.py"))
    assert proc.stdout == ""
    report = json.loads(out.read_text())
    assert report["outcome"]["status"] == "exception"
    assert proc.returncode == 1


def test_fail_on_decides_the_exit_status(tmp_path: Path) -> None:
    app = write(tmp_path / "app.py", STALE_SLEEP_APP)
    # Only the hub-blocked error is kept: status 1 at every level, 0 once it is ignored.
    assert audit("--select", "PK302", "--fail-on", "error", str(app)).returncode == 1
    assert audit("--select", "PK302", "--fail-on", "info", str(app)).returncode == 1
    assert audit("--ignore", "PK301,PK302", "--select", "PK3", str(app)).returncode == 0
    if (REPO / "patchkit" / "detect" / "static.py").exists():
        write(tmp_path / "helper.py", "X = 1\n")  # stdlib imports are exempt from PK501
        warn = write(
            tmp_path / "warn.py", "import helper\nfrom gevent import monkey\nmonkey.patch_all()\n"
        )
        assert audit("--select", "PK501", "--fail-on", "warning", str(warn)).returncode == 1
        assert audit("--select", "PK501", "--fail-on", "error", str(warn)).returncode == 0


def test_select_and_ignore_filter_the_report(tmp_path: Path) -> None:
    app = str(write(tmp_path / "app.py", STALE_SLEEP_APP))
    both = json.loads(audit("--format", "json", "--select", "PK301,PK302", app).stdout)
    assert codes(both) == {"PK301", "PK302"}
    only = json.loads(
        audit("--format", "json", "--select", "PK301,PK302", "--ignore", "PK302", app).stdout
    )
    assert codes(only) == {"PK301"}


def test_profile_is_applied_before_the_target_imports(tmp_path: Path) -> None:
    app = str(write(tmp_path / "app.py", STALE_SLEEP_APP))
    unpatched = json.loads(audit("--format", "json", app).stdout)
    assert {"PK301", "PK302"} <= codes(unpatched)  # nothing patched: time.sleep blocks the hub
    patched = json.loads(audit("--format", "json", "--profile", "full", app).stdout)
    assert not {"PK301", "PK302"} & codes(patched), patched["findings"]
    assert patched["profile"] == "full (built-in)" and patched["patches"]


def test_static_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    app = write(tmp_path / "app.py", f"open({str(marker)!r}, 'w').close()\n")
    proc = audit("--static", "--format", "json", str(app))
    report = json.loads(proc.stdout)
    assert report["mode"] == "static" and not marker.exists()


def test_module_target_runs_as_python_dash_m(tmp_path: Path) -> None:
    write(tmp_path / "pkgapp" / "__init__.py", "")
    write(
        tmp_path / "pkgapp" / "__main__.py",
        "import sys\nprint(__name__, sys.argv[1:])\nsys.exit(5)\n",
    )
    proc = audit("--format", "json", "-m", "pkgapp", "a", "--b", cwd=tmp_path)
    report = json.loads(proc.stdout)
    assert report["target"] == "-m pkgapp"
    assert report["outcome"]["status"] == "exit" and report["outcome"]["exit_code"] == 5
    assert "__main__ ['a', '--b']" in proc.stderr


def test_every_word_after_the_target_is_the_targets_including_dashes(tmp_path: Path) -> None:
    # python's rule (SPEC): audit's options come first; after TARGET nothing is audit's.
    app = write(tmp_path / "app.py", "import sys\nprint(sys.argv[1:])\n")
    proc = audit("--format", "json", str(app), "a", "--format", "x", "--timeout", "9", "--", "z")
    report = json.loads(proc.stdout)
    assert report["outcome"]["status"] == "completed"
    assert "['a', '--format', 'x', '--timeout', '9', '--', 'z']" in proc.stderr
    assert proc.returncode == 0


def test_sarif_is_valid_json_with_one_result_per_finding() -> None:
    proc = audit("--format", "sarif", "--select", "PK3", str(APPS / "runtime_crash.py"))
    sarif = json.loads(proc.stdout)
    assert sarif["version"] == "2.1.0"
    assert len(sarif["runs"][0]["results"]) == 2


def test_leaky_example_reports_each_blocking_call_with_its_line() -> None:
    proc = audit("--format", "json", str(EXAMPLES / "leaky_app.py"))
    report = json.loads(proc.stdout)
    pk301 = {(Path(f["file"]).name, f["line"]) for f in report["findings"] if f["code"] == "PK301"}
    assert pk301 == {("leaky_app.py", 36), ("retry.py", 14)}
    assert "PK302" in codes(report)
    assert proc.returncode == 1


def test_clean_example_has_no_findings() -> None:
    proc = audit("--format", "json", str(EXAMPLES / "clean_app.py"))
    report = json.loads(proc.stdout)
    assert report["findings"] == [], report["findings"]
    assert report["outcome"]["status"] == "completed"
    assert proc.returncode == 0
