"""The audit's parent side: start the child, enforce the limits, collect, never orphan.

The child runs in its own session (so its process group is ours to signal, and a Ctrl-C at the
terminal reaches only us), with its stdout joined to our stderr: the report stays the only thing
on our stdout. ``--duration`` and an interrupted audit (SIGINT, SIGTERM, SIGHUP) stop the target
the same graceful way: SIGINT, then SIGTERM, then SIGKILL. However it ends, every process of the
target's tree is killed afterwards (see ``tree``), and the temporary directory is removed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator

from patchkit import _real
from patchkit._frames import is_patchkit_file
from patchkit.audit import merge
from patchkit.audit.protocol import ChildResult, ChildSpec
from patchkit.audit.tree import ProcessTree
from patchkit.errors import PatchkitError
from patchkit.findings import Outcome
from patchkit.target import Target

GRACE_S = 3.0  # after the deadline: the child's watchdog writes its findings and exits itself
STOP_SIGINT_S = 3.0  # a stopped target has this long to end on KeyboardInterrupt...
STOP_SIGTERM_S = 3.0  # ...then this long after SIGTERM, before SIGKILL
POLL_S = 0.1
_AUDIT_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def run_child(
    target: Target,
    *,
    profile: str | None,
    timeout: float,
    threshold: float,
    duration: float | None = None,
    on_start: Callable[[str], None] | None = None,
) -> ChildResult:
    """Run ``target`` under the detectors in a child interpreter and collect what it found.

    ``duration`` (seconds) stops the target gracefully; the outcome is then ``stopped``.
    ``on_start`` is told the results directory (for a progress line that counts processes).
    """
    try:
        os.getcwd()
    except OSError:
        raise PatchkitError("the working directory no longer exists") from None
    tmp = tempfile.mkdtemp(prefix="patchkit-audit-")
    try:
        spec = ChildSpec.for_target(
            target,
            profile=profile,
            timeout=timeout,
            threshold=threshold,
            duration=duration,
            deadline=_real.monotonic() + timeout,
            results_dir=tmp,
            stacks=os.path.join(tmp, "stacks.txt"),
            stop_file=os.path.join(tmp, "stop"),
            stop_grace=STOP_SIGINT_S + STOP_SIGTERM_S / 2,
        )
        spec_path = os.path.join(tmp, "spec.json")
        spec.write(spec_path)
        if on_start is not None:
            on_start(tmp)
        with _audit_signals() as interrupts:
            return _run(spec, spec_path, interrupts)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(spec: ChildSpec, spec_path: str, interrupts: list[int]) -> ChildResult:
    tree = ProcessTree()
    try:
        started = _real.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "patchkit.audit.child", spec_path],
            stdout=_stderr_fd(),
            start_new_session=True,
        )
        tree.start(proc.pid)
        try:
            stopped_by, timed_out = _supervise(proc, spec, tree, interrupts)
        finally:
            # Followed processes still alive (workers, pool children) write their findings on
            # SIGTERM; the group is killed once they have, or after the grace period.
            _signal_group(proc, signal.SIGTERM)
            merge.wait_for_all(spec.results_dir, GRACE_S)
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
            tree.kill_all()
        wall = _real.perf_counter() - started
    finally:
        tree.close()
    result = _collect(spec, proc.returncode, stopped_by, timed_out, wall)
    return dataclasses.replace(result, pid=proc.pid)


@contextlib.contextmanager
def _audit_signals() -> Iterator[list[int]]:
    """Ctrl-C, SIGTERM and SIGHUP to the audit are noted (not raised) while the target runs."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = {}
    for name in _AUDIT_SIGNALS:
        signum = getattr(signal, name, None)
        if signum is not None:
            previous[signum] = signal.signal(signum, lambda n, _f: received.append(n))
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _supervise(
    proc: subprocess.Popen[bytes], spec: ChildSpec, tree: ProcessTree, interrupts: list[int]
) -> tuple[str | None, bool]:
    """Wait for the child. Returns who stopped it (``duration`` or a signal name) and whether
    it had to be killed at the deadline."""
    started = _real.monotonic()
    stop_at = started + spec.duration if spec.duration else None
    next_record = started
    while proc.poll() is None:
        now = _real.monotonic()
        if interrupts:
            _stop(proc, spec)
            return signal.Signals(interrupts[0]).name, False
        if stop_at is not None and now >= stop_at:
            _stop(proc, spec)
            return "duration", False
        if now >= spec.deadline + GRACE_S:
            return None, True
        if not tree.reaping and now >= next_record:  # no subreaper: remember orphans-to-be
            tree.record()
            next_record = now + 0.25
        try:
            proc.wait(POLL_S)
        except subprocess.TimeoutExpired:
            pass
        except KeyboardInterrupt:  # no handler of ours (not the main thread)
            interrupts.append(signal.SIGINT)
    return None, False


def _stop(proc: subprocess.Popen[bytes], spec: ChildSpec) -> None:
    """SIGINT (KeyboardInterrupt in the target), then SIGTERM, then SIGKILL to the group."""
    with contextlib.suppress(OSError), open(spec.stop_file, "w", encoding="utf-8"):
        pass
    for signum, wait_s in ((signal.SIGINT, STOP_SIGINT_S), (signal.SIGTERM, STOP_SIGTERM_S)):
        _signal_group(proc, signum)
        try:
            proc.wait(wait_s)
            return
        except subprocess.TimeoutExpired:
            continue
    _signal_group(proc, signal.SIGKILL)


def _stderr_fd() -> int:
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a captured stderr without a descriptor
        return 2


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(proc.pid, signum)


def _collect(
    spec: ChildSpec, returncode: int, stopped_by: str | None, timed_out: bool, wall: float
) -> ChildResult:
    merged = merge.read_all(spec.results_dir)  # every process the audit followed
    if merged.error:
        return ChildResult(Outcome("exit", returncode, wall), error=merged.error)
    outcome = merged.outcome
    lost = outcome is None
    base = ChildResult(
        outcome or Outcome("exit", returncode, wall),
        merged.findings,
        merged.patches,
        processes=merged.processes,
    )
    if stopped_by is not None:
        return dataclasses.replace(base, outcome=_stopped(spec, stopped_by, base, lost, wall))
    if lost:
        return dataclasses.replace(base, outcome=_lost_outcome(spec, returncode, timed_out, wall))
    return base


def _stopped(spec: ChildSpec, by: str, base: ChildResult, lost: bool, wall: float) -> Outcome:
    if by == "duration":
        status, message = "stopped", f"stopped after {spec.duration:g} s (--duration)"
    else:
        status, message = "interrupted", f"the audit got {by}; the target was stopped"
    if lost:
        message += "; it did not hand back its runtime findings, only the static ones are reported"
    return Outcome(status, base.outcome.exit_code, base.outcome.duration_s or wall, message)


def _lost_outcome(spec: ChildSpec, returncode: int, timed_out: bool, wall: float) -> Outcome:
    """The child ended without writing results: say so, with faulthandler's stacks if any."""
    stacks = _read_stacks(spec.stacks)
    if timed_out or stacks:
        message = (
            f"did not finish within {spec.timeout:g} s and never released the interpreter "
            "lock, so no runtime findings could be collected"
        )
        if stacks:
            message += f"; stacks at the deadline:\n{stacks}"
        return Outcome("timeout", None, wall, message)
    lost = "the target ended without handing back its runtime findings; only the static findings "
    lost += "are reported"
    if returncode < 0:
        name = _signal_name(-returncode)
        return Outcome("killed", returncode, wall, f"killed by {name}; {lost}")
    return Outcome("exit", returncode, wall, f"exit status {returncode}; {lost}")


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _read_stacks(path: str) -> str:
    """faulthandler's dump, without its banner and without patchkit's own threads."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return ""
    blocks: list[list[str]] = []
    for line in (line.strip() for line in text.splitlines()):
        if line.startswith(("Thread ", "Current thread ")):
            blocks.append([line])
        elif line.startswith("File ") and blocks:
            blocks[-1].append(line)
    kept = [b for b in blocks if not all(_in_patchkit(line) for line in b[1:])]
    return "\n".join(f"  {line}" for block in kept for line in block)


def _in_patchkit(line: str) -> bool:
    """A faulthandler line is ``File "/path/x.py", line 3 in f``."""
    path = line.split('"', 2)[1] if line.count('"') >= 2 else ""
    return bool(path) and is_patchkit_file(path)
