"""No process the target starts outlives the audit, even one that leaves its process group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import write
from tests.hostile.process_helpers import (
    SLEEPER,
    audit_json,
    leftover_tempdirs,
    marker,
    survivors,
    wait_for,
)

# Each target starts a marked 300 s sleeper its own way, says so, lives 1.5 s more (long enough
# for the macOS process-table sampling to see the chain) and ends normally.
SPAWNS = {
    "same_group": "subprocess.Popen([sys.executable, '-c', SLEEPER, MARK])",
    "new_session": (
        "subprocess.Popen([sys.executable, '-c', SLEEPER, MARK], start_new_session=True)"
    ),
    "setsid_fork": """
if os.fork() == 0:
    os.setsid()
    os.execv(sys.executable, [sys.executable, '-c', SLEEPER, MARK])
""",
    "double_fork_daemon": """
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, '-c', SLEEPER, MARK])
    os._exit(0)
""",
}
LINUX_ONLY = {"double_fork_daemon"}  # the orphan is re-parented at once: needs the subreaper


def _target(tmp_path: Path, how: str, mark: str) -> tuple[Path, Path]:
    ready = tmp_path / "ready"
    app = write(
        tmp_path / f"{how}.py",
        f"import os, subprocess, sys, time\nSLEEPER = {SLEEPER!r}\nMARK = {mark!r}\n"
        + SPAWNS[how].strip()
        + f"\nopen({str(ready)!r}, 'w').write('1')\ntime.sleep(1.5)\n",
    )
    return app, ready


@pytest.mark.parametrize("how", sorted(SPAWNS))
def test_no_descendant_survives_the_audit(tmp_path: Path, how: str) -> None:
    if how in LINUX_ONLY and not sys.platform.startswith("linux"):
        pytest.skip("a double-forked daemon is caught by the Linux child subreaper")
    mark = marker()
    app, ready = _target(tmp_path, how, mark)
    try:
        report, proc = audit_json(tmp_path, str(app))
        assert ready.exists(), proc.stderr
        assert report["outcome"]["status"] == "completed", report["outcome"]
        assert survivors(mark) == []
        assert leftover_tempdirs(tmp_path) == []
    finally:
        _kill_marked(mark)


def test_process_table_walk_finds_an_escaped_session_without_proc_or_subreaper(
    tmp_path: Path,
) -> None:
    """The macOS path (``ps`` and sampling, no subreaper), exercised on every platform."""
    from patchkit.audit.tree import ProcessTree

    mark = marker()
    ready = tmp_path / "ready"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            f"subprocess.Popen([sys.executable, '-c', {SLEEPER!r}, {mark!r}],"
            " start_new_session=True)\n"
            f"open({str(ready)!r}, 'w').write('1')\ntime.sleep(300)\n",
        ],
        start_new_session=True,
    )
    tree = ProcessTree(use_proc=False, subreaper=False)
    try:
        tree.start(parent.pid)
        wait_for(ready)
        assert len(survivors(mark, wait=0)) == 2, "the parent and its sleeper run now"
        tree.record()
        parent.kill()  # the sleeper is orphaned: only the sampled table still knows it
        parent.wait()
        tree.kill_all()
        assert survivors(mark) == []
    finally:
        tree.close()
        parent.kill()
        parent.wait()
        _kill_marked(mark)


def _kill_marked(mark: str) -> None:
    """Clean up after a failing test: the marked sleepers must not outlive the test run."""
    for line in survivors(mark, wait=0):
        with contextlib.suppress(OSError):
            os.kill(int(line.split()[0]), signal.SIGKILL)
