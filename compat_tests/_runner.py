"""Suite side: start peers on demand, run one probe process with a hard timeout, never orphan.

Each probe and peer runs in its own session (process group); when a probe finishes or is
killed, the whole group goes, pool workers included.

Probes of several pytest processes (profiles run at once, xdist workers) share the machine. A
probe normally runs *shared*; ``run_probe(..., alone=True)`` runs it *alone*: it waits until
the probes running now have finished and keeps new ones from starting until it is done (a
readers-writer lock over two ``flock`` files: the gate stops new probes, the lock waits for
running ones). The suite re-measures a cell alone when a shared run disagreed with
expected.toml, so CPU contention from parallel probes can never decide a changed outcome.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from compat_tests._probe import MARKER
from compat_tests.cases import Case

ROOT = Path(__file__).resolve().parent.parent
PEER_START_S = 45.0
LOCK_ENV = "PATCHKIT_COMPAT_LOCK"
LOCK_WAIT_S = 120.0  # longer than any probe's timeout: running probes end or are killed by then


class PeerUnavailable(RuntimeError):
    pass


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("PATCHKIT_PROFILE", None)  # peers run unpatched; probes get the profile explicitly
    return env


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _tail(stream: IO[bytes], limit: int = 600) -> str:
    stream.seek(0)
    return stream.read().decode(errors="replace").strip()[-limit:]


class PeerPool:
    """Peers by kind, started the first time a case needs one, stopped at the end."""

    def __init__(self) -> None:
        self._running: dict[str, tuple[subprocess.Popen, dict[str, Any]]] = {}
        self._failed: dict[str, str] = {}

    def get(self, kind: str) -> dict[str, Any]:
        if kind in self._failed:
            raise PeerUnavailable(self._failed[kind])
        if kind not in self._running:
            try:
                self._running[kind] = self._start(kind)
            except PeerUnavailable as exc:
                self._failed[kind] = str(exc)
                raise
        return self._running[kind][1]

    def _start(self, kind: str) -> tuple[subprocess.Popen, dict[str, Any]]:
        errors = tempfile.TemporaryFile()  # noqa: SIM115 - read only if the peer fails
        proc = subprocess.Popen(
            [sys.executable, "-m", "compat_tests._peers", kind],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
            env=_env(), start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + PEER_START_S
        while time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([proc.stdout], [], [], 0.5)
            line = proc.stdout.readline().decode() if ready else ""
            if line.startswith("READY "):
                return proc, json.loads(line[len("READY ") :])
        _kill_group(proc)
        raise PeerUnavailable(f"the local {kind} peer did not start: {_tail(errors)}")

    def close(self) -> None:
        for proc, _ in self._running.values():
            proc.stdin.close()  # the peer exits when its stdin closes
        for proc, _ in self._running.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            _kill_group(proc)
        self._running.clear()


def _lock_path(suffix: str) -> Path:
    base = os.environ.get(LOCK_ENV) or os.path.join(
        tempfile.gettempdir(), f"patchkit-compat-{os.getuid()}.lock"
    )
    return Path(base + suffix)


def _flock(path: Path, mode: int, deadline: float) -> int | None:
    """An fd holding ``mode`` on ``path``, or None when the deadline passed first."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                return None
            time.sleep(0.05)


@contextlib.contextmanager
def probe_slot(alone: bool, wait_s: float = LOCK_WAIT_S) -> Any:
    """Run shared with other probes, or alone; yields False when ``alone`` could not be had in
    ``wait_s`` (the probe then runs anyway, and says so)."""
    deadline = time.monotonic() + wait_s
    held: list[int] = []
    try:
        gate = _flock(_lock_path(".gate"), fcntl.LOCK_EX if alone else fcntl.LOCK_SH, deadline)
        if gate is not None:
            held.append(gate)
        main = _flock(_lock_path(""), fcntl.LOCK_EX if alone else fcntl.LOCK_SH, deadline)
        if main is not None:
            held.append(main)
        if not alone and gate is not None:
            os.close(held.pop(0))  # past the gate: a waiting `alone` probe may close it now
        yield not alone or len(held) == 2
    finally:
        for fd in held:
            os.close(fd)


def run_probe(
    case: Case, profile: str, peers: dict[str, Any], *, alone: bool = False
) -> dict[str, Any]:
    """Measure ``case`` in a fresh interpreter patched with ``profile``; ``alone``: while no
    other probe of this machine's compat runs (see the module docstring)."""
    with probe_slot(alone) as exclusive:
        result = _run_probe(case, profile, peers)
    if alone and not exclusive:
        result["detail"] += f" (could not run alone within {LOCK_WAIT_S:.0f} s)"
    return result


def _run_probe(case: Case, profile: str, peers: dict[str, Any]) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "compat_tests._probe", profile, case.library, json.dumps(peers)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=_env(), start_new_session=True)
        try:
            proc.wait(timeout=case.timeout_s)
            hung = False
        except subprocess.TimeoutExpired:
            hung = True
        _kill_group(proc)
        lines = [ln for ln in _tail(out, 10**6).splitlines() if ln.startswith(MARKER)]
        if lines:
            return json.loads(lines[-1][len(MARKER) :])
        stderr = _tail(err, 4000)
    phases = [ln[len("phase: ") :] for ln in stderr.splitlines() if ln.startswith("phase: ")]
    where = f"during {phases[-1]}" if phases else "before setup"
    if hung:
        why = f"hang: no result within {case.timeout_s:.0f} s ({where})"
    else:
        why = f"the probe died with exit status {proc.returncode} ({where}): {stderr[-300:]}"
    return {"outcome": "broken", "factor": None, "max_stall_s": None, "detail": why}
