"""Each way a target can end is reported as what it is, with nothing left behind."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write
from tests.hostile.process_helpers import audit_json, leftover_tempdirs

STALE_SLEEP = """
from time import sleep as stale_sleep
from gevent import monkey
monkey.patch_all()
import gevent
def work():
    stale_sleep(0.3)
gevent.spawn(work).join()
"""


def _codes(report: dict) -> set[str]:
    return {f["code"] for f in report["findings"]}


def test_sys_exit_true_is_exit_code_1_as_python_makes_it(tmp_path: Path) -> None:
    app = write(tmp_path / "app.py", "import sys\nsys.exit(True)\n")
    report, proc = audit_json(tmp_path, str(app))
    assert report["outcome"]["status"] == "exit"
    assert type(report["outcome"]["exit_code"]) is int and report["outcome"]["exit_code"] == 1
    assert leftover_tempdirs(tmp_path) == []


def test_segfault_is_killed_naming_the_signal(tmp_path: Path) -> None:
    app = write(tmp_path / "app.py", "import ctypes\nctypes.string_at(0)\n")
    report, _ = audit_json(tmp_path, str(app))
    assert report["outcome"]["status"] == "killed", report["outcome"]
    assert report["outcome"]["message"].startswith(("killed by SIGSEGV", "killed by SIGBUS"))
    assert leftover_tempdirs(tmp_path) == []


def test_sigterm_to_itself_is_killed_and_keeps_the_runtime_findings(tmp_path: Path) -> None:
    app = write(tmp_path / "app.py", STALE_SLEEP + "import os, signal\nos.kill(os.getpid(), 15)\n")
    report, proc = audit_json(tmp_path, str(app))
    assert report["outcome"]["status"] == "killed", report["outcome"]
    assert report["outcome"]["message"] == "killed by SIGTERM"
    assert "PK301" in _codes(report), proc.stderr
    assert leftover_tempdirs(tmp_path) == []


def test_config_error_raised_inside_the_target_is_exit_2_in_one_line(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write(project / "pyproject.toml", '[tool.patchkit]\nprofile = "nope"\n')
    app = write(project / "app.py", "import patchkit.auto\nprint('ran')\n")
    import subprocess
    import sys

    from tests.hostile.process_helpers import private_env

    proc = subprocess.run(
        [sys.executable, "-m", "patchkit", "audit", "--format", "json", str(app)],
        cwd=project,
        env=private_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope" in lines[0], proc.stderr
    assert leftover_tempdirs(tmp_path) == []


def test_raised_at_and_traceback_skip_patchkit_frames(tmp_path: Path) -> None:
    # The TypeError is raised inside the tripwire's wrapper around time.sleep.
    app = write(tmp_path / "app.py", "from time import sleep\n\nsleep('x')\n")
    report, proc = audit_json(tmp_path, str(app))
    assert report["outcome"]["status"] == "exception"
    assert report["outcome"]["message"].endswith(f"(raised at {app}:3)"), report["outcome"]
    assert "patchkit" not in proc.stderr.split("Traceback", 1)[1], proc.stderr


def test_target_arguments_over_128_kib_reach_the_target(tmp_path: Path) -> None:
    out = tmp_path / "count"
    app = write(
        tmp_path / "app.py", f"import sys\nopen({str(out)!r}, 'w').write(str(len(sys.argv)))\n"
    )
    args = ["x" * 1000] * 200  # 200 KB: too much for one argv word (the spec must not go there)
    report, proc = audit_json(tmp_path, str(app), *args)
    assert report["outcome"]["status"] == "completed", proc.stderr
    assert out.read_text() == "201"
    assert leftover_tempdirs(tmp_path) == []


def test_deleted_working_directory_is_one_patchkit_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.helpers import REPO
    from tests.hostile.process_helpers import private_env

    app = write(tmp_path / "app.py", "print('ran')\n")
    gone = tmp_path / "gone"
    gone.mkdir()
    code = f"""
import os
os.chdir({str(gone)!r}); os.rmdir({str(gone)!r})
from patchkit.audit.launcher import run_child
from patchkit.errors import PatchkitError
from patchkit.target import Target
try:
    run_child(Target("script", {str(app)!r}), profile=None, timeout=30, threshold=0.1)
except PatchkitError as exc:
    print("error:", exc)
"""
    env = private_env(tmp_path, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.stdout == "error: the working directory no longer exists\n", proc.stderr
    assert leftover_tempdirs(tmp_path) == []
