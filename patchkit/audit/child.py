"""The audit's child side: arm the detectors, run the target as python would, hand back findings.

``python -m patchkit.audit.child SPEC_JSON``. Order matters: tripwires go in before the target
imports anything (so stale names capture the wrappers), then the import hook and the hub watch,
then the profile, then the target. However the target ends (return, exception, ``sys.exit``,
``os._exit``, a hang past the deadline) one results file is written for the parent, atomically.
"""

from __future__ import annotations

# isort: off
from patchkit.detect import tripwires  # first: before anything else binds the originals

# isort: on
import builtins
import contextlib
import faulthandler
import importlib.util
import json
import os
import sys
import time
import traceback
import types
from typing import Any

from patchkit.audit import follow
from patchkit.detect.watch import Watch, real_start_new_thread
from patchkit.errors import PatchkitError
from patchkit.findings import Finding
from patchkit.target import Target

_OWN = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_real_exit = os._exit


class Session:
    """Everything the child arms, and the one place that writes the results file."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.results = follow.results_file(spec["results_dir"])
        self.timeout = float(spec["timeout"])
        # A wall-clock deadline set by the parent: a slow start-up here does not move it.
        self.deadline = float(spec.get("deadline") or time.time() + self.timeout)
        self.watch = Watch(float(spec["threshold"]))
        self.lock = tripwires._allocate_lock()
        self.written = False
        self.target_done = False
        self.pid = os.getpid()
        self.hub_ident = tripwires._get_ident()
        self.started = time.perf_counter()
        self._stacks_file: Any = None

    def arm(self) -> None:
        """Import hook, hub watch, deadline thread, last-chance stack dump, ``os._exit`` hook."""
        try:
            from patchkit import imports

            imports.install()
        except ImportError:
            pass
        self.watch.start()
        real_start_new_thread()(self._deadline, ())
        if self.spec.get("stacks"):
            # A C call that never lets go of the GIL starves our threads; faulthandler's own C
            # thread still dumps every stack for the parent, then ends the process.
            self._stacks_file = open(self.spec["stacks"], "w")  # noqa: SIM115 -- lives to the end
            last_chance = max(self.deadline - time.time(), 0.0) + 1.0
            faulthandler.dump_traceback_later(last_chance, exit=True, file=self._stacks_file)
        os._exit = self._os_exit

    def _os_exit(self, code: int) -> None:
        if os.getpid() == self.pid and not self.written:
            self.finish({"status": "exit", "exit_code": code, "message": f"os._exit({code})"})
        _real_exit(code)

    def _deadline(self) -> None:
        sleep = tripwires.original("time", "sleep")
        while time.time() < self.deadline:
            sleep(min(0.05, max(self.deadline - time.time(), 0.001)))
        stuck = _stuck_stacks({self.hub_ident: "main thread"})
        ended = "its code returned but the interpreter did not exit; " if self.target_done else ""
        outcome = {
            "status": "timeout",
            "exit_code": None,
            "message": f"{ended}did not finish within {self.timeout:g} s; stuck at:\n{stuck}",
        }
        self.finish(outcome, force=True, ongoing=True)
        _real_exit(124)

    def finish(self, outcome: dict[str, Any], force: bool = False, ongoing: bool = False) -> None:
        """Collect every finding and write the results file (once; the deadline may overwrite)."""
        with self.lock:
            if self.written and not force:
                return
            outcome.setdefault("duration_s", time.perf_counter() - self.started)
            on_hub = tripwires._get_ident() == self.hub_ident
            if on_hub:
                self.watch.stop()
            findings = self.watch.findings(include_ongoing=ongoing or not on_hub)
            findings += _scan_findings()
            data = {
                "outcome": outcome,
                "findings": [_finding_dict(f) for f in findings],
                "patches": _patch_records(),
            }
            _write_json(self.results, data)
            self.written = True


def _finding_dict(finding: Finding) -> dict[str, Any]:
    out = finding.as_dict()
    out["detail"] = dict(finding.detail)
    return out


def _scan_findings() -> list[Finding]:
    """The static helper's scan over loaded modules, plus the ledger's own findings."""
    found: list[Finding] = []
    try:
        from patchkit.detect.scan import scan_findings

        found += scan_findings()
    except Exception as exc:  # the scan must never cost the runtime findings
        print(f"patchkit audit: the module scan failed: {exc!r}", file=sys.stderr)
    try:
        import patchkit

        found += patchkit.state().findings()
    except Exception as exc:
        print(f"patchkit audit: the ledger failed: {exc!r}", file=sys.stderr)
    return found


def _patch_records() -> list[dict[str, Any]]:
    try:
        import patchkit

        return list(patchkit.state().patch_records())
    except Exception:
        return []


def _write_json(path: str, data: dict[str, Any]) -> None:
    partial = f"{path}.{os.getpid()}.tmp"
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(data, handle, default=str)
    os.replace(partial, path)


def _stuck_stacks(names: dict[int, str]) -> str:
    """Where each other thread and each suspended greenlet is, innermost app frame first."""
    own = tripwires._get_ident()
    lines = []
    for ident, frame in sys._current_frames().items():
        if ident == own:
            continue
        lines.append(_where(names.get(ident, f"thread {ident:#x}"), frame))
    for glet in _suspended_greenlets()[:10]:
        lines.append(_where(tripwires.greenlet_label(glet), glet.gr_frame))
    return "\n".join(line for line in lines if line)


def _where(label: str, frame: Any) -> str:
    stack = tripwires.frame_stack(frame)
    if not stack:
        return ""
    app = [entry for entry in stack if tripwires.is_app_file(entry.rsplit(":", 2)[0])]
    if not app and "gevent" in stack[-1]:
        return f"  {label}: the hub, waiting for events ({stack[-1]})"
    shown = list(reversed(app or stack))[:3]
    return f"  {label}: " + " <- ".join(shown)


def _suspended_greenlets() -> list[Any]:
    import gc

    try:
        from greenlet import greenlet
    except ImportError:
        return []
    found = []
    for obj in gc.get_objects():
        if isinstance(obj, greenlet) and obj.gr_frame is not None and not obj.dead:
            frame = obj.gr_frame
            # Only greenlets parked in user code: the hub and idle pool workers say nothing.
            entries = tripwires.frame_entries(frame)
            if any(tripwires.is_app_file(file) for file, _, _ in entries):
                found.append(obj)
    return found


def execute(target: Target) -> None:
    """Run ``target`` in a fresh ``__main__`` that stays in ``sys.modules`` for the scan."""
    spec = None
    if target.kind == "module":
        name = target.name
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations is not None:
            name = f"{name}.__main__"
            spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or spec.origin is None:
            raise PatchkitError(f"{target.name}: cannot run module")
        code = spec.loader.get_code(name)  # type: ignore[attr-defined]
        filename = spec.origin
        sys.argv[0] = filename
    else:
        filename = os.path.abspath(target.name)
        if os.path.isdir(filename):
            filename = os.path.join(filename, "__main__.py")
        with open(filename, "rb") as handle:
            code = compile(handle.read(), filename, "exec")
    module = types.ModuleType("__main__")
    module.__dict__.update(__file__=filename, __builtins__=builtins, __cached__=None)
    module.__spec__ = spec
    module.__loader__ = spec.loader if spec else None
    module.__package__ = spec.parent if spec else None
    sys.modules["__main__"] = module
    exec(code, module.__dict__)


def _preload() -> None:
    """Import what ``finish`` needs now: the target's ``sys.path[0]`` may not reach patchkit."""
    with contextlib.suppress(ImportError):
        import patchkit.detect.scan  # noqa: F401


def run(target: Target) -> dict[str, Any]:
    """Run the target and say how it ended: completed, exception or exit (with the status)."""
    try:
        execute(target)
    except SystemExit as exc:
        code = exc.code
        if code is None or isinstance(code, int):
            return {"status": "exit", "exit_code": code or 0, "message": f"sys.exit({code})"}
        print(code, file=sys.stderr)  # python prints a non-integer exit argument, status 1
        return {"status": "exit", "exit_code": 1, "message": f"sys.exit({code!r})"}
    except BaseException as exc:
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_OWN):
            tb = tb.tb_next
        traceback.print_exception(type(exc), exc, tb)
        line = traceback.format_exception_only(type(exc), exc)[-1].strip()
        frames = list(traceback.walk_tb(tb))
        if frames:
            frame, lineno = frames[-1]
            line = f"{line} (raised at {frame.f_code.co_filename}:{lineno})"
        status = 130 if isinstance(exc, KeyboardInterrupt) else 1
        return {"status": "exception", "exit_code": status, "message": line}
    return {"status": "completed", "exit_code": 0}


def main(argv: list[str] | None = None) -> int:
    spec = json.loads((sys.argv[1:] if argv is None else argv)[0])
    target = Target(spec["kind"], spec["name"], tuple(spec["args"]))
    tripwires.install()
    session = Session(spec)
    session.arm()
    follow.arm(session)
    if spec.get("profile"):
        try:
            from patchkit.manager import apply

            apply(spec["profile"], requested_by=f"patchkit audit --profile {spec['profile']}")
        except PatchkitError as exc:
            _write_json(session.results, {"error": str(exc)})
            return 2
    from patchkit.runner import prepare

    _preload()
    prepare(target)
    outcome = run(target)
    session.target_done = True
    session.finish(outcome)
    return int(outcome["exit_code"] or 0)


if __name__ == "__main__":
    sys.exit(main())
