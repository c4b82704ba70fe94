"""PK105 deep: objects made before patching, found wherever application state holds them.

Module globals are the roots; from there a breadth-first walk reads only what an object stores
(its ``__dict__`` and ``__slots__`` through the type's own descriptors, container items through
the builtin types' C methods), so no property, ``__getattr__`` or overridden ``__iter__`` ever
runs. Breadth-first gives each object its shortest path. Every object costs one type lookup in a
per-type verdict table; types that can never hold anything (str, functions, classes, modules)
are dropped before they are even remembered. Which kinds are reported, and why, is in
``prepatch_kinds.py``.
"""

from __future__ import annotations

import itertools
import sys
import types
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from patchkit.detect import prepatch_kinds
from patchkit.detect.locate import line_of
from patchkit.findings import Finding

CONTAINER_LIMIT = 256  # items read per container: a bigger one is data, not plumbing
# Items looked at to call a builtin container plain data (strings, numbers, functions): tables
# are homogeneous, and one that holds objects shows it in its first entries.
_PLAIN_SAMPLE = 32
_SKIP_ROOTS = frozenset({"gevent", "greenlet", "zope", "patchkit", "__mp_main__"})
_OWN_TYPES = ("gevent", "greenlet", "zope", "patchkit")  # their objects hold real ones on purpose
_LEAF, _CHECK, _MAPPING, _SEQUENCE, _OBJECT, _METHOD = range(6)
_ATOMS = (str, bytes, bytearray, int, float, complex, bool, type(None), memoryview, range)
_OPAQUE = (
    types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, types.CodeType,
    types.FrameType, types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType,
    types.MethodDescriptorType, types.WrapperDescriptorType, types.GetSetDescriptorType,
    types.MemberDescriptorType, types.MappingProxyType, property, staticmethod, classmethod,
    types.GenericAlias, types.UnionType,
)  # fmt: skip
_SEQUENCES = (list, tuple, set, frozenset, deque)
_PLAIN = frozenset({dict, list, tuple, set, frozenset})  # no __dict__ of their own
# Type annotations (TypeVar, Union[...], list[int]) are everywhere in library globals and can
# hold nothing that runs.
_ANNOTATIONS = frozenset({"typing", "typing_extensions"})
# Types whose instances are in every module's globals and can hold no application object: the
# import system's specs and loaders (``__spec__``, ``__loader__``), ``__future__`` features and
# compiled regular expressions. Dropping them by type keeps the walk's first pass in C.
_INERT_MODULES = _ANNOTATIONS | {
    "importlib._bootstrap", "importlib._bootstrap_external", "importlib.machinery",
    "_frozen_importlib", "_frozen_importlib_external", "__future__", "re", "_sre",
    # Every module holds a logger, and each logger reaches the whole logger tree: walking it
    # costs more than the rest of the walk together. Handlers open their sockets lazily, on
    # the first record, so a pre-patch one is rare; that gap is accepted for the speed budget.
    "logging",
}  # fmt: skip
MAX_EXAMPLES = 5  # paths listed in a grouped finding's detail


def prepatch_objects(
    modules: Mapping[str, types.ModuleType] | None = None,
    *,
    max_depth: int = 6,
    max_objects: int = 20000,
    visited: list[tuple[str, dict[str, Any], list[Any], set[type]]] | None = None,
) -> list[Finding]:
    """PK105 findings for harmful objects made before patching, held below module globals.

    ``max_depth`` counts attribute hops (opening an object); indexing into a container is free,
    and the values of the deepest opened objects are still checked. ``max_objects`` bounds how
    many objects are opened. A module global that is itself such an object is the walker's
    finding, not this one's: only objects at least one hop down are reported. ``visited`` is
    the module walk's record of what it read (``scan_findings(visited=...)``): given, the roots
    come from it instead of a second pass over every module's globals.
    """
    kinds = prepatch_kinds.originals()
    if not kinds.exact and kinds.socket is None:
        return []  # nothing patched: nothing was made "before patching"
    walk = _Walk(kinds, max_depth, max_objects)
    if visited is None:
        visited = list(_read(_roots(sys.modules if modules is None else modules)))
    walk.run(sorted(visited, key=lambda root: root[0] != "__main__"))  # the app's own first
    return walk.findings()


def _read(
    roots: Iterator[tuple[str, Any]],
) -> Iterator[tuple[str, dict[str, Any], list[Any], set[type]]]:
    for name, module in roots:
        namespace = getattr(module, "__dict__", None)
        if type(namespace) is dict:
            values = list(namespace.values())
            yield name, namespace, values, set(map(type, values))


def _roots(modules: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    names = sorted(modules, key=lambda n: n != "__main__")  # the app's own first
    for name in names:
        top = name.partition(".")[0]
        if top in _SKIP_ROOTS or top in sys.stdlib_module_names:
            continue
        yield name, modules[name]


class _Types:
    """Each type's verdict, kept from walk to walk while the originals stay the same.

    ``leaf`` holds the types that can never hold anything, so a whole module or container is
    dropped with one set difference in C when all its values are of such types. Bounded: a
    program that makes classes at run time should not keep them alive here without limit.
    """

    LIMIT = 50_000
    current: _Types | None = None

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key
        self.verdicts: dict[type, tuple[int, Any]] = {}
        self.leaf: set[type] = set()

    @classmethod
    def for_kinds(cls, kinds: prepatch_kinds.Originals) -> _Types:
        key = (frozenset(kinds.exact), kinds.socket, kinds.lock)
        table = cls.current
        if table is None or table.key != key or len(table.verdicts) > cls.LIMIT:
            table = cls.current = cls(key)
        return table


class _Walk:
    def __init__(self, kinds: prepatch_kinds.Originals, max_depth: int, limit: int) -> None:
        self.kinds = kinds
        self.max_depth = max_depth
        self.limit = limit
        table = _Types.for_kinds(kinds)
        self.verdicts, self.leaf = table.verdicts, table.leaf
        self.seen: set[int] = set()
        # One node per object reached: (parent node or -1, step, object). A step is
        # ("root", (module, name)), (".", attribute), ("[]", key) or ("{}", None) for a set.
        self.nodes: list[tuple[int, tuple[str, Any], Any]] = []
        self.hits: list[tuple[int, prepatch_kinds.Kind]] = []

    def run(self, roots: Iterable[tuple[str, dict[str, Any], list[Any], set[type]]]) -> None:
        queue: deque[tuple[int, int]] = deque()  # (node, depth)
        for name, namespace, values, present in roots:
            if name.partition(".")[0] in _SKIP_ROOTS:
                continue
            for attr, value in self._candidates(namespace, values, present):
                if attr[:2] == "__" or id(value) in self.seen or self._plain_data(value):
                    continue
                self.seen.add(id(value))
                self.nodes.append((-1, ("root", (name, attr)), value))
                if not self._top_level_hit(len(self.nodes) - 1, value):
                    queue.append((len(self.nodes) - 1, 0))
        opened = 0
        while queue and opened < self.limit:
            node, depth = queue.popleft()
            opened += 1
            for step, child in self._children(self.nodes[node][2]):
                self._reach(node, depth, step, child, queue)

    def _candidates(
        self, namespace: dict[str, Any], values: list[Any], present: set[type]
    ) -> Iterator[tuple[str, Any]]:
        """The globals whose type may hold something, chosen in C.

        Most globals are functions, classes and modules: the set of types present minus the
        leaf types says whether a module needs a look at all, and ``compress`` picks the few
        values that do without a Python-level step per global (the scan's speed budget).
        """
        kinds = present - self.leaf
        wanted = {kind for kind in kinds if self._verdict(kind)[0] is not _LEAF}
        if not wanted or len(values) != len(namespace):  # changed since it was read: skip it
            return iter(())
        pairs = zip(namespace, values, strict=False)  # same length: checked above
        return itertools.compress(pairs, map(wanted.__contains__, map(type, values)))

    def _top_level_hit(self, node: int, value: Any) -> bool:
        verdict, how = self._verdict(type(value))
        kind = how(value) if verdict is _CHECK else None
        if kind is not None and kind.top_level:
            self.hits.append((node, kind))
            return True
        return False

    def _reach(
        self, parent: int, depth: int, step: tuple[str, Any], child: Any, queue: deque
    ) -> None:
        verdict, how = self._verdict(type(child))
        if verdict is _LEAF or id(child) in self.seen or self._plain_data(child):
            return
        self.seen.add(id(child))
        self.nodes.append((parent, step, child))
        node = len(self.nodes) - 1
        if verdict is _CHECK:
            kind = how(child)
            if kind is not None:
                self.hits.append((node, kind))
                return  # reported: what it holds is its own business
        hop = step[0] == "."
        if not hop or depth < self.max_depth:
            queue.append((node, depth + hop))

    def _plain_data(self, value: Any) -> bool:
        """A builtin container of only strings, numbers, functions...: not even worth a node."""
        kind = type(value)
        if kind not in _PLAIN:
            return False
        items = dict.values(value) if kind is dict else value
        return not self._may_hold(itertools.islice(items, _PLAIN_SAMPLE))

    def _may_hold(self, values: Any) -> bool:
        """Whether any value is of a type not known to be a leaf: a set difference in C."""
        kinds = set(map(type, values))
        if kinds <= self.leaf:
            return False
        kinds.difference_update(self.leaf)
        return any(self._verdict(kind)[0] is not _LEAF for kind in kinds)

    def _children(self, obj: Any) -> Iterator[tuple[tuple[str, Any], Any]]:
        verdict, how = self._verdict(type(obj))
        try:
            if verdict is _MAPPING:
                for key, value in itertools.islice(dict.items(obj), CONTAINER_LIMIT):
                    yield ("[]", key), value
            elif verdict is _SEQUENCE:
                keyed = how is not set and how is not frozenset
                for index, value in enumerate(itertools.islice(how.__iter__(obj), CONTAINER_LIMIT)):
                    yield ("[]" if keyed else "{}", index), value
            elif verdict is _METHOD:
                yield (".", "__self__"), obj.__self__
            if verdict in (_OBJECT, _CHECK, _MAPPING, _SEQUENCE) and how is not None:
                yield from self._attributes(obj, type(obj))
        except RuntimeError:  # changed size during iteration (another thread): skip the rest
            return

    def _attributes(self, obj: Any, kind: type) -> Iterator[tuple[tuple[str, Any], Any]]:
        dict_descr, slots = _layout(kind)
        if dict_descr is not None:
            namespace = dict_descr.__get__(obj, kind)
            if type(namespace) is dict:
                for attr, value in list(namespace.items())[:CONTAINER_LIMIT]:
                    yield (".", attr), value
        for name, descr in slots:
            try:
                yield (".", name), descr.__get__(obj, kind)
            except AttributeError:  # an unset slot
                continue

    def _verdict(self, kind: type) -> tuple[int, Any]:
        found = self.verdicts.get(kind)
        if found is None:
            found = self.verdicts[kind] = _classify(kind, self.kinds)
            if found[0] is _LEAF:
                self.leaf.add(kind)
        return found

    def findings(self) -> list[Finding]:
        """One finding per module global, however many harmful objects it holds."""
        groups: dict[int, list[tuple[int, prepatch_kinds.Kind]]] = {}
        for node, kind in self.hits:
            groups.setdefault(self._root(node), []).append((node, kind))
        return [self._finding(root, hits) for root, hits in groups.items()]

    def _root(self, node: int) -> int:
        while self.nodes[node][0] != -1:
            node = self.nodes[node][0]
        return node

    def _path(self, node: int) -> str:
        parts: list[str] = []
        while node != -1:
            parent, (how, key), _obj = self.nodes[node]
            if how == "root":
                parts.append(f"{key[0]}.{key[1]}")
            elif how == ".":
                parts.append(f".{key}")
            else:
                parts.append(f"[{_key(key)}]" if how == "[]" else "{…}")
            node = parent
        return "".join(reversed(parts))

    def _finding(self, root: int, hits: list[tuple[int, prepatch_kinds.Kind]]) -> Finding:
        module, attr = self.nodes[root][1][1]
        node, kind = hits[0]  # breadth-first: the shortest path comes first
        path = self._path(node)
        what = f"{module}.{attr} ({_name(type(self.nodes[root][2]))})"
        if node == root:
            message = f"{what} was made before patching: {kind.why}"
        else:
            owner = _name(type(self.nodes[self.nodes[node][0]][2]))
            more = f" and {len(hits) - 1} more" if len(hits) > 1 else ""
            message = (
                f"{what} holds objects made before patching: {path} is a real {kind.name} "
                f"(in {owner}){more}; {kind.why}"
            )
        file = getattr(sys.modules.get(module), "__file__", None)
        first = "this line" if module == "__main__" else f"{module} is imported"
        fix = (
            f"Patch before {first} (`import patchkit.auto` first), or create "
            f"{module}.{attr} after patching (lazily, on first use)."
        )
        detail = {
            "path": path,
            "kind": kind.name,
            "count": len(hits),
            "kinds": sorted({k.name for _n, k in hits}),
            "paths": [self._path(n) for n, _k in hits[:MAX_EXAMPLES]],
        }
        return Finding(
            "PK105", message, module=module, file=file, line=line_of(file, (attr,)),
            object=path, fix=fix, detail=detail,
        )  # fmt: skip


def _first(items: Any) -> Any:
    return itertools.islice(items, CONTAINER_LIMIT)


def _classify(kind: type, kinds: prepatch_kinds.Originals) -> tuple[int, Any]:
    """One type's verdict: how to walk its instances (computed once per type per walk)."""
    if issubclass(kind, _ATOMS) or issubclass(kind, _OPAQUE):
        return _LEAF, None
    if kind.__module__.partition(".")[0] in _OWN_TYPES or kind.__module__ in _INERT_MODULES:
        return _LEAF, None
    if kind.__name__ == "cython_function_or_method":  # a compiled function: holds no state
        return _LEAF, None
    check = kinds.check_for(kind)
    if check is not None:
        return _CHECK, check
    if issubclass(kind, dict):
        return _MAPPING, kind
    for base in _SEQUENCES:
        if issubclass(kind, base):
            return _SEQUENCE, base
    if kind is types.MethodType:
        return _METHOD, None
    dict_descr, slots = _layout(kind)
    if dict_descr is None and not slots:
        return _LEAF, None
    return _OBJECT, kind


_LAYOUTS: dict[type, tuple[Any, tuple[tuple[str, Any], ...]]] = {}


def _layout(kind: type) -> tuple[Any, tuple[tuple[str, Any], ...]]:
    """The type's own ``__dict__`` getset and slot member descriptors, found in its MRO."""
    found = _LAYOUTS.get(kind)
    if found is not None:
        return found
    dict_descr = None
    slots: list[tuple[str, Any]] = []
    for cls in kind.__mro__:
        namespace = cls.__dict__
        entry = namespace.get("__dict__")
        if dict_descr is None and entry is not None:
            # A class may shadow __dict__ with a property: only the C getset is a plain read.
            dict_descr = entry if type(entry) is types.GetSetDescriptorType else False
        for name, value in namespace.items():
            if type(value) is types.MemberDescriptorType and name != "__weakref__":
                slots.append((name, value))
    found = (dict_descr or None, tuple(slots))
    if len(_LAYOUTS) < 50_000:
        _LAYOUTS[kind] = found
    return found


def _name(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def _key(key: Any) -> str:
    """A container key as a path shows it, without running any ``__repr__`` but the builtins'.

    Long tuples (urllib3's PoolKey) are cut to their first three items.
    """
    if isinstance(key, tuple):
        items = [_key(k) for k in tuple.__getitem__(key, slice(0, 3))]
        if len(key) > 3:
            items.append("…")
        return "(" + ", ".join(items) + ("," if len(key) == 1 else "") + ")"
    if type(key) in (str, int, float, bool, bytes, type(None)):
        text = repr(key)
        return text if len(text) <= 60 else text[:57] + "..."
    return f"<{type(key).__qualname__}>"
