"""Follow the target's Python processes: every fork and every interpreter it starts is audited.

A prefork server runs the app in forked workers, never in the process the audit started. So the
audit arms itself again in each of them:

* ``os.fork`` (gunicorn, uWSGI, Celery prefork, ``multiprocessing`` fork and forkserver): an
  at-fork hook gives the child a fresh watchdog and deadline thread (threads do not survive a
  fork), a fresh hub watch and tripwire counts (the worker reports only what it did itself), and
  its own results file;
* a new interpreter (``multiprocessing`` spawn, the forkserver, ``subprocess`` running
  ``sys.executable``): ``PYTHONPATH`` starts with a directory whose ``sitecustomize`` calls
  :func:`bootstrap` when ``PATCHKIT_AUDIT_SPEC`` names a spec, then runs the user's own
  ``sitecustomize`` (see ``_sitecustomize.py``).

Every followed process writes ``process-<pid>.json`` (pid, role, argv) when it is armed and
``results-<pid>.json`` when it ends: normally, by ``sys.exit`` or ``os._exit``, at the deadline,
or on SIGTERM/SIGINT/SIGQUIT when the target left those signals at their defaults.
``patchkit.audit.merge`` reads them back into one report.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import sys
from typing import Any

from patchkit import _real
from patchkit.audit.protocol import ChildSpec
from patchkit.findings import Outcome

SPEC_ENV = "PATCHKIT_AUDIT_SPEC"
MAIN, WORKER, CHILD = "main", "worker", "child"
_FLUSH_SIGNALS = ("SIGTERM", "SIGINT", "SIGQUIT")
_HERE = os.path.dirname(os.path.abspath(__file__))

_session: Any = None  # the process's audit Session (patchkit.audit.child.Session)
_role = MAIN


def results_file(directory: str, pid: int | None = None) -> str:
    """Where process ``pid`` (default: this one) hands back its findings."""
    return os.path.join(directory, f"results-{pid or os.getpid()}.json")


def arm(session: Any, role: str = MAIN) -> None:
    """Follow this process's forks and new interpreters; call right after ``session.arm()``.

    ``session.spec.results_dir`` is the directory shared by every process of the audit.
    """
    global _session, _role
    _session, _role = session, role
    directory = session.spec.results_dir
    argv = list(session.spec.target.argv) if role == MAIN else _command_line()
    _describe(directory, role, argv)
    if role == MAIN:
        _export(session.spec)
    os.register_at_fork(after_in_child=_after_fork)
    atexit.register(_at_exit)


def _command_line() -> list[str]:
    """How this interpreter was started (``sys.argv`` is only ``['-c']`` for ``python -c``)."""
    argv = list(getattr(sys, "orig_argv", ())[1:]) or list(sys.argv)
    return [word if len(word) <= 80 else word[:77] + "..." for word in argv]


def _describe(directory: str, role: str, argv: list[str]) -> None:
    """``process-<pid>.json``: the process is audited, even if it never hands back results."""
    data = {
        "pid": os.getpid(),
        "role": role,
        "argv": argv,
        "parent": os.getppid(),
        "started": _real.wall_time(),
    }
    _write(os.path.join(directory, f"process-{os.getpid()}.json"), data)


def _write(path: str, data: dict[str, Any]) -> None:
    partial = f"{path}.{os.getpid()}.tmp"
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(data, handle, default=str)
    os.replace(partial, path)


def _export(spec: ChildSpec) -> None:
    """Let every interpreter the target starts find the spec and the bootstrap."""
    directory = spec.results_dir
    boot = os.path.join(directory, "boot")
    os.makedirs(boot, exist_ok=True)
    shutil.copyfile(
        os.path.join(_HERE, "_sitecustomize.py"), os.path.join(boot, "sitecustomize.py")
    )
    path = os.path.join(directory, "follow.json")
    _write(path, {"spec": json.loads(spec.to_json()), "prefix": sys.prefix, "boot": boot})
    os.environ[SPEC_ENV] = path
    paths = [boot, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)


def _after_fork() -> None:
    """In the new child: everything per-process starts again; what the parent saw is not ours."""
    session = _session
    if session is None:
        return
    try:
        _rearm(session)
    except Exception as exc:  # the target's fork must go on even if the audit cannot follow
        print(f"patchkit audit: cannot follow pid {os.getpid()}: {exc!r}", file=sys.stderr)


def _rearm(session: Any) -> None:
    global _role
    _role = WORKER
    # Not faulthandler.cancel_dump_traceback_later(): it waits for the parent's dump thread,
    # which does not exist here, forever. The parent's pending dump is the parent's alone.
    from patchkit.detect import tripwires

    session.lock = _real.allocate_lock()  # another thread may have held it at the fork
    session.writer = None
    session.pending_signal = None
    session.written = False
    session.target_done = False
    session.pid = os.getpid()
    session.started = _real.perf_counter()
    session.hub_ident = _real.get_ident()  # the forking thread is this process's only thread
    tripwires._state.lock = _real.allocate_lock()
    tripwires._state.hub_ident = session.hub_ident
    tripwires._state.sites.clear()
    _restart_watch(session.watch)
    _real.start_new_thread(session._deadline, ())
    _describe(session.spec.results_dir, WORKER, list(sys.argv))
    session.results = results_file(session.spec.results_dir)
    _flush_on_signals()
    _forget_on_exec()


def _forget_on_exec() -> None:
    """A fork that then runs another program (gevent's ``subprocess`` forks in Python) is no
    longer a process of ours: drop its description, or the report would call it killed. If it
    execs this interpreter again, the bootstrap describes it anew, as a child."""
    for name in ("execv", "execve"):
        real = getattr(os, name)
        setattr(os, name, _forgetting(real))


def _forgetting(real: Any) -> Any:
    def exec_(path: Any, args: Any, *env: Any) -> Any:
        described = os.path.join(_session.spec.results_dir, f"process-{os.getpid()}.json")
        with contextlib.suppress(OSError):
            os.unlink(described)
        return real(path, args, *env)

    exec_.__wrapped__ = real  # type: ignore[attr-defined]
    return exec_


def _restart_watch(watch: Any) -> None:
    """A fresh watch: the parent's stalls stay the parent's, the watchdog thread is gone."""
    import greenlet

    if watch._active and greenlet.gettrace() is watch._callback:
        greenlet.settrace(watch._prev)  # settrace state is per thread and survives the fork
    watch._active = False
    watch._run_start = watch._running = watch._sample = None
    watch.stalls = []
    watch.start()


def _flush_on_signals() -> None:
    """Write the findings before a default-action signal ends the process (the launcher's stop,
    ``Pool.terminate()``); handlers the target installs later replace this one."""
    for name in _FLUSH_SIGNALS:
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        with contextlib.suppress(ValueError, OSError):
            if signal.getsignal(signum) == signal.SIG_DFL:  # SIGINT's KeyboardInterrupt flushes
                signal.signal(signum, _flush_and_die)


def _flush_and_die(signum: int, frame: Any) -> None:
    # A second stop signal (the launcher's, after the target's own) must not re-enter this
    # handler in the middle of writing: ignored from now on, the first one ends the process.
    for name in _FLUSH_SIGNALS:
        with contextlib.suppress(AttributeError, ValueError, OSError):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    session = _session
    if session is not None:
        if not session.lock.acquire(blocking=False):
            return  # the process is writing its results already (at exit): let it finish
        session.lock.release()
        name = signal.Signals(signum).name
        outcome = Outcome("killed", -signum, message=f"ended by {name}")
        with contextlib.suppress(Exception):
            session.finish(outcome, ongoing=True)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _at_exit() -> None:
    """The interpreter is exiting without the child's ``run()`` around it (a spawned child, a
    worker whose ``sys.exit`` never reached the target's entry point)."""
    session = _session
    if _role == MAIN:
        return  # the main process's run() writes its results (or the error of a bad --profile)
    if session is not None and session.pid == os.getpid() and not session.written:
        with contextlib.suppress(Exception):
            session.finish(Outcome("exit", None, message="interpreter exit"))


def bootstrap(spec_path: str) -> None:
    """Arm the audit in a new interpreter of the target (called by the bootstrap sitecustomize)."""
    with open(spec_path, encoding="utf-8") as handle:
        data = json.load(handle)
    spec = ChildSpec.from_json(json.dumps(data["spec"]))
    if sys.prefix != data.get("prefix") or not os.path.isdir(spec.results_dir):
        return  # another environment's interpreter, or an audit that is over: not ours
    # The main process's last-chance stack dump is the main's; each child has its own.
    spec = dataclasses.replace(
        spec, stacks=os.path.join(spec.results_dir, f"stacks-{os.getpid()}.txt")
    )
    from patchkit.detect import tripwires  # first: before the program binds the originals

    tripwires.install()
    from patchkit.audit.child import Session

    session = Session(spec)
    session.arm()
    arm(session, CHILD)
    _flush_on_signals()
