"""Run a script or module exactly as ``python SCRIPT`` / ``python -m MODULE`` would, after patching.

Same ``sys.argv``, ``__main__``, ``sys.path[0]`` and exit status; an exception from the target is
printed through ``sys.excepthook`` without patchkit's own frames, and the status is 1 (130 for
Ctrl-C), as with python itself. ``patchkit run`` and the audit child share ``load`` and
``execute``: the target's module stays ``sys.modules["__main__"]`` after it ends, as in python,
so the audit can scan it.
"""

from __future__ import annotations

import builtins
import os
import runpy
import sys
import types
from dataclasses import dataclass
from typing import Any

from patchkit._frames import strip_exception
from patchkit.errors import TargetError
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


@dataclass(frozen=True)
class Main:
    """The target's code and the ``__main__`` module it runs in."""

    code: types.CodeType
    module: types.ModuleType


def load(target: Target) -> Main:
    """Find and compile the target as python would (``-m`` a package runs its ``__main__``).

    Raises TargetError with python's own words (``No module named ...``) when there is nothing to
    run. For ``-m``, importing the parent packages runs their code, so call this where the target
    may run (in the audit child, under its deadline).
    """
    spec: Any = None
    if target.kind == "module":
        _, spec, code = runpy._get_module_details(target.name, TargetError)  # type: ignore[attr-defined]
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
    return Main(code, module)


def execute(main: Main) -> None:
    """Run the code in its ``__main__``; exceptions (including SystemExit) propagate."""
    sys.modules["__main__"] = main.module
    exec(main.code, main.module.__dict__)


def run(target: Target) -> int:
    """Run the target; return its exit status (SystemExit is left to propagate)."""
    prepare(target)
    try:
        execute(load(target))
    except TargetError as exc:  # from load: nothing to run
        print(f"{sys.executable}: {exc}", file=sys.stderr)  # python's words, python's status
        return 1
    except SystemExit:
        raise
    except KeyboardInterrupt as exc:
        report(exc)
        return 130  # python's status after an unhandled Ctrl-C (it re-raises SIGINT)
    except BaseException as exc:
        report(exc)
        return 1
    return 0


def report(exc: BaseException) -> None:
    """Print the target's exception as python would, through ``sys.excepthook``."""
    strip_exception(exc)
    sys.excepthook(type(exc), exc, exc.__traceback__)
