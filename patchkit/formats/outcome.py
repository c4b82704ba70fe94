"""How the target ended, said plainly: one sentence every format shows first.

A report about a run that crashed, hung or was killed covers only what ran before; saying
"No findings." alone about such a run would read as green. Every format takes its words from here.
"""

from __future__ import annotations

import signal

from patchkit.findings import Outcome

_PARTIAL = "findings below cover only what ran before"


def exit_status(code: object) -> int | None:
    """The status the OS reports for ``code`` (``sys.exit(True)`` is 1, ``sys.exit(256)`` is 0).

    A negative code is a signal number, as ``subprocess`` reports it, and is kept as it is.
    """
    if code is None:
        return None
    if isinstance(code, bool):
        return int(code)
    if not isinstance(code, int):
        try:
            code = int(code)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return 1  # python prints a non-integer exit argument and exits 1
    return code if code < 0 else code & 0xFF


def signal_name(outcome: Outcome) -> str | None:
    """``SIGKILL`` for a target killed by signal 9 (exit code -9), else None."""
    code = exit_status(outcome.exit_code)
    if outcome.status != "killed" or code is None or code >= 0:
        return None
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def headline(outcome: Outcome) -> str | None:
    """The first thing a report says about the run; None for ``--static`` (nothing ran)."""
    status = outcome.status
    if status == "static":
        return None
    first = (outcome.message or "").partition("\n")[0].rstrip(":")
    took = f" in {outcome.duration_s:.2f} s" if outcome.duration_s is not None else ""
    code = exit_status(outcome.exit_code)
    if status == "completed":
        return f"target completed (exit code 0){took}"
    if status == "exit" and code == 0:
        return f"target exited with status 0{took}" + (f" ({first})" if first else "")
    if status == "stopped":
        ran = f" {outcome.duration_s:.3g} s" if outcome.duration_s is not None else ""
        return f"target stopped after --duration{ran}, as asked"
    if status == "exception":
        return f"target crashed: {first or 'an exception'} — {_PARTIAL} the crash"
    if status == "exit":
        why = f" ({first})" if first else ""
        return f"target exited with status {code}{why} — {_PARTIAL} it exited"
    if status == "timeout":
        why = f": {first}" if first else ""
        return f"target timed out{took}{why} — {_PARTIAL} the deadline"
    if status == "killed":
        name = signal_name(outcome) or "a signal"
        return f"target was killed by {name}{took} — {_PARTIAL} it was killed"
    if status == "interrupted":
        return f"target interrupted{took} (the audit was interrupted) — {_PARTIAL} the interruption"
    return f"target ended: {status}" + (f": {first}" if first else "")


def details(outcome: Outcome) -> list[str]:
    """The outcome message's further lines (the stacks at a deadline), for the text report."""
    _, _, rest = (outcome.message or "").partition("\n")
    return rest.splitlines() if rest else []
