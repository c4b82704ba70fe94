"""The command line follows python's rule, refuses bad numbers, and never runs target code itself.

Options come before the target; a typo or an abbreviation is a one-line error; every word after
the target is the target's. Targets that are not scripts (a FIFO, a device, a NUL byte, a 200k-deep
expression) and packages that hang at import are one line and status 2, never a hang.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import clean_env, write
from tests.hostile.cli_helpers import assert_one_line_error, audit, patchkit, pids_in, report

ARGV_APP = "import sys\nprint('argv', sys.argv[1:])\n"


def test_a_misspelt_option_before_the_target_is_an_error_and_nothing_runs(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "open('ran', 'w').close()\n")
    line = assert_one_line_error(audit("--fromat", "json", "app.py", cwd=tmp_path))
    assert "--fromat" in line
    assert not (tmp_path / "ran").exists()


def test_an_abbreviated_option_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "pass\n")
    assert "--form" in assert_one_line_error(audit("--form=json", "app.py", cwd=tmp_path))


def test_options_after_the_target_belong_to_the_target(tmp_path: Path) -> None:
    write(tmp_path / "app.py", ARGV_APP)
    proc = audit("--format", "json", "app.py", "--timeout", "9", "--format", "x", cwd=tmp_path)
    assert report(proc)["outcome"]["status"] == "completed"
    assert b"argv ['--timeout', '9', '--format', 'x']" in proc.stderr


def test_a_double_dash_after_the_target_reaches_the_target_as_python_passes_it(
    tmp_path: Path,
) -> None:
    write(tmp_path / "app.py", ARGV_APP)
    proc = audit("--format", "json", "app.py", "--", "--format", cwd=tmp_path)
    assert report(proc)["outcome"]["status"] == "completed"
    assert b"argv ['--', '--format']" in proc.stderr
    run = patchkit("run", "--profile", "none", "app.py", "--", "x", cwd=tmp_path)
    assert run.stdout.decode().strip() == "argv ['--', 'x']"


def test_module_target_keeps_its_options_even_when_named_like_audits(tmp_path: Path) -> None:
    write(tmp_path / "srv" / "__init__.py", "")
    write(tmp_path / "srv" / "__main__.py", ARGV_APP)
    proc = audit("--format", "json", "-m", "srv", "app:app", "--timeout", "9", cwd=tmp_path)
    assert report(proc)["target"] == "-m srv"
    assert b"argv ['app:app', '--timeout', '9']" in proc.stderr


def test_dash_o_writes_the_report_and_repeated_ignore_accumulates(tmp_path: Path) -> None:
    write(
        tmp_path / "app.py",
        "from time import sleep\nimport gevent\ndef h():\n    sleep(0.3)\ngevent.spawn(h).join()\n",
    )
    out = tmp_path / "r.json"
    proc = audit("--format", "json", "-o", str(out), "app.py", cwd=tmp_path)
    assert proc.stdout == b"" and {"PK301", "PK302"} <= {f["code"] for f in _load(out)}
    audit("--format", "json", "-o", str(out), "--ignore", "PK301", "--ignore", "PK302", "app.py",
          cwd=tmp_path)  # fmt: skip
    assert not {"PK301", "PK302"} & {f["code"] for f in _load(out)}


def _load(path: Path) -> list[dict]:
    import json

    return json.loads(path.read_text())["findings"]


@pytest.mark.parametrize("option", ["--timeout", "--duration", "--threshold"])
@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "1e13"])
def test_non_finite_or_out_of_range_numbers_are_refused(
    tmp_path: Path, option: str, value: str
) -> None:
    write(tmp_path / "app.py", "open('ran', 'w').close()\n")
    line = assert_one_line_error(audit(f"{option}={value}", "app.py", cwd=tmp_path))
    assert option in line and value in line
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "1e13"])
def test_pytest_watch_refuses_non_finite_or_out_of_range_numbers(
    tmp_path: Path, value: str
) -> None:
    write(tmp_path / "test_x.py", "def test_x():\n    pass\n")
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_x.py"]
    proc = subprocess.run([*cmd, f"--patchkit-watch={value}"], cwd=tmp_path, env=clean_env(),
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 4 and "--patchkit-watch" in proc.stderr, proc.stdout + proc.stderr
    write(tmp_path / "pytest.ini", f"[pytest]\npatchkit_watch = {value}\n")
    proc = subprocess.run(cmd, cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert proc.returncode == 4 and "patchkit_watch" in proc.stderr, proc.stdout + proc.stderr


def test_a_package_is_never_imported_by_the_audit_itself(tmp_path: Path) -> None:
    # __init__ records who ran it and then hangs: only the child, under the deadline, may.
    pids = tmp_path / "pids"
    write(
        tmp_path / "pkg" / "__init__.py",
        f"import os, time\nopen({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n')\ntime.sleep(60)\n",
    )
    write(tmp_path / "pkg" / "mod.py", "import os\nimport pkg\n")
    audit_proc = subprocess.Popen(
        [sys.executable, "-m", "patchkit", "audit", "--format", "json", "--timeout", "3",
         "-m", "pkg.mod"],
        cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    started = time.monotonic()
    out, _ = audit_proc.communicate(timeout=60)
    assert time.monotonic() - started < 40
    assert audit_proc.pid not in pids_in(pids)
    assert audit_proc.returncode == 3
    import json

    assert json.loads(out)["outcome"]["status"] == "timeout"


def test_static_reads_the_package_main_without_importing_the_package(tmp_path: Path) -> None:
    write(tmp_path / "pkg" / "__init__.py", "open('init-ran', 'w').close()\n")
    write(tmp_path / "helper.py", "X = 1\n")
    write(
        tmp_path / "pkg" / "__main__.py",
        "import helper\nfrom gevent import monkey\nmonkey.patch_all()\n",
    )
    proc = audit("--static", "--format", "json", "-m", "pkg", cwd=tmp_path)
    found = report(proc)["findings"]
    assert [f["code"] for f in found] == ["PK501"]
    assert found[0]["file"] == str(tmp_path / "pkg" / "__main__.py")
    assert not (tmp_path / "init-ran").exists()


def test_a_package_without_main_is_one_line_as_python_says_it(tmp_path: Path) -> None:
    expected = "No module named json.__main__; 'json' is a package and cannot be directly executed"
    assert assert_one_line_error(audit("-m", "json", cwd=tmp_path)).endswith(expected)
    assert assert_one_line_error(patchkit("run", "-m", "json", cwd=tmp_path), 1).endswith(expected)
    assert assert_one_line_error(audit("-m", "no_such_mod_q", cwd=tmp_path)).endswith(
        "No module named no_such_mod_q"
    )


def _fifo(tmp_path: Path) -> str:
    os.mkfifo(tmp_path / "fifo")
    return "fifo"


HOSTILE = {
    "fifo": _fifo,
    "dev-stdin": lambda tmp: "/dev/stdin",
    "dev-zero": lambda tmp: "/dev/zero",
    "nul-byte": lambda tmp: str(write(tmp / "nul.py", "x = 1\n\0\n")),
    "dir-without-main": lambda tmp: str((tmp / "d").mkdir() or tmp / "d"),
    "deep-parens": lambda tmp: str(write(tmp / "p.py", "x = " + "(" * 200000 + ")" * 200000)),
    "deep-unary": lambda tmp: str(write(tmp / "u.py", "x = " + "-" * 200000 + "1\n")),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_target_that_is_no_script_is_one_line_and_status_2(tmp_path: Path, kind: str) -> None:
    target = HOSTILE[kind](tmp_path)
    for command in ("audit", "run"):
        line = assert_one_line_error(patchkit(command, target, cwd=tmp_path, timeout=60))
        assert target in line
