"""The table of measured libraries: one ``@case`` entry per matrix row.

A case's ``setup(ctx)`` runs inside the probe process, after the profile was applied; it imports
the library, prepares connections and returns ``wait(i)``: one wait of about WAIT_S against a
real server. Adding a library is one decorated function in the family module.
Nothing here imports a measured library at import time: the suite process stays clean.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# One module per family; the matrix shows the families in tools/matrix_render.GROUPS' order.
FAMILIES = (
    "stdlib",
    "concurrency",
    "http",
    "cloud",
    "databases",
    "caches",
    "messaging",
    "rpc",
    "remote",
    "observability",
)


@dataclass(frozen=True)
class Context:
    peers: dict[str, dict[str, Any]]
    n: int
    wait_s: float


Setup = Callable[[Context], Callable[[int], Any]]


@dataclass(frozen=True)
class Case:
    library: str  # the matrix row: the name users install, or the stdlib API
    family: str
    what: str  # one wait, for the cell's detail: "pg_sleep(0.2)"
    setup: Setup
    dists: tuple[str, ...] = ()  # distributions whose versions the row shows ("a|b": either)
    modules: tuple[str, ...] = ()  # import names that must be installed
    services: tuple[str, ...] = ()  # compat_tests.services names
    peers: tuple[str, ...] = ()  # compat_tests._peers kinds
    mode: str = "timing"  # or "yield": see _measure._measure_yield
    timeout_s: float = 20.0  # the probe process is killed after this
    fix: str = field(default="", compare=False)  # what to do where it blocks or breaks
    # A skip condition only an import can tell (an extension that is installed but cannot load):
    # returns why the case cannot run, or None. It must not import the library in this process.
    requires: Callable[[], str | None] | None = field(default=None, compare=False)

    def missing(self) -> str | None:
        """Why this case cannot run here (a module is not installed), or None."""
        for i, name in enumerate(self.modules):
            if importlib.util.find_spec(name.split(".")[0]) is None:
                # modules and dists pair up when they have the same length (redis, hiredis)
                dist = self.dists[i if len(self.dists) == len(self.modules) else 0]
                return f"{name} is not installed (pip install {dist.split('|')[0]})"
        return self.requires() if self.requires else None

    def version(self) -> str:
        if not self.dists:
            return "stdlib"
        parts = []
        for i, alternatives in enumerate(self.dists):
            for dist in alternatives.split("|"):
                try:
                    found = importlib.metadata.version(dist)
                except importlib.metadata.PackageNotFoundError:
                    continue
                parts.append(found if i == 0 else f"{dist} {found}")
                break
        return " + ".join(parts) or "?"


CASES: dict[str, Case] = {}


def case(library: str, what: str, **kwargs: Any) -> Callable[[Setup], Setup]:
    def register(setup: Setup) -> Setup:
        family = setup.__module__.rsplit(".", 1)[-1]
        if library in CASES:
            raise ValueError(f"duplicate compat case {library!r}")
        CASES[library] = Case(library, family, what, setup, **kwargs)
        return setup

    return register


def load_all() -> dict[str, Case]:
    for family in FAMILIES:
        if importlib.util.find_spec(f"compat_tests.cases.{family}") is not None:
            importlib.import_module(f"compat_tests.cases.{family}")
    return CASES
