"""One pass over ``sys.modules``: stale originals, unpatched subclasses, pre-patch objects.

Every check rides the same walk over each module's globals (``walker.py``; DESIGN: the bare
identity walk over ~540 modules costs ~8 ms, and ``tools/bench/scan.py`` keeps the scan within
3x of it):

- PK102 a global that *is* a harmful original (identity with ``gevent.monkey.saved``);
- PK103 the same held by a class attribute (also inside staticmethod/classmethod), a function
  default or closure, or one level into a module-level dict, list or tuple;
- PK104 a class defined in the module that derives from a harmful original class and not from
  its patched twin (gevent's SSLContext derives from the original, so a subclass of it is fine);
- PK105 a live object of a harmful original type (a real lock, thread-local, selector, socket);
- PK101 once per patch request: the modules with any of the above that were loaded before it
  (the check is ``patching.late``; this walk supplies the holders);
- PK201 from the native-client table, when gevent is in use.

``patchkit.detect.collect`` joins this with the ledger's rules: call that, not this, to get
every finding about the process.

Excluded by design: the standard library (gevent patches what matters there; what it leaves,
``functools.RLock``, ``reprlib``/``asyncio`` ``get_ident``, ``tempfile._allocate_lock``, the C
modules that define the originals, was measured or reasoned harmless), and gevent, greenlet,
zope and patchkit, which hold originals on purpose.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from typing import Any

from patchkit import imports
from patchkit.detect import natives, patching
from patchkit.detect.walker import Walker
from patchkit.findings import Finding

_SKIP_TOP = frozenset(
    {"gevent", "greenlet", "zope", "patchkit", "_distutils_hack", "cython_runtime", "__mp_main__"}
)


def scan_findings(
    modules: Mapping[str, Any] | None = None,
    *,
    gevent_in_use: bool | None = None,
    visited: list[Any] | None = None,
) -> list[Finding]:
    """PK101-PK105 and PK201 over ``modules`` (default: ``sys.modules``).

    ``gevent_in_use`` decides PK201: a C client only stops greenlets where greenlets run.
    ``None`` means "if this walk found harm or anything was monkey-patched"; ``collect`` decides
    it from the process (a hub counts too). ``visited`` collects, per module walked, what the
    walk read (name, namespace, values, their types), so the deep walk need not read it again.
    """
    walker = Walker()
    walker.visited = visited
    source = dict(sys.modules if modules is None else modules)
    seen: set[int] = set()
    for name, module in source.items():
        if module is None or id(module) in seen or _excluded(name):
            continue
        seen.add(id(module))  # requests.packages.urllib3 is urllib3 under a second name
        walker.module(getattr(module, "__name__", name) or name, module)
    findings = _without_reexports(walker.findings)
    findings += patching.late(walker.holders)
    if gevent_in_use is None:
        gevent_in_use = bool(walker.harm) or patched()
    if gevent_in_use:
        findings += walker.natives + _native_findings()
    return findings


def _without_reexports(findings: list[Finding]) -> list[Finding]:
    """Drop a package's re-export of what its own submodule already holds (urllib3.util)."""
    held = {(f.module or "", f.object) for f in findings if f.code == "PK102"}

    def reexported(f: Finding) -> bool:
        prefix = f"{f.module}."
        return f.code == "PK102" and any(
            m.startswith(prefix) and o == f.object for m, o in held if m != f.module
        )

    return [f for f in findings if not reexported(f)]


@functools.lru_cache(maxsize=4096)
def _excluded(name: str) -> bool:
    top = name.partition(".")[0]
    return top in sys.stdlib_module_names or top in _SKIP_TOP or top.startswith("_cython_")


def patched() -> bool:
    """Whether gevent monkey-patched anything in this process."""
    saved = getattr(sys.modules.get("gevent.monkey"), "saved", None)
    return bool(saved)


def _native_findings() -> list[Finding]:
    out = []
    for row in natives.blocking_clients():
        where = imports.first_importer(row.module.partition(".")[0]) or ""
        path, _, line = where.rpartition(":")
        out.append(
            Finding(
                "PK201",
                _native_message(row),
                module=row.module.partition(".")[0],
                file=path or getattr(sys.modules.get(row.module), "__file__", None),
                line=int(line) if line.isdigit() else None,
                object=row.library,
                fix=row.fix,
            )
        )
    return out


def _native_message(row: natives.NativeClient) -> str:
    """The fact, without the fix (``Finding.fix`` carries that): what the client lacks, and harm.

    A row's ``how`` is either the condition that makes the client cooperative (a check patchkit
    ran and saw fail) or, for a client that can never be, the reason it cannot.
    """
    harm = "every call stops all greenlets until it returns"
    if row.cooperative is natives._never:  # the table's marker for "no hook exists"
        return f"{row.library} does its I/O in C ({row.how}): {harm}"
    if row.cooperative() is None:
        return (
            f"{row.library} does its I/O in C and patchkit cannot see whether it was made "
            f"cooperative ({row.how}): unless it was, {harm}"
        )
    return (
        f"{row.library} does its I/O in C and this process has not made it cooperative (checked: "
        f"`{row.how}` is false): {harm}"
    )
