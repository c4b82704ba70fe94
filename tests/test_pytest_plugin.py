"""The pytest plugin, run as users run it: pytest in a fresh process on a tiny test file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import clean_env, write

BLOCKING_AND_YIELDING = """
    import time

    import gevent


    def test_blocks_the_hub():
        beat = gevent.spawn(gevent.sleep, 0.01)
        gevent.sleep(0)  # the hub is running now
        time.sleep(0.3)  # unpatched: holds the hub for 0.3 s
        beat.join()


    def test_yields():
        gevent.joinall([gevent.spawn(gevent.sleep, 0.3) for _ in range(3)])
"""


def run_pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_watch_fails_a_test_that_blocked_the_hub_and_shows_the_stack(tmp_path):
    write(tmp_path / "test_hub.py", BLOCKING_AND_YIELDING)
    proc = run_pytest(tmp_path, "--patchkit-watch=100", "-rf")
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "1 failed, 1 passed" in out
    assert "FAILED test_hub.py::test_blocks_the_hub" in out
    assert "longer than 100 ms" in out and "PK302 the hub did not run for 0.3" in out
    assert "test_hub.py:9" in out  # the time.sleep line, in the stack that held the hub
    assert "pluggy" not in out and "_pytest" not in out  # only the test's own frames


def test_watch_takes_its_default_threshold_without_a_value(tmp_path):
    write(tmp_path / "test_hub.py", BLOCKING_AND_YIELDING)
    proc = run_pytest(tmp_path, "test_hub.py", "--patchkit-watch")
    assert "1 failed, 1 passed" in proc.stdout, proc.stdout + proc.stderr


def test_profile_is_applied_before_test_modules_are_imported(tmp_path):
    write(
        tmp_path / "test_patched.py",
        """
        from time import sleep  # bound at import: gevent's only if the profile came first

        import gevent
        from gevent import monkey


        def test_time_is_patched_and_the_early_binding_is_green():
            assert monkey.is_module_patched("time") and monkey.is_module_patched("socket")
            assert sleep is gevent.sleep
        """,
    )
    write(tmp_path / "test_hub.py", BLOCKING_AND_YIELDING)
    proc = run_pytest(tmp_path, "--patchkit-profile", "full", "--patchkit-watch=100")
    assert "3 passed" in proc.stdout, proc.stdout + proc.stderr  # patched time.sleep yields


def test_unknown_profile_is_a_usage_error(tmp_path):
    write(tmp_path / "test_nothing.py", "def test_nothing():\n    pass\n")
    proc = run_pytest(tmp_path, "--patchkit-profile", "no-such-profile")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "--patchkit-profile" in proc.stderr and "no-such-profile" in proc.stderr


def test_plugin_does_nothing_without_its_options(tmp_path):
    write(
        tmp_path / "test_inert.py",
        """
        import greenlet
        from gevent import monkey


        def test_nothing_patched_nothing_traced(request):
            assert request.config.pluginmanager.get_plugin("patchkit-watch") is None
            assert not monkey.is_module_patched("socket")
            assert greenlet.gettrace() is None
        """,
    )
    proc = run_pytest(tmp_path)
    assert "1 passed" in proc.stdout, proc.stdout + proc.stderr
