"""One report from every process the audit followed (see ``patchkit.audit.follow``).

Each process left ``process-<pid>.json`` (who it is) and, unless it was killed outright,
``results-<pid>.json`` (its findings). The main process's outcome is the target's outcome; every
finding gets its process's pid. A static fact found the same in several processes (the same
PK102 in every worker) is reported once, with the pids in ``detail["processes"]``; runtime
findings (PK301, PK302) stay one per process, because which worker stalled, how often and how
long are facts about that worker.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass, field
from typing import Any

from patchkit import _real
from patchkit.audit.protocol import finding_from_dict
from patchkit.findings import Finding, Outcome

RUNTIME = ("PK301", "PK302")
_ROLES = ("main", "worker", "child")


@dataclass(frozen=True)
class Merged:
    """What every followed process handed back. ``outcome`` is None when the main process wrote
    no results (the launcher then says how it ended); ``error`` is a bad --profile or config."""

    outcome: Outcome | None = None
    findings: list[Finding] = field(default_factory=list)
    patches: list[dict[str, Any]] = field(default_factory=list)
    processes: tuple[dict[str, Any], ...] = ()
    error: str | None = None


def read_all(directory: str) -> Merged:
    """Every process's results file (``ChildResult`` JSON), merged into one."""
    described = _read_many(directory, "process")
    results = _read_many(directory, "results")
    for data in results.values():
        if data.get("error"):  # a bad --profile or config in the main process: nothing ran
            return Merged(error=str(data["error"]))
    processes = _processes(described, results)
    main = next((p["pid"] for p in processes if p["role"] == "main"), None)
    findings = [
        finding_from_dict(item) for item in _findings(results, [p["pid"] for p in processes])
    ]
    outcome = None
    if main in results and results[main].get("outcome"):
        raw = dict(results[main]["outcome"])
        silent = [p for p in processes if p["pid"] not in results]
        if silent:
            raw["message"] = _join(raw.get("message"), silent)
        outcome = Outcome(**raw)
    return Merged(outcome, findings, _patches(results, main), tuple(processes))


def wait_for_all(directory: str, limit: float) -> bool:
    """Wait (at most ``limit`` s) until every process that was followed wrote its results."""
    deadline = _real.monotonic() + limit
    while True:
        waiting = set(_read_many(directory, "process")) - set(_read_many(directory, "results"))
        if not any(_alive(pid) for pid in waiting):
            return not waiting
        if _real.monotonic() >= deadline:
            return False
        _real.sleep(0.05)


def _alive(pid: int) -> bool:
    """Whether ``pid`` can still write its results (a zombie or a gone process cannot)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not os.path.isdir("/proc/self")  # /proc exists but has no entry: gone


def _read_many(directory: str, kind: str) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for path in glob.glob(os.path.join(directory, f"{kind}-*.json")):
        pid = os.path.basename(path)[len(kind) + 1 : -len(".json")]
        data = _read_json(path)
        if data is not None and pid.isdigit():
            found[int(pid)] = data
    return found


def _read_json(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _processes(
    described: dict[int, dict[str, Any]], results: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Main first, then workers, then children, each in the order they started."""
    pids = set(described) | set(results)
    rows = []
    for pid in pids:
        about = described.get(pid, {})
        role = about.get("role") if about.get("role") in _ROLES else "child"
        rows.append((_ROLES.index(role), about.get("started") or 0.0, pid, role, about))
    rows.sort(key=lambda row: row[:3])
    return [
        {"pid": pid, "role": role, "argv": list(about.get("argv") or [])}
        for _, _, pid, role, about in rows
    ]


def _findings(results: dict[int, dict[str, Any]], order: list[int]) -> list[dict[str, Any]]:
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for pid in order:
        for item in (results.get(pid) or {}).get("findings", []):
            item = {**item, "process": pid}
            if item.get("code") in RUNTIME:
                out.append(item)
                continue
            key = (item.get("code"), item.get("file"), item.get("line"), item.get("message"))
            first = merged.get(key)
            if first is None:
                merged[key] = item
                out.append(item)
                continue
            pids = first.setdefault("detail", {}).setdefault("processes", [first["process"]])
            if pid not in pids:
                pids.append(pid)
    return out


def _patches(results: dict[int, dict[str, Any]], main: int | None) -> list[dict[str, Any]]:
    """The main's patch ledger, then what workers patched themselves (gunicorn's gevent worker)."""
    seen: set[str] = set()
    out = []
    pids = sorted(results, key=lambda pid: pid != main)
    for pid in pids:
        for record in results[pid].get("patches", []):
            key = json.dumps(record, sort_keys=True, default=str)
            if key not in seen:
                seen.add(key)
                out.append(record)
    return out


def _join(message: str | None, silent: list[dict[str, Any]]) -> str:
    names = ", ".join(f"{p['role']} pid {p['pid']}" for p in silent)
    note = f"{names} ended without handing back findings (killed outright)"
    return f"{message}; {note}" if message else note
