"""The audit's child side: arm the detectors, run the target as python would, hand back findings.

``python -m patchkit.audit.child SPEC_FILE``. Order matters: tripwires go in before the target
imports anything (so stale names capture the wrappers), then the import hook and the hub watch,
then the profile, then the target. However the target ends (return, exception, ``sys.exit``,
``os._exit``, SIGTERM, a stop by the launcher, a hang past the deadline) one ``ChildResult`` is
written for the parent, atomically. Every deadline is on ``patchkit._real``'s clocks, captured
before the target could replace ``time.time`` or ``time.monotonic``.
"""

from __future__ import annotations

# isort: off
from patchkit.detect import tripwires  # first: before anything else binds the originals

# isort: on
import contextlib
import dataclasses
import faulthandler
import os
import signal
import sys
import traceback
from typing import Any

from patchkit import _frames, _real, imports, runner
from patchkit.audit import follow
from patchkit.audit.protocol import ChildResult, ChildSpec
from patchkit.detect.collect import collect
from patchkit.detect.watch import Watch
from patchkit.errors import ConfigError, PatchkitError, ProfileError, TargetError
from patchkit.findings import Finding, Outcome
from patchkit.target import Target

# A patchkit error the target's own ``import patchkit.auto`` / ``apply()`` raised: the project's
# configuration is wrong, so the audit cannot do its job (exit status 2), not a target crash.
CONFIG_ERRORS = (ConfigError, ProfileError)


class Session:
    """Everything the child arms, and the one place that writes the results file."""

    def __init__(self, spec: ChildSpec) -> None:
        self.spec = spec
        self.results = follow.results_file(spec.results_dir)
        self.watch = Watch(spec.threshold)
        self.lock = _real.allocate_lock()
        self.writer: int | None = None  # the thread writing now (a signal may interrupt it)
        self.pending_signal: int | None = None  # a SIGTERM that arrived during that write
        self.written = False
        self.target_done = False
        self.pid = os.getpid()
        self.hub_ident = _real.get_ident()
        self.started = _real.perf_counter()
        self._stacks_file: Any = None

    def arm(self) -> None:
        """Import hook, hub watch, deadline thread, last-chance stack dump, exit hooks."""
        imports.install()
        self.watch.start()
        _real.start_new_thread(self._deadline, ())
        # A C call that never lets go of the GIL starves our threads; faulthandler's own C
        # thread still dumps every stack for the parent, then ends the process.
        self._stacks_file = open(self.spec.stacks, "w")  # noqa: SIM115 -- lives to the end
        last_chance = max(self.spec.deadline - _real.monotonic(), 0.0) + 1.0
        faulthandler.dump_traceback_later(last_chance, exit=True, file=self._stacks_file)
        os._exit = self._os_exit
        signal.signal(signal.SIGTERM, self._on_sigterm)

    def _os_exit(self, code: int) -> None:
        if os.getpid() == self.pid:
            self.finish(Outcome("exit", _status(code), message=f"os._exit({code})"))
        _real.exit_now(code)

    def _on_sigterm(self, signum: int, _frame: Any) -> None:
        """As python would die of it, but with the findings written first."""
        if self.writer == _real.get_ident():
            # It interrupted this thread's own write (an os._exit or the end of the run): dying
            # now would lose the results. finish() re-delivers it once the write is done.
            self.pending_signal = signum
            return
        if os.getpid() == self.pid:
            name = signal.Signals(signum).name
            self.finish(Outcome("killed", -signum, message=f"killed by {name}"), ongoing=True)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    def _deadline(self) -> None:
        """The timeout, and a stop the main thread never reacted to: write what we have."""
        stop_seen: float | None = None
        while (now := _real.monotonic()) < self.spec.deadline:
            if stop_seen is None and os.path.exists(self.spec.stop_file):
                stop_seen = now
            if stop_seen is not None and now >= stop_seen + self.spec.stop_grace:
                stuck = _stuck_stacks({self.hub_ident: "main thread"})
                message = f"did not end on SIGINT or SIGTERM; stuck at:\n{stuck}"
                self.finish(Outcome("stopped", None, message=message), ongoing=True)
                _real.exit_now(143)
            _real.sleep(min(0.05, max(self.spec.deadline - now, 0.001)))
        stuck = _stuck_stacks({self.hub_ident: "main thread"})
        ended = "its code returned but the interpreter did not exit; " if self.target_done else ""
        message = f"{ended}did not finish within {self.spec.timeout:g} s; stuck at:\n{stuck}"
        self.finish(Outcome("timeout", None, message=message), force=True, ongoing=True)
        _real.exit_now(124)

    def finish(self, outcome: Outcome, force: bool = False, ongoing: bool = False) -> None:
        """Collect every finding and write the results (once; the deadline may overwrite)."""
        me = _real.get_ident()
        if self.writer == me:
            return  # a signal handler interrupted this very write: let it complete
        with self.lock:
            if self.written and not force:
                return
            self.writer = me
            try:
                self._write(outcome, ongoing)
            finally:
                self.writer = None
        pending, self.pending_signal = self.pending_signal, None
        if pending is not None:
            signal.signal(pending, signal.SIG_DFL)
            os.kill(os.getpid(), pending)

    def _write(self, outcome: Outcome, ongoing: bool) -> None:
        if outcome.duration_s is None:
            elapsed = _real.perf_counter() - self.started
            outcome = dataclasses.replace(outcome, duration_s=elapsed)
        on_hub = _real.get_ident() == self.hub_ident
        if on_hub:
            self.watch.stop()
        findings = self.watch.findings(include_ongoing=ongoing or not on_hub)
        findings += _scan_findings()
        ChildResult(outcome, findings, _patch_records(), pid=self.pid).write(self.results)
        self.written = True

    def fail(self, error: PatchkitError) -> int:
        """A patchkit error (a bad profile or config): one line for the CLI, exit status 2."""
        with self.lock:
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            result = ChildResult(Outcome("exit", 2), error=message, pid=self.pid)
            result.write(self.results)
            self.written = True
        return 2


def _scan_findings() -> list[Finding]:
    """Every finding about the process's state, from the one collection point ``collect()``."""
    try:
        return collect()
    except Exception as exc:  # the scan must never cost the runtime findings
        print(f"patchkit audit: the module scan failed: {exc!r}", file=sys.stderr)
        return []


def _patch_records() -> list[dict[str, Any]]:
    try:
        import patchkit

        return list(patchkit.state().patch_records())
    except Exception:
        return []


def _stuck_stacks(names: dict[int, str]) -> str:
    """Where each other thread and each suspended greenlet is, innermost app frame first."""
    own = _real.get_ident()
    lines = []
    for ident, frame in sys._current_frames().items():
        if ident == own:
            continue
        lines.append(_where(names.get(ident, f"thread {ident:#x}"), frame))
    for glet in _suspended_greenlets()[:10]:
        lines.append(_where(_frames.greenlet_label(glet), glet.gr_frame))
    return "\n".join(line for line in lines if line)


def _where(label: str, frame: Any) -> str:
    stack = _frames.frame_stack(frame)
    if not stack:
        return ""
    app = [entry for entry in stack if _frames.is_app_file(entry.rsplit(":", 2)[0])]
    if not app and "gevent" in stack[-1]:
        return f"  {label}: the hub, waiting for events ({stack[-1]})"
    shown = list(reversed(app or stack))[:3]
    return f"  {label}: " + " <- ".join(shown)


def _suspended_greenlets() -> list[Any]:
    import gc

    from greenlet import greenlet

    found = []
    for obj in gc.get_objects():
        if isinstance(obj, greenlet) and obj.gr_frame is not None and not obj.dead:
            # Only greenlets parked in user code: the hub and idle pool workers say nothing.
            entries = _frames.frame_entries(obj.gr_frame)
            if any(_frames.is_app_file(file) for file, _, _ in entries):
                found.append(obj)
    return found


def _preload() -> None:
    """Import what ``finish`` needs now: the target's ``sys.path[0]`` may not reach patchkit."""
    with contextlib.suppress(ImportError):
        import patchkit.detect.scan  # noqa: F401


def _status(code: Any) -> int:
    """The process exit status python makes of an ``exit`` argument (``True`` is 1, 256 is 0)."""
    return int(code) & 0xFF


def run(target: Target) -> Outcome:
    """Run the target and say how it ended: completed, exception or exit (with the status).

    A patchkit config or profile error raised by the target's own ``import patchkit.auto``
    propagates (the project's configuration failed, not the target), and so does a target
    with nothing to run (``-m`` a package without ``__main__``).
    """
    try:
        runner.execute(runner.load(target))
    except TargetError:
        raise
    except SystemExit as exc:
        code = exc.code
        if code is None or isinstance(code, int):
            return Outcome("exit", _status(code or 0), message=f"sys.exit({code!r})")
        print(code, file=sys.stderr)  # python prints a non-integer exit argument, status 1
        return Outcome("exit", 1, message=f"sys.exit({code!r})")
    except CONFIG_ERRORS:
        raise
    except BaseException as exc:
        return _exception_outcome(exc)
    return Outcome("completed", 0)


def _exception_outcome(exc: BaseException) -> Outcome:
    runner.report(exc)  # the target's traceback on stderr, without patchkit's frames
    line = traceback.format_exception_only(type(exc), exc)[-1].strip()
    frames = list(traceback.walk_tb(exc.__traceback__))
    if frames:
        frame, lineno = frames[-1]
        line = f"{line} (raised at {frame.f_code.co_filename}:{lineno})"
    status = 130 if isinstance(exc, KeyboardInterrupt) else 1
    return Outcome("exception", status, message=line)


def main(argv: list[str] | None = None) -> int:
    spec = ChildSpec.read((sys.argv[1:] if argv is None else argv)[0])
    tripwires.install()
    session = Session(spec)
    session.arm()
    follow.arm(session)
    try:
        if spec.profile:
            from patchkit.manager import apply

            apply(spec.profile, requested_by=f"patchkit audit --profile {spec.profile}")
        _preload()
        runner.prepare(spec.target)
        outcome = run(spec.target)
    except PatchkitError as exc:  # the profile, the config, or nothing to run
        return session.fail(exc)
    session.target_done = True
    session.finish(outcome)
    return int(outcome.exit_code or 0)


if __name__ == "__main__":
    sys.exit(main())
