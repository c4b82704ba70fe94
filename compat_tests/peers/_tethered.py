"""Run a server process that dies with the peer, even when the peer is killed without cleanup.

``python -m compat_tests.peers._tethered CMD...`` starts CMD and ends it (SIGTERM, then SIGKILL)
as soon as its own stdin closes. The peer holds the other end of that pipe, so the server goes
when the peer goes, however it went: a peer's ``os._exit`` runs no cleanup, and the suite's
group kill does not reach a server that started its own session. Portable where Linux's
``PR_SET_PDEATHSIG`` is not (the macOS CI job).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def spawn(cmd: list[str], log: Path, cwd: Path | None = None) -> subprocess.Popen:
    """Start ``cmd`` tethered to this process; its output goes to ``log``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "compat_tests.peers._tethered", *cmd],
            stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
            cwd=cwd or ROOT, env=env,
        )  # fmt: skip


def free_port() -> int:
    # The server binds it a moment later; nothing else on 127.0.0.1 takes ports that fast.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout_s: float = 30) -> None:
    """Return once 127.0.0.1:port accepts; RuntimeError with the log's tail if it never does."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
    raise RuntimeError(f"{proc.args[3]} did not listen on port {port}: {tail}")


def _end_when_stdin_closes(child: subprocess.Popen) -> None:
    sys.stdin.buffer.read()  # returns when the peer's end of the pipe closes
    child.terminate()
    try:
        child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        child.kill()


def main(cmd: list[str]) -> None:
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    threading.Thread(target=_end_when_stdin_closes, args=(child,), daemon=True).start()
    sys.exit(child.wait())  # a server that dies early shows as a dead tether: wait_for_port sees it


if __name__ == "__main__":
    main(sys.argv[1:])
