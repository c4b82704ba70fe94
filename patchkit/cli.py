"""``python -m patchkit``: dispatch to one command module, turn expected failures into one line."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from patchkit._version import __version__
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
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_help())
        return 0 if args else 2
    if args[0] == "--version":
        print(f"patchkit {__version__}")
        return 0
    command = args[0]
    if command not in COMMANDS:
        print(
            f"patchkit: unknown command {command!r} (choose from {', '.join(COMMANDS)})",
            file=sys.stderr,
        )
        return 2
    try:
        module = importlib.import_module(COMMANDS[command][0])
        return module.main(args[1:])
    except PatchkitError as exc:
        print(f"patchkit {command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def entry() -> None:
    sys.exit(main())
