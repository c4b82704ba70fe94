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
from typing import Any

from patchkit import _real

RUNTIME = ("PK301", "PK302")
_ROLES = ("main", "worker", "child")


def read_all(directory: str) -> dict[str, Any] | None:
    """Everything the processes handed back, merged; None when no process wrote anything.

    The shape is one process's results file plus ``processes``; ``outcome`` is missing when the
    main process never wrote its results (the launcher then says how it ended).
    """
    described = _read_many(directory, "process")
    results = _read_many(directory, "results")
    for data in results.values():
        if "error" in data:  # a bad --profile in the main process: nothing ran
            return {"error": data["error"]}
    if not results:
        return None
    processes = _processes(described, results)
    main = next((p["pid"] for p in processes if p["role"] == "main"), None)
    merged: dict[str, Any] = {
        "processes": processes,
        "findings": _findings(results, [p["pid"] for p in processes]),
        "patches": _patches(results, main),
    }
    if main in results and "outcome" in results[main]:
        merged["outcome"] = dict(results[main]["outcome"])
        silent = [p for p in processes if p["pid"] not in results]
        if silent:
            merged["outcome"]["message"] = _join(merged["outcome"].get("message"), silent)
    return merged


def wait_for_all(directory: str, limit: float) -> bool:
    """Wait (at most ``limit`` s) until every process that was followed wrote its results."""
    deadline = _real.monotonic() + limit
    while True:
        described = set(_read_many(directory, "process"))
        if described <= set(_read_many(directory, "results")):
            return True
        if _real.monotonic() >= deadline:
            return False
        _real.sleep(0.05)


def labels(processes: list[dict[str, Any]]) -> dict[int, str]:
    """``{pid: "worker 2 (pid 4711)"}``: workers and children numbered in the order they started."""
    out: dict[int, str] = {}
    seen = dict.fromkeys(_ROLES, 0)
    for proc in processes:
        role = proc.get("role", "child")
        seen[role] = seen.get(role, 0) + 1
        number = "" if role == "main" else f" {seen[role]}"
        out[proc["pid"]] = f"{role}{number} (pid {proc['pid']})"
    return out


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
