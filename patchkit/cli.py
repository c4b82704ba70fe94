"""``python -m patchkit``: dispatch to one command module, turn expected failures into one line."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from patchkit._version import __version__
from patchkit.commands import silence_stdout, warn, write_stdout
from patchkit.errors import PatchkitError

COMMANDS = {
    "audit": ("patchkit.commands.audit", "find what still blocks the hub in a script or module"),
    "run": ("patchkit.commands.run", "apply a profile, then run a script or module"),
    "profiles": ("patchkit.commands.profiles", "list profiles and exactly what each patches"),
    "explain": ("patchkit.commands.explain", "print a rule's documentation"),
}

USAGE = "usage: patchkit [--version] {" + ",".join(COMMANDS) + "} ..."


def _help() -> str:
    lines = [USAGE, "", "commands:"]
    lines += [f"  {name:<10} {summary}" for name, (_, summary) in COMMANDS.items()]
    lines += ["", "Run 'patchkit COMMAND --help' for a command's options."]
    return "\n".join(lines) + "\n"


def _fill_closed_std_fds() -> None:
    """Open devnull on a closed 0, 1 or 2 (``>&-``), so the next file opened cannot land there.

    Without this, the audit's own files take descriptor 1 or 2 and the child, whose stdout is
    our stderr, fails to start. python has already set ``sys.stdout``/``sys.stderr`` to None.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                opened = os.open(os.devnull, os.O_RDWR)
            except OSError:
                return
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)


def main(argv: Sequence[str] | None = None) -> int:
    _fill_closed_std_fds()
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        write_stdout(_help())
        return 0 if args else 2
    if args[0] == "--version":
        write_stdout(f"patchkit {__version__}\n")
        return 0
    command = args[0]
    if command not in COMMANDS:
        warn(f"patchkit: unknown command {command!r} (choose from {', '.join(COMMANDS)})")
        return 2
    try:
        os.getcwd()
    except OSError:
        warn(f"patchkit {command}: the working directory no longer exists (cd somewhere first)")
        return 2
    try:
        module = importlib.import_module(COMMANDS[command][0])
        return module.main(args[1:])
    except PatchkitError as exc:
        warn(f"patchkit {command}: {exc}")
        return 2
    except KeyboardInterrupt:
        return 130


def entry() -> None:
    """The console script and ``python -m patchkit``.

    As python's docs advise for a reader that went away (``| head``): no traceback, stdout
    pointed at devnull so the exit-time flush cannot fail again, status 1 if the command itself
    was cut short; a command that finished keeps its own status.
    """
    try:
        status = main()
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        status = exc.code
    except BrokenPipeError:
        silence_stdout()
        sys.exit(1)
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    except (OSError, ValueError):
        pass
    sys.exit(status)
