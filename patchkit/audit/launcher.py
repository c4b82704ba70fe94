"""The audit's parent side: start the child, enforce the timeout, collect, never orphan.

The child runs in its own session (so its process group is ours to kill, and a Ctrl-C at the
terminal reaches only us), with its stdout joined to our stderr: the report stays the only thing
on our stdout. However it ends, the whole group is killed afterwards, so nothing the target
started outlives the audit.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from patchkit.audit import merge
from patchkit.findings import Finding, Outcome
from patchkit.target import Target

GRACE_S = 3.0  # after the deadline: the child's watchdog writes its findings and exits itself


@dataclass
class ChildResult:
    """What came back from the child: how the target ended, findings, the patch ledger."""

    outcome: Outcome
    findings: list[Finding] = field(default_factory=list)
    patches: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # a PatchkitError in the child (a bad --profile): exit status 2
    pid: int | None = None
    processes: list[dict[str, Any]] = field(default_factory=list)


def run_child(
    target: Target, *, profile: str | None, timeout: float, threshold: float
) -> ChildResult:
    """Run ``target`` under the detectors in a child interpreter and collect what it found."""
    with tempfile.TemporaryDirectory(prefix="patchkit-audit-") as tmp:
        spec = {
            "kind": target.kind,
            "name": target.name,
            "args": list(target.args),
            "profile": profile,
            "timeout": timeout,
            "threshold": threshold,
            "deadline": time.time() + timeout,
            "results_dir": tmp,
            "stacks": os.path.join(tmp, "stacks.txt"),
        }
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "patchkit.audit.child", json.dumps(spec)],
            stdout=_stderr_fd(),
            start_new_session=True,
        )
        timed_out = _wait(proc, timeout + GRACE_S, tmp)
        wall = time.perf_counter() - started
        result = _collect(spec, proc.returncode, timed_out, wall)
        result.pid = proc.pid
        return result


def _stderr_fd() -> int:
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a captured stderr without a descriptor
        return 2


def _wait(proc: subprocess.Popen[bytes], limit: float, results_dir: str) -> bool:
    """Wait for the child; True if it had to be killed. The group is killed in every case."""
    timed_out = False
    try:
        proc.wait(limit)
    except subprocess.TimeoutExpired:
        timed_out = True
    except KeyboardInterrupt:
        # Pass the Ctrl-C on: the target sees KeyboardInterrupt and the child still reports.
        _signal_group(proc, signal.SIGINT)
        try:
            proc.wait(GRACE_S)
        except subprocess.TimeoutExpired:
            timed_out = True
    finally:
        _signal_group(proc, signal.SIGTERM)  # the target's other processes flush their findings
        merge.wait_for_all(results_dir, GRACE_S)
        _signal_group(proc, signal.SIGKILL)
        proc.wait()
    return timed_out


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(proc.pid, signum)


def _collect(spec: dict[str, Any], returncode: int, timed_out: bool, wall: float) -> ChildResult:
    data = merge.read_all(spec["results_dir"])  # every process the audit followed
    if data is not None and "error" in data:
        return ChildResult(Outcome("exit", returncode, wall), error=str(data["error"]))
    data = data or {}
    findings = [finding_from_dict(item) for item in data.get("findings", [])]
    patches, processes = list(data.get("patches", [])), list(data.get("processes", []))
    if "outcome" not in data:
        lost = _lost_outcome(spec, returncode, timed_out, wall)
        return ChildResult(lost, findings, patches, processes=processes)
    raw = data["outcome"]
    outcome = Outcome(
        raw.get("status", "exit"),
        raw.get("exit_code"),
        raw.get("duration_s", wall),
        raw.get("message"),
    )
    return ChildResult(outcome, findings, patches, processes=processes)


def _lost_outcome(spec: dict[str, Any], returncode: int, timed_out: bool, wall: float) -> Outcome:
    """The child ended without writing results: say so, with faulthandler's stacks if any."""
    stacks = _read_stacks(spec["stacks"])
    if timed_out or stacks:
        message = (
            f"did not finish within {spec['timeout']:g} s and never released the interpreter "
            "lock, so no runtime findings could be collected"
        )
        if stacks:
            message += f"; stacks at the deadline:\n{stacks}"
        return Outcome("timeout", None, wall, message)
    how = f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
    message = (
        f"the target ended ({how}) without handing back its runtime findings; "
        "only the static findings are reported"
    )
    return Outcome("exit", returncode, wall, message)


def _read_stacks(path: str) -> str:
    """faulthandler's dump, without its banner and without patchkit's own threads."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return ""
    own = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    blocks: list[list[str]] = []
    for line in (line.strip() for line in text.splitlines()):
        if line.startswith(("Thread ", "Current thread ")):
            blocks.append([line])
        elif line.startswith("File ") and blocks:
            blocks[-1].append(line)
    kept = [b for b in blocks if not all(own in line for line in b[1:])]
    return "\n".join(f"  {line}" for block in kept for line in block)


def finding_from_dict(item: dict[str, Any]) -> Finding:
    """The inverse of ``Finding.as_dict`` (the child hands findings over as JSON)."""
    return Finding(
        item["code"],
        item["message"],
        module=item.get("module"),
        file=item.get("file"),
        line=item.get("line"),
        object=item.get("object"),
        fix=item.get("fix") or "",
        stack=tuple(item.get("stack") or ()),
        detail=item.get("detail") or {},
        process=item.get("process"),
    )
