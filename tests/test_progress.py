"""The progress line: only for a person at a terminal, erased at the end, silent elsewhere."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

from patchkit import progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_wanted_only_on_a_terminal_outside_ci() -> None:
    assert progress.wanted(FakeTerminal(), {}) is True
    assert progress.wanted(io.StringIO(), {}) is False
    assert progress.wanted(FakeTerminal(), {"CI": "true"}) is False
    assert progress.wanted(None, {}) is False


def test_the_line_counts_followed_processes_and_is_erased(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(progress, "DELAY_S", 0.0)
    monkeypatch.setattr(progress, "EVERY_S", 0.01)
    for pid in (11, 12):
        (tmp_path / f"process-{pid}.json").write_text("{}")
    (tmp_path / "results-11.json").write_text("{}")
    stream = FakeTerminal()
    shown = progress.Progress(stream)
    seen = threading.Event()
    real_write = stream.write

    def write(text: str) -> int:
        if "2 processes followed" in text:
            seen.set()
        return real_write(text)

    stream.write = write  # type: ignore[method-assign]
    shown.start(str(tmp_path))
    assert seen.wait(10)
    shown.stop()
    out = stream.getvalue()
    assert out.startswith("\r\033[K" + "patchkit audit: running 0 s, 2 processes followed")
    assert out.endswith("\r\033[K")


def test_a_short_run_writes_nothing(tmp_path: Path) -> None:
    stream = FakeTerminal()
    shown = progress.Progress(stream)
    shown.start(str(tmp_path))
    shown.stop()  # well before DELAY_S
    assert stream.getvalue() == ""


def test_audit_in_a_pseudo_terminal_shows_progress_and_a_pipe_does_not(tmp_path: Path) -> None:
    import pty
    import subprocess
    import sys

    from tests.helpers import clean_env

    (tmp_path / "app.py").write_text("import time\ntime.sleep(2.5)\n")
    env = {k: v for k, v in clean_env().items() if k != "CI"}
    command = [sys.executable, "-m", "patchkit", "audit", "app.py"]
    piped = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=60)  # fmt: skip
    assert "processes followed" not in piped.stderr and "process followed" not in piped.stderr
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=follower, timeout=60)  # fmt: skip
        os.close(follower)
        follower = -1
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    assert proc.returncode == 0
    assert b"patchkit audit: running" in seen and b"1 process followed" in seen
    assert seen.endswith(b"\r\x1b[K")
    ci = subprocess.run(command, cwd=tmp_path, env={**env, "CI": "true"}, capture_output=True,
                        text=True, timeout=60)  # fmt: skip
    assert "followed" not in ci.stderr
