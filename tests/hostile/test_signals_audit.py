"""SIGTERM, SIGHUP and Ctrl-C to the audit: the target tree stops, the report is written with
outcome ``interrupted``, the temporary directory is removed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, write
from tests.hostile.process_helpers import (
    SLEEPER,
    leftover_tempdirs,
    marker,
    private_env,
    survivors,
    wait_for,
)

# A stale sleep blocks the hub once (PK301), then the target starts a marked sleeper in its own
# session, says it is ready and waits. ``ignore`` makes it shrug off SIGINT.
TARGET = """
import signal, subprocess, sys, time
from time import sleep as stale_sleep
from gevent import monkey
monkey.patch_all()
import gevent
def work():
    stale_sleep(0.3)
gevent.spawn(work).join()
subprocess.Popen([sys.executable, "-c", {sleeper!r}, {mark!r}], start_new_session=True)
if {ignore!r}:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
open({ready!r}, "w").write("1")
while True:
    time.sleep(0.2)
"""


def _audit_and_signal(tmp_path: Path, signum: int, ignore: bool) -> tuple[dict, str]:
    mark, ready = marker(), tmp_path / "ready"
    app = write(
        tmp_path / "server.py",
        TARGET.format(sleeper=SLEEPER, mark=mark, ignore=ignore, ready=str(ready)),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "patchkit", "audit", "--format", "json", str(app)],
        cwd=REPO,
        env=private_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(ready)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert survivors(mark) == []
    assert leftover_tempdirs(tmp_path) == []
    assert out.strip(), err
    return json.loads(out), err


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_signal_to_the_audit_stops_the_tree_and_reports_interrupted(
    tmp_path: Path, name: str
) -> None:
    report, err = _audit_and_signal(tmp_path, getattr(signal, name), ignore=False)
    assert report["outcome"]["status"] == "interrupted", report["outcome"]
    assert report["outcome"]["message"].startswith(f"the audit got {name}"), report["outcome"]
    assert "PK301" in {f["code"] for f in report["findings"]}, err


def test_target_ignoring_sigint_still_hands_back_its_findings(tmp_path: Path) -> None:
    report, err = _audit_and_signal(tmp_path, signal.SIGINT, ignore=True)
    outcome = report["outcome"]
    assert outcome["status"] == "interrupted", outcome
    assert "never released the interpreter lock" not in outcome["message"]
    assert "did not hand back" not in outcome["message"]
    assert "PK301" in {f["code"] for f in report["findings"]}, err
