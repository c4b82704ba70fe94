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
- PK101 once per patch request: the modules with any of the above that were loaded before it;
- PK201 from the native-client table, when gevent is in use.

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

from patchkit.detect import natives
from patchkit.detect.walker import Walker
from patchkit.findings import Finding, Report

_SKIP_TOP = frozenset(
    {"gevent", "greenlet", "zope", "patchkit", "_distutils_hack", "cython_runtime", "__mp_main__"}
)


def scan(*, gevent_in_use: bool | None = None) -> Report:
    """The detector over the loaded modules, with the ledger's PK106/PK107 and verify()'s PK108."""
    from patchkit import manager

    findings = scan_findings(gevent_in_use=gevent_in_use)
    ledger = manager.state()
    findings += ledger.findings() + manager.verify()
    return Report(findings=tuple(findings), mode="scan", patches=tuple(ledger.patch_records()))


def scan_findings(
    modules: Mapping[str, Any] | None = None, *, gevent_in_use: bool | None = None
) -> list[Finding]:
    """PK101-PK105 and PK201 over ``modules`` (default: ``sys.modules``).

    ``gevent_in_use`` decides PK201: a C client only stops greenlets where greenlets run.
    ``None`` means "if anything was monkey-patched"; the audit child passes True when the
    target used gevent without patching.
    """
    walker = Walker()
    source = dict(sys.modules if modules is None else modules)
    seen: set[int] = set()
    for name, module in source.items():
        if module is None or id(module) in seen or _excluded(name):
            continue
        seen.add(id(module))  # requests.packages.urllib3 is urllib3 under a second name
        walker.module(getattr(module, "__name__", name) or name, module)
    findings = _without_reexports(walker.findings)
    findings += _late(walker.holders)
    if gevent_in_use is None:
        gevent_in_use = bool(walker.harm) or _patched()
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


def _patched() -> bool:
    saved = getattr(sys.modules.get("gevent.monkey"), "saved", None)
    return bool(saved)


def _late(holders: set[str]) -> list[Finding]:
    """PK101 per patch request that came after modules now found holding something stale."""
    from patchkit import manager

    out = []
    for request in manager.state().requests:
        late = {m: by for m, by in request.modules_loaded.items() if m in holders}
        if not late:
            continue
        names = ", ".join(f"{m} (imported at {by or 'an unknown place'})" for m, by in late.items())
        path, _, line = (request.requested_by or "").rpartition(":")
        out.append(
            Finding(
                "PK101",
                f"{request.function} ran after {len(late)} module(s) that hold unpatched "
                f"originals were loaded: {names}",
                file=path or None,
                line=int(line) if line.isdigit() else None,
                object=request.function,
                detail={"modules": late},
            )
        )
    return out


def _native_findings() -> list[Finding]:
    from patchkit import imports

    out = []
    for row in natives.blocking_clients():
        where = imports.first_importer(row.module.partition(".")[0]) or ""
        path, _, line = where.rpartition(":")
        state = "cannot be seen to be" if row.cooperative() is None else "is not"
        message = f"{row.library} does its I/O in C and {state} made cooperative ({row.how})"
        out.append(
            Finding(
                "PK201",
                message,
                module=row.module.partition(".")[0],
                file=path or getattr(sys.modules.get(row.module), "__file__", None),
                line=int(line) if line.isdigit() else None,
                object=row.library,
                fix=row.fix,
            )
        )
    return out
