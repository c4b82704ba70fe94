"""Whatever stdout, stderr, the locale or the working directory are, no traceback from patchkit.

Each case runs the real command line in bash (``>&-``, pipes whose reader left, a deleted cwd).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import clean_env, write
from tests.hostile.cli_helpers import assert_one_line_error, audit, shell

CRASH = "raise ValueError('boom')\n"


def assert_quiet(stderr: str) -> None:
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr


def test_closed_stdout_keeps_the_status_and_says_nothing_wrong(tmp_path: Path) -> None:
    write(tmp_path / "app.py", CRASH)
    proc = shell("$PK audit app.py >&- 2>err; echo $?", tmp_path)
    assert proc.stdout.strip() == "3"
    err = (tmp_path / "err").read_text()
    assert "ValueError: boom" in err  # the target's own traceback, as always
    assert "patchkit/" not in err


def test_closed_stderr_still_gives_the_report_on_stdout(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "print('hello')\n")
    proc = shell("$PK audit --format json app.py 2>&-", tmp_path)
    assert json.loads(proc.stdout)["outcome"]["status"] == "completed"
    assert proc.returncode == 0


def test_reader_that_left_is_not_a_traceback_and_the_status_stays(tmp_path: Path) -> None:
    write(tmp_path / "app.py", CRASH)
    proc = shell("$PK audit --format json app.py 2>err | head -c0; echo ${PIPESTATUS[0]}", tmp_path)
    assert proc.stdout.strip() == "3"
    err = (tmp_path / "err").read_text()
    assert err.count("Traceback") == 1 and "ValueError: boom" in err  # only the target's
    assert "Exception ignored" not in err and "BrokenPipeError" not in err


def test_help_into_a_pipe_that_closes_is_quiet(tmp_path: Path) -> None:
    for command in ("$PK --help", "$PK audit --help", "$PK run --help"):
        proc = shell(f"{command} | head -c0; {command} | head -1", tmp_path)
        assert_quiet(proc.stderr)
        assert proc.stdout.startswith("usage: patchkit")


def test_ascii_only_stdout_with_non_ascii_in_the_report(tmp_path: Path) -> None:
    write(tmp_path / "blöck.py", "import sys\nsys.exit(0)\n")
    proc = shell("$PK audit blöck.py", tmp_path, PYTHONIOENCODING="ascii")
    assert_quiet(proc.stderr)
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[0] == "patchkit audit: bl\\xf6ck.py (run)"


def test_non_utf8_file_names_for_the_target_and_output(tmp_path: Path) -> None:
    name = os.fsdecode(b"bad\xffname.py")
    write(tmp_path / name, "print('hi')\n")
    out = os.fsencode(tmp_path) + b"/rep\xfe.txt"
    proc = audit(b"-o", out, os.fsencode(name), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr and proc.stdout == b""
    with open(out, "rb") as handle:
        assert handle.readline() == b"patchkit audit: bad\xffname.py (run)\n"
    json_out = os.fsencode(tmp_path) + b"/rep\xfe.json"
    audit(b"--format", b"json", b"-o", json_out, os.fsencode(name), cwd=tmp_path)
    with open(json_out, "rb") as handle:
        assert json.load(handle)["target"] == name


def test_deleted_working_directory_is_one_line_and_status_2(tmp_path: Path) -> None:
    app = write(tmp_path / "app.py", "pass\n")
    gone = tmp_path / "gone"
    gone.mkdir()
    env = clean_env()
    script = f"cd {gone} && rmdir {gone} && exec {sys.executable} -m patchkit audit {app}"
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, timeout=60)
    assert_one_line_error(proc)
    assert b"working directory" in proc.stderr
