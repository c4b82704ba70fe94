"""The compat suite's peers leave nothing behind: their temporary files go when they end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _start_peer(kind: str, tmp: Path) -> tuple[subprocess.Popen, dict]:
    env = dict(os.environ, TMPDIR=str(tmp), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "compat_tests._peers", kind],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    line = proc.stdout.readline()
    assert line.startswith("READY "), line
    return proc, json.loads(line[len("READY ") :])


def test_a_peer_removes_its_temporary_files_when_the_suite_closes_its_stdin(tmp_path):
    proc, info = _start_peer("sqlite_lock", tmp_path)
    database = Path(info["path"])
    assert database.exists() and database.is_relative_to(tmp_path)
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
    assert not database.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_peer_removes_what_a_killed_peer_left(tmp_path):
    killed, info = _start_peer("sqlite_lock", tmp_path)
    killed.kill()
    killed.wait(timeout=30)
    left = Path(info["path"]).parent.parent  # the killed peer's scratch directory
    assert left.exists()
    proc, _ = _start_peer("sqlite_lock", tmp_path)
    try:
        assert not left.exists()
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert list(tmp_path.iterdir()) == []
