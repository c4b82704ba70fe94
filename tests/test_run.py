"""``patchkit run`` patches first, then behaves exactly like ``python SCRIPT`` / ``python -m``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import clean_env, json_from_stdout, run_patchkit, write

SHOW = """
import json, os, sys
import socket, threading, gevent.socket
from gevent import monkey
print(json.dumps({"name": __name__, "argv": sys.argv, "path0": sys.path[0],
                  "socket": socket.socket is gevent.socket.socket,
                  "thread": monkey.is_module_patched("threading"),
                  "main": sys.modules["__main__"].__dict__.get("MARK")}))
"""


def test_script_sees_its_own_argv_main_and_path(tmp_path: Path) -> None:
    app = write(tmp_path / "app" / "show.py", "MARK = 'me'\n" + SHOW)
    proc = run_patchkit("run", "app/show.py", "a", "--profile", "b", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    seen = json_from_stdout(proc)
    assert seen["name"] == "__main__" and seen["main"] == "me"
    assert seen["argv"] == ["app/show.py", "a", "--profile", "b"]
    assert seen["path0"] == str(app.parent)
    assert seen["socket"] is True and seen["thread"] is True  # default profile: full


def test_profile_option_is_applied_before_the_target(tmp_path: Path) -> None:
    write(tmp_path / "show.py", SHOW)
    proc = run_patchkit("run", "--profile", "network", "show.py", cwd=tmp_path)
    seen = json_from_stdout(proc)
    assert seen["socket"] is True and seen["thread"] is False


def test_module_target_runs_as_python_dash_m(tmp_path: Path) -> None:
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "tool.py", SHOW)
    proc = run_patchkit("run", "--profile", "nothread", "-m", "pkg.tool", "x", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    seen = json_from_stdout(proc)
    assert seen["name"] == "__main__"
    assert seen["argv"] == [str(tmp_path / "pkg" / "tool.py"), "x"]
    assert seen["path0"] == str(tmp_path)
    assert seen["socket"] is True and seen["thread"] is False


def test_exit_status_is_the_targets(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "import sys\nsys.exit(3)\n")
    assert run_patchkit("run", "app.py", cwd=tmp_path).returncode == 3
    write(tmp_path / "msg.py", "import sys\nsys.exit('bye')\n")
    proc = run_patchkit("run", "msg.py", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr.strip() == "bye"


def test_target_exception_keeps_its_traceback_without_patchkit_frames(tmp_path: Path) -> None:
    write(tmp_path / "boom.py", "def f():\n    raise ValueError('boom')\n\nf()\n")
    proc = run_patchkit("run", "boom.py", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Traceback (most recent call last):")
    # python >= 3.9 shows the script's absolute path, as __main__.__file__ is absolute
    assert f'File "{tmp_path / "boom.py"}", line 4, in <module>' in proc.stderr
    assert proc.stderr.rstrip().endswith("ValueError: boom")
    assert "patchkit" not in proc.stderr and "runpy" not in proc.stderr


def test_missing_target_is_exit_2_naming_the_path(tmp_path: Path) -> None:
    proc = run_patchkit("run", "nope.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "patchkit run: nope.py: no such file"
    proc = run_patchkit("run", "-m", "no_such_module_xyz", cwd=tmp_path)
    # python -m's own status and words for a module it cannot find
    assert proc.returncode == 1
    assert proc.stderr.strip() == "patchkit run: No module named no_such_module_xyz"
    assert "Traceback" not in proc.stderr


def test_missing_target_argument_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_patchkit("run", "--profile", "full", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "patchkit run: missing SCRIPT or -m MODULE (see 'patchkit run --help')"
    ]


def test_ctrl_c_prints_keyboard_interrupt_and_exits_130(tmp_path: Path) -> None:
    # Profile "none": a real time.sleep is interrupted by SIGINT at once. Under gevent's libev hub
    # a SIGINT landing between the loop's signal check and epoll_wait waits for the next wake-up
    # (gevent's behaviour, the same without patchkit), which would make this test flaky.
    write(tmp_path / "wait.py", "import time\nprint('ready', flush=True)\ntime.sleep(60)\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "patchkit", "run", "--profile", "none", "wait.py"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(0.3)
        os.kill(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "KeyboardInterrupt" in stderr and f'File "{tmp_path / "wait.py"}", line 3' in stderr
    assert "patchkit" not in stderr


def test_patching_is_recorded_as_requested_by_patchkit_run(tmp_path: Path) -> None:
    write(
        tmp_path / "app.py",
        "import json, patchkit\nprint(json.dumps(patchkit.state().as_dict()))\n",
    )
    proc = run_patchkit("run", "--profile", "network", "app.py", cwd=tmp_path)
    (request,) = json_from_stdout(proc)["requests"]
    assert request["profile"] == "network" and request["requested_by"] == "patchkit run app.py"
