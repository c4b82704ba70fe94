"""Run a script or module exactly as ``python SCRIPT`` / ``python -m MODULE`` would, after patching.

Same ``sys.argv``, ``__main__``, ``sys.path[0]`` and exit status; an exception from the target is
printed through ``sys.excepthook`` without patchkit's own frames, and the status is 1 (130 for
Ctrl-C), as with python itself.
"""

from __future__ import annotations

import runpy
import sys

from patchkit._frames import without_own_frames
from patchkit.target import Target


def prepare(target: Target) -> None:
    """Set ``sys.argv`` and ``sys.path[0]`` as python does for the target.

    ``python -m patchkit`` (or the console script) put its own entry first on ``sys.path``;
    python would have put the script's directory there (the working directory for ``-m``).
    """
    sys.argv[:] = target.argv
    first = target.path0
    if getattr(sys.flags, "safe_path", False):  # python -P (3.11+): nothing is prepended
        return
    if sys.path:
        sys.path[0] = first
    else:
        sys.path.insert(0, first)


def execute(target: Target) -> None:
    """Run the target in ``__main__``; exceptions (including SystemExit) propagate."""
    if target.kind == "module":
        runpy.run_module(target.name, run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(target.name, run_name="__main__")


def run(target: Target) -> int:
    """Run the target; return its exit status (SystemExit is left to propagate)."""
    prepare(target)
    try:
        execute(target)
    except SystemExit:
        raise
    except KeyboardInterrupt as exc:
        _report(exc)
        return 130  # python's status after an unhandled Ctrl-C (it re-raises SIGINT)
    except BaseException as exc:
        _report(exc)
        return 1
    return 0


def _report(exc: BaseException) -> None:
    tb = without_own_frames(exc.__traceback__)
    sys.excepthook(type(exc), exc.with_traceback(tb), tb)
