"""One pass over ``sys.modules``: stale originals, unpatched subclasses, pre-patch objects.

Every check rides the same walk over each module's globals (DESIGN: the bare identity walk over
~540 modules costs ~8 ms), with per-type verdicts cached so a value costs a dict lookup or two:

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

import sys
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from patchkit.detect import natives, originals
from patchkit.detect.locate import line_of
from patchkit.findings import Finding, Report

_SKIP_TOP = frozenset(
    {"gevent", "greenlet", "zope", "patchkit", "_distutils_hack", "cython_runtime", "__mp_main__"}
)
_CONTAINERS = (dict, list, tuple)
_CONTAINER_LIMIT = 2000  # one level, bounded: a huge table is data, not configuration
_WRAPPERS = (staticmethod, classmethod)
# Instances of these harmful classes are not "pre-patch objects": a Thread object made before
# patching is a real thread (its harm is the class, PK104), a Popen ran its child already.
_NO_INSTANCE_HARM = frozenset({"threading.Thread", "threading.Timer", "subprocess.Popen"})
# Instances whose type has no harmful name of its own: a real lock's type is not constructible.
_INSTANCE_TYPES = (("_thread", "LockType", "a real OS lock: acquire() blocks the hub"),)
# What an instance was made by, in the words users write.
_MADE_BY = {
    "_thread.LockType": "threading.Lock()",
    "threading._CRLock": "threading.RLock()",
    "_thread._local": "threading.local()",
    "selectors.DefaultSelector": "selectors.DefaultSelector()",
}

Hit = tuple[originals.Original, object, object]


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
    walker = _Walker()
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


def _excluded(name: str) -> bool:
    top = name.partition(".")[0]
    return top in sys.stdlib_module_names or top in _SKIP_TOP or top.startswith("_cython_")


def _patched() -> bool:
    saved = getattr(sys.modules.get("gevent.monkey"), "saved", None)
    return bool(saved)


class _Walker:
    """The single pass; it collects findings and the modules that hold something stale."""

    def __init__(self) -> None:
        self.harm: dict[int, Hit] = originals.harmful_saved()
        self.classes = [hit for hit in self.harm.values() if isinstance(hit[1], type)]
        self.held = natives.held_objects()
        self.findings: list[Finding] = []
        self.natives: list[Finding] = []
        self.holders: set[str] = set()
        self._types: dict[type, tuple[str, str] | None] = {}
        self._instance_types = _instance_types()

    def module(self, name: str, module: Any) -> None:
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            return
        path = namespace.get("__file__")
        for attr, value in list(namespace.items()):
            self._global(name, path, attr, value)

    def _global(self, name: str, path: str | None, attr: str, value: Any) -> None:
        hit = self.harm.get(id(value))
        if hit is not None:
            self._add("PK102", name, path, (attr,), hit, f"{name}.{attr}")
            return
        row = self.held.get(id(value))
        if row is not None and not name.startswith(row.module.partition(".")[0]):
            self._native_held(name, path, attr, row)
            return
        kind = type(value)
        if isinstance(value, type) and getattr(value, "__module__", None) == name:
            self._class(name, path, attr, value)
        elif kind is types.FunctionType and value.__module__ == name:
            self._function(name, path, (attr,), value)
        elif kind in _CONTAINERS:
            self._container(name, path, attr, value)
        else:
            self._object(name, path, (attr,), value)

    def _class(self, name: str, path: str | None, attr: str, cls: type) -> None:
        for orig_row, orig, patched in self.classes:
            if cls is not orig and issubclass(cls, orig) and not _derives(cls, patched):
                self._report(
                    "PK104", name, path, (attr,), orig_row, None,
                    f"{name}.{attr} derives from the original {orig_row.key}, not gevent's",
                )  # fmt: skip
                break
        for key, value in list(vars(cls).items()):
            inner = value.__func__ if isinstance(value, _WRAPPERS) else value
            hit = self.harm.get(id(inner))
            where = (attr, key)
            if hit is not None:
                self._add("PK103", name, path, where, hit, f"class attribute {name}.{attr}.{key}")
            elif type(inner) is types.FunctionType:
                self._function(name, path, where, inner)
            else:
                self._object(name, path, where, inner)

    def _function(self, name: str, path: str | None, where: tuple[str, ...], func: Any) -> None:
        held: list[tuple[str, Any]] = [("default", v) for v in func.__defaults__ or ()]
        held += [("default", v) for v in (func.__kwdefaults__ or {}).values()]
        for cell in func.__closure__ or ():
            try:
                held.append(("closure", cell.cell_contents))
            except ValueError:  # an empty cell
                continue
        for how, value in held:
            hit = self.harm.get(id(value))
            if hit is not None:
                label = f"{how} of {name}.{'.'.join(where)}()"
                line = func.__code__.co_firstlineno
                self._add("PK103", name, path, where, hit, label, line=line)

    def _container(self, name: str, path: str | None, attr: str, value: Any) -> None:
        items: Iterable[tuple[Any, Any]] = (
            value.items() if type(value) is dict else enumerate(value)
        )
        for count, (key, item) in enumerate(items):
            if count >= _CONTAINER_LIMIT:
                break
            hit = self.harm.get(id(item))
            if hit is not None:
                self._add("PK103", name, path, (attr,), hit, f"{name}.{attr}[{key!r}]")
            else:
                self._object(name, path, (attr,), item, label=f"{name}.{attr}[{key!r}]")

    def _object(
        self, name: str, path: str | None, where: tuple[str, ...], value: Any, label: str = ""
    ) -> None:
        kind = type(value)
        verdict = self._types.get(kind, ...)
        if verdict is ...:
            verdict = self._types[kind] = self._type_verdict(kind)
        if verdict is None:
            return
        key, why = verdict
        label = label or f"{name}.{'.'.join(where)}"
        made = _MADE_BY.get(key, f"{key}()")
        message = f"{label} was made by {made} before patching: {why}"
        line = line_of(path, where)
        self._finding("PK105", name, path, line, key, message, None)

    def _type_verdict(self, kind: type) -> tuple[str, str] | None:
        if kind in self._instance_types:
            return self._instance_types[kind]
        if kind.__module__ in ("builtins", "types") or kind is type:
            return None
        for orig_row, orig, patched in self.classes:
            if orig_row.key in _NO_INSTANCE_HARM or not issubclass(kind, orig):
                continue
            if not _derives(kind, patched):
                return orig_row.key, orig_row.why
        return None

    def _add(
        self, code: str, name: str, path: str | None, where: tuple[str, ...], hit: Hit,
        label: str, line: int | None = None,
    ) -> None:  # fmt: skip
        row = hit[0]
        message = f"{label} is the original {row.key}, which {_harm_text(row)}"
        self._report(code, name, path, where, row, line, message)

    def _report(
        self, code: str, name: str, path: str | None, where: tuple[str, ...],
        row: originals.Original, line: int | None, message: str,
    ) -> None:  # fmt: skip
        line = line or line_of(path, where, hint=row.name)
        self._finding(code, name, path, line, row.key, message, _fix(code, row, name))

    def _finding(
        self, code: str, name: str, path: str | None, line: int | None, obj: str,
        message: str, fix: str | None,
    ) -> None:  # fmt: skip
        self.holders.add(name)
        self.findings.append(
            Finding(code, message, module=name, file=path, line=line, object=obj, fix=fix or "")
        )

    def _native_held(self, name: str, path: str | None, attr: str, row: Any) -> None:
        message = (
            f"{name}.{attr} is plain {row.library}, not its gevent-aware variant: its calls "
            "wait in C and stop every greenlet"
        )
        line = line_of(path, (attr,))
        self.natives.append(
            Finding("PK201", message, module=name, file=path, line=line, object=row.library,
                    fix=row.fix)
        )  # fmt: skip


def _instance_types() -> dict[type, tuple[str, str]]:
    saved = getattr(sys.modules.get("gevent.monkey"), "saved", None) or {}
    out: dict[type, tuple[str, str]] = {}
    for module, name, why in _INSTANCE_TYPES:
        kind = saved.get(module, {}).get(name)
        if isinstance(kind, type):
            out[kind] = (f"{module}.{name}", why)
    return out


def _derives(cls: type, patched: object) -> bool:
    return isinstance(patched, type) and issubclass(cls, patched)


_HARM_TEXT = {
    "stall": "blocks the hub for the whole call",
    "hang": "never returns under gevent (LoopExit)",
    "leak": "keeps one state per OS thread, shared by every greenlet",
    "shared": "is owned per OS thread, so greenlets do not exclude each other",
}


def _harm_text(row: originals.Original) -> str:
    return _HARM_TEXT.get(row.harm or "", f"fails under gevent ({row.harm})")


def _fix(code: str, row: originals.Original, holder: str) -> str:
    module = row.module.lstrip("_") if row.module == "_thread" else row.module
    if code == "PK104":
        return (
            f"Patch before {holder} is imported (`import patchkit.auto` first), so the class "
            f"derives from gevent's {row.name}."
        )
    if code == "PK105":
        return "Create it after patching (lazily, on first use), or patch before it is imported."
    return (
        f"Look it up at call time (`import {module}` then `{module}.{row.name}(...)`), or patch "
        f"before {holder} is imported (`import patchkit.auto` first)."
    )


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


def iter_modules() -> Iterator[tuple[str, Any]]:
    """The modules the scan looks at, for tools that want the same view (the benchmark)."""
    for name, module in list(sys.modules.items()):
        if module is not None and not _excluded(name):
            yield name, module
