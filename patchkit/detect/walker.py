"""The single pass behind ``scan()``: every per-value check, at close to identity-walk cost.

Set operations in C (``isdisjoint`` over ``map(id, values)``, ``set(map(type, values))``) decide
which modules and classes need a closer look, and each type's verdict is cached from scan to
scan, so most values cost no Python-level work at all.
"""

from __future__ import annotations

import builtins
import sys
import types
from typing import Any

from patchkit._frames import is_installed_file
from patchkit.detect import natives, originals
from patchkit.detect.locate import line_of
from patchkit.findings import Finding

_CONTAINERS = (dict, list, tuple)
_BUILTINS = builtins.__dict__  # every module's __builtins__: never holds a stale original
_CONTAINER_LIMIT = 512  # one level; a bigger table is data, not configuration
_IGNORE, _FUNCTION, _CLASS, _CONTAINER, _OBJECT = range(5)
_WRAPPERS = (staticmethod, classmethod)
# Stdlib classes whose instances keep a function chosen when they were made: one made before
# patching, held in a user's global, keeps the original (sched.scheduler(time.time, time.sleep)
# stalls the hub in run(); measured in tests/test_scan_objects.py). One attribute level only.
_HOLDERS = (("sched", "scheduler", ("delayfunc",)),)

Row = originals.Original
Hit = tuple[Row, object, object]


class TypeCache:
    """Type verdicts shared by successive scans; reset when the set of originals changes.

    Bounded, since it holds the types it has seen: a program that makes classes at run time
    should not keep them alive through patchkit without limit.
    """

    LIMIT = 50_000
    current: TypeCache | None = None

    def __init__(self, key: frozenset[int]) -> None:
        self.key = key
        self.kinds: dict[type, int] = {}
        self.verdicts: dict[type, Row] = {}
        self.objects: set[type] = set()
        self.classes: set[type] = set()  # metaclasses: type, ABCMeta, EnumType, ...
        # Classes with nothing to report, with their attribute count then: originals exist
        # only from before patching, so a class clean after patching stays clean unless its
        # attributes change, which the count catches when an attribute is added.
        self.clean_classes: dict[type, int] = {}

    @classmethod
    def for_key(cls, key: frozenset[int]) -> TypeCache:
        cache = cls.current
        if (
            cache is None
            or cache.key != key
            or len(cache.kinds) + len(cache.clean_classes) > cls.LIMIT
        ):
            cache = cls.current = cls(key)
        return cache


class Walker:
    """The single pass; it collects findings and the modules that hold something stale."""

    def __init__(self) -> None:
        self.visited: list[tuple[str, dict[str, Any], list[Any], set[type]]] | None = None
        self.harm: dict[int, Hit] = originals.harmful_saved()
        self.classes = [hit for hit in self.harm.values() if isinstance(hit[1], type)]
        self.class_ids = {id(hit[1]) for hit in self.classes}
        self.harm_ids = set(self.harm)
        self.held = natives.held_objects()
        self.findings: list[Finding] = []
        self.natives: list[Finding] = []
        self.holders: set[str] = set()
        self._instance_types = _instance_types()
        self._instance_ids = {id(kind) for kind in self._instance_types}
        self._holder_types = _holder_types()
        # The verdict per type, kept from scan to scan while the originals stay the same.
        cache = TypeCache.for_key(frozenset(self.harm_ids))
        self._kinds, self._verdicts = cache.kinds, cache.verdicts
        self._object_types, self._class_kinds = cache.objects, cache.classes
        self._clean_classes = cache.clean_classes

    def module(self, name: str, module: Any) -> None:
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            return
        path = namespace.get("__file__")
        values = list(namespace.values())
        # Set operations in C decide which kinds of work this module needs at all.
        if not self.harm_ids.isdisjoint(map(id, values)) or (
            self.held and not self.held.keys().isdisjoint(map(id, values))
        ):
            self._identities(name, path, namespace)
        present = set(map(type, values))
        if self.visited is not None:  # the deep walk starts from what this pass already read
            self.visited.append((name, namespace, values, present))
        for kind in present.difference(self._kinds):
            self._kind(kind)
        if types.FunctionType in present:
            funcs = [v for v in values if type(v) is types.FunctionType and v.__module__ == name]
            if not self.harm_ids.isdisjoint(map(id, _bound_by(funcs))):
                for attr, value in list(namespace.items()):
                    if type(value) is types.FunctionType and value.__module__ == name:
                        self._function(name, path, (attr,), value)
        if not present.isdisjoint(self._class_kinds):
            for value in values:
                if type(value) in self._class_kinds and getattr(value, "__module__", "") == name:
                    self._class(name, path, value.__name__, value)
        if self._holder_types and not present.isdisjoint(self._holder_types):
            self._held_by_objects(name, path, namespace)
        if not present.isdisjoint(self._object_types) or (
            not present.isdisjoint(_CONTAINERS) and self._containers_suspect(values)
        ):
            self._holders(name, path, namespace)

    def _containers_suspect(self, values: list[Any]) -> bool:
        containers = [v for v in values if type(v) in _CONTAINERS and v is not _BUILTINS]
        return any(len(c) <= _CONTAINER_LIMIT and self._suspects(_items(c)) for c in containers)

    def _identities(self, name: str, path: str | None, namespace: dict[str, Any]) -> None:
        harm, held = self.harm, self.held
        for attr, value in list(namespace.items()):
            if id(value) in harm:
                self._add("PK102", name, path, (attr,), harm[id(value)], f"{name}.{attr}")
            elif id(value) in held and name.partition(".")[0] != held[id(value)].module:
                self._native_held(name, path, attr, held[id(value)])

    def _holders(self, name: str, path: str | None, namespace: dict[str, Any]) -> None:
        """Module-level containers (one level in) and pre-patch objects."""
        for attr, value in list(namespace.items()):
            kind = type(value)
            if kind in _CONTAINERS and attr[:2] != "__":  # __builtins__, __all__, __path__
                self._container(name, path, (attr,), value)
            elif kind in self._object_types and id(value) not in self.harm:
                self._object(name, path, (attr,), value)

    def _held_by_objects(self, name: str, path: str | None, namespace: dict[str, Any]) -> None:
        """PK103 for a stdlib object in a global that keeps an original it was given."""
        for attr, value in list(namespace.items()):
            fields = self._holder_types.get(type(value))
            state = getattr(value, "__dict__", None) if fields else None
            for field in fields or ():
                hit = self.harm.get(id(state.get(field))) if isinstance(state, dict) else None
                if hit is not None:
                    self._add("PK103", name, path, (attr,), hit, f"{name}.{attr}.{field}")

    def _kind(self, kind: type) -> int:
        if kind is types.FunctionType:
            verdict = _FUNCTION
        elif issubclass(kind, type):
            verdict = _CLASS
            self._class_kinds.add(kind)
        elif kind in _CONTAINERS:
            verdict = _CONTAINER
        else:
            found = self._type_verdict(kind)
            verdict = _IGNORE if found is None else _OBJECT
            if found is not None:
                self._verdicts[kind] = found
                self._object_types.add(kind)
        self._kinds[kind] = verdict
        return verdict

    def _class(self, name: str, path: str | None, attr: str, cls: type) -> None:
        if not self.class_ids.isdisjoint(map(id, cls.__mro__[1:])):
            self._subclass(name, path, attr, cls)
        namespace = cls.__dict__
        if self._clean_classes.get(cls) == len(namespace):
            return  # found clean by an earlier scan, and no attribute added since
        if self._clean(list(namespace.values())):
            self._clean_classes[cls] = len(namespace)
            return
        harm = self.harm
        for key, value in list(vars(cls).items()):
            kind = type(value)
            if kind in _WRAPPERS:
                value, kind = value.__func__, type(value.__func__)
            where = (attr, key)
            if id(value) in harm:
                label = f"class attribute {name}.{attr}.{key}"
                self._add("PK103", name, path, where, harm[id(value)], label)
            elif kind is types.FunctionType:
                self._function(name, path, where, value)
            elif kind in self._object_types:
                self._object(name, path, where, value)
            elif kind in _CONTAINERS:
                self._container(name, path, where, value)

    def _clean(self, values: list[Any]) -> bool:
        """Nothing to report among a class's attributes: decided with set operations in C."""
        if not self.harm_ids.isdisjoint(map(id, values)):
            return False
        kinds = set(map(type, values))
        for kind in kinds.difference(self._kinds):
            self._kind(kind)
        if not kinds.isdisjoint(self._object_types):
            return False
        if not kinds.isdisjoint(_WRAPPERS):
            inner = [v.__func__ for v in values if type(v) in _WRAPPERS]
            if not self.harm_ids.isdisjoint(map(id, inner)):
                return False
            values = values + inner
            kinds.add(types.FunctionType)
        if not kinds.isdisjoint(_CONTAINERS) and self._containers_suspect(values):
            return False
        if types.FunctionType not in kinds:
            return True
        return self.harm_ids.isdisjoint(map(id, _bound_by(values)))

    def _subclass(self, name: str, path: str | None, attr: str, cls: type) -> None:
        for orig_row, orig, patched in self.classes:
            if issubclass(cls, orig) and not _derives(cls, patched):
                message = f"{name}.{attr} derives from the original {orig_row.key}, not gevent's"
                self._report("PK104", name, path, (attr,), orig_row, None, message)
                return

    def _function(self, name: str, path: str | None, where: tuple[str, ...], func: Any) -> None:
        held = list(func.__defaults__ or ())
        if func.__kwdefaults__:
            held += func.__kwdefaults__.values()
        closure = func.__closure__ or ()
        try:
            held += [cell.cell_contents for cell in closure]
        except ValueError:  # an empty cell: take the others one by one
            held += [c.cell_contents for c in closure if _filled(c)]
        if self.harm_ids.isdisjoint(map(id, held)):
            return
        for value in held:
            hit = self.harm.get(id(value))
            if hit is not None:
                how = (
                    "closure"
                    if any(_filled(c) and c.cell_contents is value for c in closure)
                    else "default"
                )
                label = f"{how} of {name}.{'.'.join(where)}()"
                line = func.__code__.co_firstlineno
                self._add("PK103", name, path, where, hit, label, line=line)

    def _container(self, name: str, path: str | None, where: tuple[str, ...], value: Any) -> None:
        items = value.values() if type(value) is dict else value
        if len(items) > _CONTAINER_LIMIT or not self._suspects(items):
            return
        harm = self.harm
        for item in items:
            stale = id(item) in harm
            if not stale and self._kinds.get(type(item)) != _OBJECT:
                continue
            label = f"{name}.{'.'.join(where)}[{_key_of(value, item)!r}]"
            if stale:
                self._add("PK103", name, path, where, harm[id(item)], label)
            else:
                self._object(name, path, where, item, label=label)

    def _suspects(self, items: Any) -> bool:
        """Whether any item is a harmful original or pre-patch object: set operations in C."""
        if not self.harm_ids.isdisjoint(map(id, items)):
            return True
        kinds = set(map(type, items))
        for kind in kinds.difference(self._kinds):
            self._kind(kind)
        return not self._object_types.isdisjoint(kinds)

    def _object(
        self, name: str, path: str | None, where: tuple[str, ...], value: Any, label: str = ""
    ) -> None:
        row = self._verdicts[type(value)]
        if row.library_instances and is_installed_file(path):
            return  # measured harmless where libraries keep them (see the row)
        label = label or f"{name}.{'.'.join(where)}"
        message = f"{label} was made by {row.maker}() before patching: {row.instance}"
        line = line_of(path, where)
        self._finding("PK105", name, path, line, row.maker, message, _fix("PK105", row, name))

    def _type_verdict(self, kind: type) -> Row | None:
        """The row whose harmful instances ``kind``'s are (none if it derives from gevent's)."""
        if self._instance_ids.isdisjoint(map(id, kind.__mro__)):
            return None
        for orig, (row, patched) in self._instance_types.items():
            if issubclass(kind, orig) and not _derives(kind, patched):
                return row
        return None

    def _add(
        self, code: str, name: str, path: str | None, where: tuple[str, ...], hit: Hit,
        label: str, line: int | None = None,
    ) -> None:  # fmt: skip
        row = hit[0]
        message = f"{label} is the original {row.key}, {row.harm_text}"
        self._report(code, name, path, where, row, line, message)

    def _report(
        self, code: str, name: str, path: str | None, where: tuple[str, ...],
        row: Row, line: int | None, message: str,
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


def _items(container: Any) -> Any:
    return container.values() if type(container) is dict else container


def _bound_by(values: list[Any]) -> list[Any]:
    """Every default and closure value of the plain functions among ``values``."""
    funcs = [v for v in values if type(v) is types.FunctionType]
    held = [d for f in funcs if f.__defaults__ for d in f.__defaults__]
    held += [d for f in funcs if f.__kwdefaults__ for d in f.__kwdefaults__.values()]
    cells = [c for f in funcs if f.__closure__ for c in f.__closure__]
    try:
        held += [c.cell_contents for c in cells]
    except ValueError:  # an empty cell
        held += [c.cell_contents for c in cells if _filled(c)]
    return held


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018  -- raises ValueError for an empty cell
    except ValueError:
        return False
    return True


def _key_of(container: Any, item: Any) -> Any:
    pairs = container.items() if type(container) is dict else enumerate(container)
    return next((key for key, value in pairs if value is item), None)


def _instance_types() -> dict[type, tuple[Row, object]]:
    """``original class -> (row, patched)`` for the saved classes whose instances are harmful."""
    saved = getattr(sys.modules.get("gevent.monkey"), "saved", None) or {}
    out: dict[type, tuple[Row, object]] = {}
    for row in originals.ORIGINALS:
        kind = saved.get(row.module, {}).get(row.name) if row.instance else None
        if not isinstance(kind, type):
            continue
        if kind not in out or _preference(row) > _preference(out[kind][0]):
            out[kind] = (row, getattr(sys.modules.get(row.module), row.name, None))
    return out


def _preference(row: Row) -> tuple[bool, int]:
    """The row to name an instance by: its own constructor, then the name users write."""
    return row.made_by is None, originals.publicness(row)


def _holder_types() -> dict[type, tuple[str, ...]]:
    out = {}
    for module, name, fields in _HOLDERS:
        kind = getattr(sys.modules.get(module), name, None)
        if isinstance(kind, type):
            out[kind] = fields
    return out


def _derives(cls: type, patched: object) -> bool:
    return isinstance(patched, type) and issubclass(cls, patched)


def _fix(code: str, row: Row, holder: str) -> str:
    module = row.module.lstrip("_") if row.module == "_thread" else row.module
    first = (
        "patch before this line (`import patchkit.auto` first)"
        if holder == "__main__"
        else f"patch before {holder} is imported (`import patchkit.auto` first)"
    )
    if code == "PK104":
        return f"Define the class after patching so it derives from gevent's {row.name}: {first}."
    if code == "PK105":
        return f"Create it after patching (lazily, on first use), or {first}."
    return f"Look it up at call time (`import {module}`; `{module}.{row.name}(...)`), or {first}."
