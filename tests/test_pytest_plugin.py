"""The pytest plugin, run as users run it: pytest in a fresh process on a tiny test file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, clean_env, write

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
    assert "test_hub.py:9" in out, out  # the time.sleep line, in the stack that held the hub
    assert "pluggy" not in out and "_pytest" not in out  # only the test's own frames
    assert f"{os.sep}pytest{os.sep}__main__.py" not in out, out


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


def test_ini_options_set_the_profile_and_the_watch(tmp_path):
    write(
        tmp_path / "pyproject.toml",
        """
        [tool.pytest.ini_options]
        patchkit_profile = "full"
        patchkit_watch = "100"
        """,
    )
    write(
        tmp_path / "test_ini.py",
        """
        from time import sleep  # bound at import: gevent's only if the profile came first

        import gevent
        from patchkit import _real


        def test_profile_came_first():
            assert sleep is gevent.sleep


        def test_blocks_the_hub():
            beat = gevent.spawn(gevent.sleep, 0.01)
            gevent.sleep(0)
            _real.sleep(0.3)  # the pre-patch sleep: holds the hub
            beat.join()
        """,
    )
    proc = run_pytest(tmp_path, "-rf", "-v")  # -q -v: the normal output, with its header
    out = proc.stdout
    assert "1 failed, 1 passed" in out, out + proc.stderr
    assert "FAILED test_ini.py::test_blocks_the_hub" in out and "longer than 100 ms" in out
    assert "patchkit: profile full (from patchkit_profile)" in out  # the report header


def test_ini_profile_unknown_is_a_usage_error_naming_the_key(tmp_path):
    write(tmp_path / "pytest.ini", "[pytest]\npatchkit_profile = no-such-profile\n")
    write(tmp_path / "test_nothing.py", "def test_nothing():\n    pass\n")
    proc = run_pytest(tmp_path)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "patchkit_profile" in proc.stderr and "no-such-profile" in proc.stderr


def test_command_line_profile_wins_over_the_ini_file(tmp_path):
    write(tmp_path / "pytest.ini", "[pytest]\npatchkit_profile = no-such-profile\n")
    write(
        tmp_path / "test_profile.py",
        """
        import patchkit


        def test_none_applied():
            assert patchkit.state().as_dict()["requests"][-1]["profile"] == "none"
        """,
    )
    proc = run_pytest(tmp_path, "--patchkit-profile", "none")
    assert "1 passed" in proc.stdout, proc.stdout + proc.stderr


MARKED = """
    import time

    import gevent
    import pytest


    def hold_the_hub(seconds):
        beat = gevent.spawn(gevent.sleep, 0.01)
        gevent.sleep(0)
        time.sleep(seconds)  # unpatched: holds the hub
        beat.join()


    @pytest.mark.patchkit(watch=100)
    def test_strict():
        hold_the_hub(0.3)


    @pytest.mark.patchkit(watch=2000)
    def test_lenient():
        hold_the_hub(0.3)


    @pytest.mark.patchkit_allow_block
    def test_allowed():
        hold_the_hub(0.3)


    def test_unmarked():
        hold_the_hub(0.3)
"""


def test_markers_set_a_threshold_per_test_without_the_option(tmp_path):
    write(tmp_path / "test_marked.py", MARKED)
    proc = run_pytest(tmp_path, "--strict-markers", "-rf")
    out = proc.stdout
    assert "1 failed, 3 passed" in out, out + proc.stderr
    assert "FAILED test_marked.py::test_strict" in out and "longer than 100 ms" in out


def test_markers_win_over_the_option(tmp_path):
    write(tmp_path / "test_marked.py", MARKED)
    proc = run_pytest(tmp_path, "--strict-markers", "--patchkit-watch=100", "-rf")
    out = proc.stdout
    assert "2 failed, 2 passed" in out, out + proc.stderr
    assert "FAILED test_marked.py::test_strict" in out
    assert "FAILED test_marked.py::test_unmarked" in out


def test_markers_are_registered_and_documented(tmp_path):
    proc = run_pytest(tmp_path, "--markers")
    assert "@pytest.mark.patchkit(watch=MS)" in proc.stdout, proc.stdout + proc.stderr
    assert "@pytest.mark.patchkit_allow_block" in proc.stdout


def test_module_level_marker_applies_to_every_test(tmp_path):
    write(
        tmp_path / "test_module.py",
        """
        import time

        import gevent
        import pytest

        pytestmark = pytest.mark.patchkit(watch=100)


        def test_blocks():
            beat = gevent.spawn(gevent.sleep, 0.01)
            gevent.sleep(0)
            time.sleep(0.3)
            beat.join()
        """,
    )
    proc = run_pytest(tmp_path, "--strict-markers")
    assert "1 failed" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "marker", ["patchkit(200)", "patchkit(wach=200)", "patchkit(watch=0)", "patchkit(watch=True)"]
)
def test_bad_marker_is_a_usage_error(tmp_path, marker):
    write(
        tmp_path / "test_bad.py",
        f"import pytest\n\n\n@pytest.mark.{marker}\ndef test_x():\n    pass\n",
    )
    proc = run_pytest(tmp_path)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "test_bad.py::test_x: @pytest.mark.patchkit" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_suppression_comment_on_the_reported_line_passes_the_test(tmp_path):
    write(
        tmp_path / "test_quiet.py",
        """
        import time

        import gevent


        def test_quiet():
            beat = gevent.spawn(gevent.sleep, 0.01)
            gevent.sleep(0)
            time.sleep(0.3)  # patchkit: ignore[PK302]
            beat.join()


        def test_quiet_noqa():
            beat = gevent.spawn(gevent.sleep, 0.01)
            gevent.sleep(0)
            time.sleep(0.3)  # noqa: PK302
            beat.join()


        def test_other_code_still_fails():
            beat = gevent.spawn(gevent.sleep, 0.01)
            gevent.sleep(0)
            time.sleep(0.3)  # patchkit: ignore[PK301]
            beat.join()
        """,
    )
    proc = run_pytest(tmp_path, "--patchkit-watch=100", "-rf")
    out = proc.stdout
    assert "1 failed, 2 passed" in out, out + proc.stderr
    assert "FAILED test_quiet.py::test_other_code_still_fails" in out


ORDER = """
    import time

    import gevent


    def test_starts_the_hub():
        gevent.joinall([gevent.spawn(gevent.sleep, 0.01)])


    def test_synchronous():
        time.sleep(0.3)  # never yields: nothing of this test waits on the hub


    def test_holds_before_its_first_yield():
        time.sleep(0.3)  # FIRST SEGMENT
        gevent.sleep(0)
"""
ORDERS = [
    ("test_starts_the_hub", "test_synchronous", "test_holds_before_its_first_yield"),
    ("test_synchronous", "test_holds_before_its_first_yield", "test_starts_the_hub"),
    ("test_holds_before_its_first_yield", "test_starts_the_hub", "test_synchronous"),
]


@pytest.mark.parametrize("order", ORDERS, ids=["hub-first", "hub-last", "hub-between"])
def test_synchronous_tests_are_judged_the_same_in_any_order(tmp_path, order):
    write(tmp_path / "test_order.py", ORDER)
    ids = [f"test_order.py::{name}" for name in order]
    proc = run_pytest(tmp_path, "-p", "no:randomly", "-vv", "--patchkit-watch=100", *ids)
    out = proc.stdout
    ran = [line.split()[0] for line in out.splitlines() if line.startswith("test_order.py::")]
    assert ran == ids, out  # the order asked for is the order run
    assert "PASSED" in _line(out, "test_synchronous") and "PASSED" in _line(
        out, "test_starts_the_hub"
    )
    assert "FAILED" in _line(out, "test_holds_before_its_first_yield"), out
    first = 1 + write(tmp_path / "x.py", ORDER).read_text().splitlines().index(
        "    time.sleep(0.3)  # FIRST SEGMENT"
    )
    assert "PK302 the hub did not run for 0.3" in out and f"test_order.py:{first}" in out


def _line(out: str, name: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(f"test_order.py::{name} "))


def test_greenlet_spawned_on_a_c_function_is_reported_at_its_spawning_line(tmp_path):
    write(
        tmp_path / "test_spawned.py",
        """
        import time

        import gevent


        def test_spawned_directly():
            gevent.spawn(time.sleep, 0.3).join()  # the pre-patch sleep, no Python frame
        """,
    )
    proc = run_pytest(tmp_path, "--patchkit-watch=100")
    out = proc.stdout
    assert "1 failed" in out, out + proc.stderr
    assert "no Python frame seen; spawned here) held it at " in out, out
    assert "test_spawned.py:7" in out, out


def test_a_skipped_compat_case_says_why_in_the_normal_output():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "compat_tests",
            "-k",
            "mysqlclient",
        ],
        cwd=REPO,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout
    if "1 skipped" not in out:
        pytest.skip(f"the mysqlclient case ran here: {out.splitlines()[-1:]}")
    assert "patchkit compatibility: skipped" in out, out
    line = next(ln for ln in out.splitlines() if ln.startswith("SKIPPED "))
    assert "databases/mysqlclient]: " in line and ("MySQLdb" in line or "mysql" in line), line
    again = subprocess.run(
        [*proc.args, "-rs"], cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=300
    )
    assert "patchkit compatibility: skipped" not in again.stdout  # -rs lists it once already
    assert "SKIPPED [1]" in again.stdout, again.stdout
