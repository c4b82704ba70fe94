"""The import closure of an entry point up to its patch call, found without running anything.

Imports run depth first: at ``import requests`` the whole of requests (and what it imports)
runs before the next line of the importer. This walk follows the same order over each module's
facts (``facts.py``), resolving every name with the import system's finders
(``patchkit.target.find_spec``, one dotted level at a time, as ``importlib`` would, without
executing a package's ``__init__``). It stops where a top-level patch call runs: what was
walked before it is what would be loaded before patching. An entry without a top-level patch
call is walked whole (it may be imported before patching by whatever runs it: a test, a worker).

The standard library, gevent, greenlet and patchkit are not entered (the runtime scan does not
report them either); a name no finder knows is skipped, as the audit cannot know what it is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.machinery import ModuleSpec

from patchkit import target
from patchkit.detect import factcache
from patchkit.detect.facts import Facts, read_facts

_SKIP_TOP = frozenset({"gevent", "greenlet", "zope", "patchkit", "_distutils_hack"})
_MAX_SOURCE = 16 * 1024 * 1024


@dataclass
class Module:
    """One module the entry loads before patching: where it is and who first imported it."""

    name: str
    path: str
    facts: Facts | None  # None: not Python source (an extension module) or unreadable
    importer: str | None  # "file:line" of the import that first ran it (None for the entry)
    parent: str | None  # the importing module's name
    cut: int = 0  # patching happened while this module ran, at this line (0: it finished first)


@dataclass
class Closure:
    entry: str
    modules: dict[str, Module] = field(default_factory=dict)  # in the order they ran
    patched_at: str | None = None  # "file:line" of the patch call that ended the walk
    unreadable: list[str] = field(default_factory=list)  # source files that did not parse

    def chain(self, name: str) -> list[str]:
        """The imports that brought ``name`` in, outermost first ("app.py:3", ...)."""
        out: list[str] = []
        seen: set[str] = set()
        module = self.modules.get(name)
        while module is not None and module.importer and module.name not in seen:
            seen.add(module.name)
            out.append(module.importer)
            module = self.modules.get(module.parent or "")
        return out[::-1]

    def first_importer(self, name: str) -> str | None:
        module = self.modules.get(name)
        return module.importer if module else None


class Walk:
    """The depth-first walk over one entry's imports, with resolved specs shared between entries."""

    def __init__(self, cache: factcache.FactCache) -> None:
        self.cache = cache
        self.specs: dict[str, ModuleSpec | None] = {}

    def closure(self, entry: str, package: str = "") -> Closure:
        path = os.path.abspath(entry)
        result = Closure(path)
        self.specs.clear()  # sys.path[0] differs between entries
        root = os.path.dirname(path)
        for _ in package.split(".") if package else ():
            root = os.path.dirname(root)  # as ``python -m package.module`` from the project root
        with target.search_path(root):
            stem = os.path.splitext(os.path.basename(path))[0]
            name = f"{package}.{stem}" if package and stem != "__init__" else package
            name = name or "__main__"  # a script: python runs it as __main__
            module = self._load(result, name, path, None, None)
            if module is not None:
                self._run(result, module, package)
        return result

    def _run(self, result: Closure, module: Module, package: str) -> bool:
        """Run ``module``'s imports in order; True when a patch call ran (the walk ends)."""
        if module.facts is None:
            return False
        imports, patch_line, _, _ = module.facts
        for line, level, name, names in imports:
            if patch_line and line >= patch_line:
                break
            where = f"{module.path}:{line}"
            for child in self._targets(level, name, names, package):
                if self._import(result, child, where, module.name):
                    module.cut = line
                    return True
        if patch_line:
            module.cut = patch_line
            result.patched_at = f"{module.path}:{patch_line}"
            return True
        return False

    def _targets(
        self, level: int, name: str, names: Sequence[str] | None, package: str
    ) -> list[tuple[str, bool]]:
        """``(module, may be absent)`` pairs the statement imports, parents first."""
        if level:
            parts = package.split(".") if package else []
            if level - 1 > len(parts) or not parts:
                return []
            base = ".".join(parts[: len(parts) - (level - 1)])
            name = f"{base}.{name}" if name else base
        out = [(name, False)]
        out += [(f"{name}.{n}", True) for n in names or () if n != "*"]
        return out

    def _import(self, result: Closure, child: tuple[str, bool], where: str, parent: str) -> bool:
        fullname, _optional = child
        top = fullname.partition(".")[0]
        if top in sys.stdlib_module_names or top in _SKIP_TOP:
            return False
        parts = fullname.split(".")
        for depth in range(1, len(parts) + 1):
            name = ".".join(parts[:depth])
            if name in result.modules:
                continue
            spec = self._spec(name)
            if spec is None:
                return False
            module = self._load(result, name, spec.origin, where, parent)
            if module is None:
                continue  # a namespace package: nothing runs, its submodules still resolve
            package = name if spec.submodule_search_locations is not None else spec.parent
            if self._run(result, module, package or ""):
                return True
        return False

    def _spec(self, name: str) -> ModuleSpec | None:
        if name in self.specs:
            return self.specs[name]
        parent, _, _ = name.rpartition(".")
        path = None
        if parent:
            parent_spec = self._spec(parent)
            path = None if parent_spec is None else parent_spec.submodule_search_locations
            if path is None:
                self.specs[name] = None
                return None
        spec = target.find_spec(name, path)
        self.specs[name] = spec
        return spec

    def _load(
        self, result: Closure, name: str, path: str | None, where: str | None, parent: str | None
    ) -> Module | None:
        if not path or path in ("built-in", "frozen"):
            return None  # a namespace package or a module compiled into python: nothing to read
        facts = self._facts(result, path) if path.endswith(".py") else None
        module = Module(name, path, facts, where, parent)
        result.modules[name] = module
        return module

    def _facts(self, result: Closure, path: str) -> Facts | None:
        try:
            with open(path, "rb") as handle:
                source = handle.read(_MAX_SOURCE + 1)
        except OSError:
            result.unreadable.append(path)
            return None
        key = factcache.digest(source)
        facts = self.cache.get(key)
        if facts is not None:
            return facts
        try:
            facts = read_facts(source, path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            result.unreadable.append(path)
            return None
        self.cache.put(key, facts)
        return facts


def entry_package(path: str) -> str:
    """The package a file belongs to (``myapp`` for ``myapp/stats.py``), for relative imports."""
    directory = os.path.dirname(os.path.abspath(path))
    parts: list[str] = []
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        parts.append(os.path.basename(directory))
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return ".".join(reversed(parts))
