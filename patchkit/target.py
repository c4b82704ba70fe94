"""What to run: a script path or ``-m module``, with its arguments, checked before anything runs."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass

from patchkit.errors import TargetError


@dataclass(frozen=True)
class Target:
    """A script or module to run, as ``python SCRIPT ARGS`` or ``python -m MODULE ARGS`` would."""

    kind: str  # "script" or "module"
    name: str
    args: tuple[str, ...] = ()

    @property
    def argv(self) -> list[str]:
        """The ``sys.argv`` the target sees (``python -m`` puts the module's file path first)."""
        return [self.name, *self.args]

    @property
    def display(self) -> str:
        return f"-m {self.name}" if self.kind == "module" else self.name

    def check(self) -> None:
        """Raise TargetError, naming the path, if the target cannot be run at all."""
        if self.kind == "module":
            try:
                spec = importlib.util.find_spec(self.name)
            except (ImportError, ValueError) as exc:
                raise TargetError(f"{self.name}: cannot find module ({exc})") from None
            if spec is None:
                raise TargetError(f"{self.name}: no module named {self.name!r}")
            return
        if not os.path.exists(self.name):
            raise TargetError(f"{self.name}: no such file")
        if os.path.isdir(self.name):
            if not os.path.exists(os.path.join(self.name, "__main__.py")):
                raise TargetError(f"{self.name}: is a directory without __main__.py")
            return
        try:
            with open(self.name, "rb") as handle:
                source = handle.read()
        except OSError as exc:
            raise TargetError(f"{self.name}: cannot read ({exc.strerror})") from None
        try:
            compile(source, self.name, "exec")
        except SyntaxError as exc:
            raise TargetError(f"{self.name}:{exc.lineno}: syntax error: {exc.msg}") from None
        except ValueError as exc:  # source with NUL bytes
            raise TargetError(f"{self.name}: cannot compile ({exc})") from None


def split_target(
    argv: Sequence[str], value_options: Sequence[str]
) -> tuple[list[str], Target | None]:
    """Split ``[OPTIONS] (SCRIPT | -m MODULE) [ARGS]`` into patchkit's options and the target.

    Everything after the script (or the module name) belongs to the target, as with ``python``
    itself, so ``patchkit run app.py --profile x`` passes ``--profile x`` to ``app.py``.
    ``value_options`` are the options that consume the next word (``--profile``).
    """
    own: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "-m":
            if i + 1 >= len(argv):
                raise TargetError("-m needs a module name")
            return own, Target("module", argv[i + 1], tuple(argv[i + 2 :]))
        if word == "--":
            rest = argv[i + 1 :]
            return own, (Target("script", rest[0], tuple(rest[1:])) if rest else None)
        if word.startswith("-") and word != "-":
            own.append(word)
            if word in value_options and i + 1 < len(argv):
                own.append(argv[i + 1])
                i += 1
            i += 1
            continue
        return own, Target("script", word, tuple(argv[i + 1 :]))
    return own, None
