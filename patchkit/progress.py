"""A status line on stderr while a long audit runs, for the person watching a terminal.

The parent sees only what the audit's results directory shows while the target runs: how long it
has run, and how many processes are followed (each writes ``process-<pid>.json`` when armed).
Findings reach the parent when each process hands them back, at its end, so the line cannot
count them. Nothing is written unless stderr is a terminal and CI is unset; the line appears
after a second (short audits stay quiet) and is erased when the audit ends.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TextIO

from patchkit import _real

DELAY_S = 1.0  # audits shorter than this show nothing
EVERY_S = 0.5
_CLEAR = "\r\033[K"


def wanted(stream: TextIO | None, environ: dict[str, str] | None = None) -> bool:
    """A terminal, and not CI (``CI=true``, as every CI service sets it)."""
    env = os.environ if environ is None else environ
    if env.get("CI", "").strip().lower() in ("1", "true", "yes"):
        return False
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):
        return False


def count_processes(directory: str) -> int:
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    return sum(1 for name in names if name.startswith("process-") and name.endswith(".json"))


def line(elapsed: float, processes: int) -> str:
    noun = "process" if processes == 1 else "processes"
    return f"patchkit audit: running {elapsed:.0f} s, {processes} {noun} followed"


class Progress:
    """Start with the results directory (``run_child``'s ``on_start``); ``stop()`` erases it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._shown = False

    def start(self, directory: str) -> None:
        started = _real.monotonic()
        self._thread = threading.Thread(
            target=self._loop, args=(directory, started), name="patchkit-progress", daemon=True
        )
        self._thread.start()

    def _loop(self, directory: str, started: float) -> None:
        if self._done.wait(DELAY_S):
            return
        while not self._done.is_set():
            self._write(_CLEAR + line(_real.monotonic() - started, count_processes(directory)))
            self._shown = True
            self._done.wait(EVERY_S)

    def stop(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        if self._shown:
            self._write(_CLEAR)

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            self._done.set()


def for_audit(stream: TextIO | None = None) -> Progress | None:
    """A Progress on stderr when wanted, else None."""
    stream = sys.stderr if stream is None else stream
    return Progress(stream) if wanted(stream) else None
