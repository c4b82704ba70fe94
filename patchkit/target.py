"""What to run: a script path or ``-m module``, with its arguments, checked before anything runs.

Nothing of the target executes here: a script is compiled, never run, and a module is located by
asking the import system's finders directly, the way ``importlib`` would before importing, so a
package whose ``__init__`` hangs, prints or exits cannot reach the process that writes the report.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.machinery import ModuleSpec

from patchkit.errors import TargetError

MAX_SCRIPT_BYTES = 64 * 1024 * 1024  # a script larger than this is not source code anyone runs


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

    @property
    def path0(self) -> str:
        """What python puts first on ``sys.path`` for this target (the cwd for ``-m``)."""
        if self.kind == "module":
            return os.getcwd()
        if os.path.isdir(self.name):
            return os.path.abspath(self.name)
        return os.path.dirname(os.path.abspath(self.name))

    def check(self) -> None:
        """Raise TargetError, naming the path, if the target cannot be run at all."""
        if self.kind == "module":
            main_spec(self.name, self.path0)
        else:
            _check_script(self.name)

    def entry_file(self) -> str | None:
        """The file python would run first: the script, ``DIR/__main__.py`` or the module's file."""
        if self.kind == "script":
            path = self.name
            if os.path.isdir(path):
                path = os.path.join(path, "__main__.py")
            return os.path.abspath(path)
        try:
            spec = main_spec(self.name, self.path0)
        except TargetError:
            return None
        return spec.origin if spec.has_location else None


def main_spec(name: str, path0: str | None = None) -> ModuleSpec:
    """The spec ``python -m name`` would run (``pkg`` means ``pkg.__main__``), importing nothing.

    Each dotted level is looked up with the finders on ``sys.meta_path`` and the parent's
    ``submodule_search_locations``; no package ``__init__`` runs. Errors read as python's own.
    ``path0`` stands in for ``sys.path[0]`` (python -m searches the working directory first).
    """
    if name.startswith("."):
        raise TargetError("Relative module names not supported")
    with search_path(path0):
        spec = _walk(name)
        if spec.submodule_search_locations is None:
            return spec
        main = _find(f"{name}.__main__", spec.submodule_search_locations, name)
    if main is None:
        raise TargetError(
            f"No module named {name}.__main__; {name!r} is a package "
            "and cannot be directly executed"
        )
    return main


def _walk(name: str) -> ModuleSpec:
    spec: ModuleSpec | None = None
    parts = name.split(".")
    for depth in range(1, len(parts) + 1):
        fullname = ".".join(parts[:depth])
        path = None
        if spec is not None:
            path = spec.submodule_search_locations
            if path is None:
                parent = ".".join(parts[: depth - 1])
                raise TargetError(
                    f"Error while finding module specification for {name!r} (ModuleNotFoundError: "
                    f"__path__ attribute not found on {parent!r} while trying to find {fullname!r})"
                )
        spec = _find(fullname, path, name)
        if spec is None:
            raise TargetError(f"No module named {fullname}")
    assert spec is not None
    return spec


def _find(fullname: str, path: Sequence[str] | None, asked: str) -> ModuleSpec | None:
    for finder in list(sys.meta_path):
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        try:
            spec = find(fullname, path)
        except (ImportError, ValueError, OSError) as exc:
            raise TargetError(
                f"Error while finding module specification for {asked!r} "
                f"({type(exc).__name__}: {exc})"
            ) from None
        if spec is not None:
            return spec
    return None


def find_spec(fullname: str, path: Sequence[str] | None) -> ModuleSpec | None:
    """One level of an import, as the finders on ``sys.meta_path`` see it; nothing is imported.

    ``path`` is the parent package's ``submodule_search_locations`` (None for a top-level name).
    None when no finder knows the name or a finder fails (the static audit skips what it cannot
    resolve, as it cannot know what the import would have done).
    """
    try:
        return _find(fullname, path, fullname)
    except (TargetError, LookupError, AttributeError, TypeError):
        # A nested namespace package's path asks sys.modules for its (unimported) parent.
        return None


@contextlib.contextmanager
def search_path(path0: str | None) -> Iterator[None]:
    """``sys.path`` as the target's python would have it, for the time of the lookup."""
    if path0 is None or getattr(sys.flags, "safe_path", False):
        yield
        return
    saved = list(sys.path)
    sys.path[:1] = [path0]
    try:
        yield
    finally:
        sys.path[:] = saved


def _check_script(path: str) -> None:
    """Compile (never run) the script; refuse what is not a regular file before opening it."""
    if path == "-":
        raise TargetError("-: a script from stdin cannot be audited or run here; give a file")
    st = _stat(path)
    if stat.S_ISDIR(st.st_mode):
        main = os.path.join(path, "__main__.py")
        if not os.path.isfile(main):
            raise TargetError(f"{path}: is a directory without __main__.py")
        path, st = main, _stat(main)
    if not stat.S_ISREG(st.st_mode):
        raise TargetError(f"{path}: not a regular file (a script must be a file python can read)")
    if st.st_size > MAX_SCRIPT_BYTES:
        raise TargetError(f"{path}: too large for a script ({st.st_size} bytes)")
    try:
        with open(path, "rb") as handle:
            source = handle.read(MAX_SCRIPT_BYTES + 1)
    except OSError as exc:
        raise TargetError(f"{path}: cannot read ({exc.strerror})") from None
    if len(source) > MAX_SCRIPT_BYTES:
        raise TargetError(f"{path}: too large for a script (over {MAX_SCRIPT_BYTES} bytes)")
    if zipfile.is_zipfile(path):  # python runs a zip's __main__.py; the child will say if absent
        return
    _compile(source, path)


def _stat(path: str) -> os.stat_result:
    try:
        return os.stat(path)
    except FileNotFoundError:
        raise TargetError(f"{path}: no such file") from None
    except OSError as exc:
        raise TargetError(f"{path}: cannot read ({exc.strerror})") from None


def _compile(source: bytes, path: str) -> None:
    try:
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"{path}:{exc.lineno}" if exc.lineno else path
        raise TargetError(f"{where}: syntax error: {exc.msg}") from None
    except ValueError as exc:  # source with NUL bytes (3.11)
        raise TargetError(f"{path}: cannot compile ({exc})") from None
    except (RecursionError, MemoryError):
        raise TargetError(f"{path}: cannot compile (nested too deeply)") from None


def split_target(
    argv: Sequence[str], value_options: Sequence[str]
) -> tuple[list[str], Target | None]:
    """Split ``[OPTIONS] (SCRIPT | -m MODULE) [ARGS]`` into patchkit's options and the target.

    python's rule: every word after the script (or the module name) belongs to the target,
    untouched, ``--`` included, so ``patchkit run app.py --profile x`` passes ``--profile x`` to
    ``app.py``. A ``--`` before the target ends patchkit's options. ``value_options`` are the
    options that consume the next word (``--profile``).
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
