"""What one module's source binds when it is imported, read from its syntax tree alone.

The static audit's per-file step: the imports the module runs at import time (module level,
inside ``if``/``try``/``with``/class bodies; never inside functions, never ``if TYPE_CHECKING``),
its first top-level patch call, and the places where it would hold an original gevent replaces
(the harm table, ``originals.py``, decides what is harmful, as it does for the runtime scan):

- PK102 a module global bound to a harmful original (``from time import sleep``);
- PK103 a class attribute, a function default, a closure a module-level call returns, or an item
  of a module-level dict/list/tuple bound to one;
- PK104 a class deriving from a harmful original class;
- PK105 a module global, class attribute or container item made by an original's constructor
  (``threading.Lock()``, ``threading.local()``, ``selectors.DefaultSelector()``).

The result is plain data (tuples of str and int) so that it can be cached by file hash; the
module's name and the messages are added later by ``closure_audit``, which knows them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

from patchkit.detect import originals
from patchkit.detect.static import is_patch

# (line, level, module, names): ``import a.b`` has names None; ``from . import x`` level 1.
Import = tuple[int, int, str, "tuple[str, ...] | None"]
# (code, line, row key, where, how): where is "attr" or "Cls.attr"; how says what holds it.
Hit = tuple[str, int, str, str, str]
Facts = tuple[tuple[Import, ...], int, tuple[Hit, ...], tuple[tuple[int, str], ...]]

_CONTAINERS = (ast.Dict, ast.List, ast.Tuple, ast.Set)
_WRAPPERS = ("staticmethod", "classmethod")


def _makers() -> dict[str, originals.Original]:
    """Constructor name users write -> the row whose objects are harmful (``threading.RLock``)."""
    out: dict[str, originals.Original] = {}
    for row in originals.ORIGINALS:
        if row.instance:
            out.setdefault(row.maker, row)
    for row in originals.ORIGINALS:
        if row.instance:
            out[row.key] = out.get(row.key, row) if row.made_by else row
    return out


MAKERS = _makers()


def read_facts(source: bytes, path: str) -> Facts:
    """``(imports, patch line or 0, hits, plain imports by line)`` of one module's source."""
    tree = ast.parse(source, path)
    reader = _Reader()
    reader.body(tree.body, top=True)
    reader.finish()
    return (tuple(reader.imports), reader.patch_line, tuple(reader.hits), tuple(reader.plain))


@dataclass
class _Reader:
    imports: list[Import] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    plain: list[tuple[int, str]] = field(default_factory=list)  # (line, what an import bound)
    patch_line: int = 0
    env: dict[str, str] = field(default_factory=dict)  # global name -> dotted origin
    bound: dict[str, tuple[int, str]] = field(default_factory=dict)  # global -> (line, row key)
    classes: dict[str, originals.Original] = field(default_factory=dict)  # local class -> base row
    closures: dict[str, tuple[int, str]] = field(default_factory=dict)  # factory -> (line, key)

    def body(self, stmts: list[ast.stmt], top: bool = False) -> None:
        for stmt in stmts:
            if top and not self.patch_line and is_patch(stmt):
                self.patch_line = stmt.lineno
            self.statement(stmt)

    def statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Import):
            self._import(stmt)
        elif isinstance(stmt, ast.ImportFrom):
            self._import_from(stmt)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    self._assign(target.id, stmt.value, stmt.lineno)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._forget(stmt.name)
            self._defaults(stmt, stmt.name)
            self.closures.update(_closure_factory(stmt, self.env))
        elif isinstance(stmt, ast.ClassDef):
            self._forget(stmt.name)
            self._class(stmt)
        elif isinstance(stmt, ast.If):
            if not _type_checking(stmt.test):
                self.body(stmt.body)
            self.body(stmt.orelse)
        elif isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            for part in (stmt.body, *(h.body for h in stmt.handlers), stmt.orelse):
                self.body(part)
            self.body(stmt.finalbody)
        elif isinstance(stmt, (ast.With, ast.For, ast.While)):
            self.body(stmt.body)
            self.body(stmt.orelse if not isinstance(stmt, ast.With) else [])
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    self._forget(target.id)

    def _forget(self, name: str) -> None:
        self.env.pop(name, None)
        self.bound.pop(name, None)

    def _import(self, stmt: ast.Import) -> None:
        for alias in stmt.names:
            self.imports.append((stmt.lineno, 0, alias.name, None))
            local = alias.asname or alias.name.partition(".")[0]
            self._forget(local)
            self.env[local] = alias.name if alias.asname else local
            self.plain.append((stmt.lineno, self.env[local]))

    def _import_from(self, stmt: ast.ImportFrom) -> None:
        names = tuple(alias.name for alias in stmt.names)
        self.imports.append((stmt.lineno, stmt.level, stmt.module or "", names))
        for alias in stmt.names:
            local = alias.asname or alias.name
            self._forget(local)
            if stmt.level or alias.name == "*":
                continue
            dotted = f"{stmt.module}.{alias.name}"
            self.env[local] = dotted
            self.plain.append((stmt.lineno, dotted))
            self._bind(local, dotted, getattr(alias, "lineno", stmt.lineno))

    def _bind(self, name: str, dotted: str, line: int) -> None:
        row = _harmful(dotted)
        if row is not None:
            self.bound[name] = (line, row.key)

    def _assign(self, name: str, value: ast.expr, line: int) -> None:
        self._forget(name)
        dotted = _dotted(value, self.env)
        if dotted:
            self.env[name] = dotted
            self._bind(name, dotted, value.end_lineno or line)
            return
        made = self._made(value)
        if made is not None:
            self.hits.append(("PK105", line, made.key, name, "global"))
        elif isinstance(value, _CONTAINERS):
            self._container(name, value, line)
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            closure = self.closures.get(value.func.id)
            if closure is not None:
                self.hits.append(("PK103", closure[0], closure[1], name, "closure"))

    def _made(self, value: ast.expr) -> originals.Original | None:
        """The row whose harmful object ``value`` constructs (a subclass counts too)."""
        if not isinstance(value, ast.Call):
            return None
        if isinstance(value.func, ast.Name) and value.func.id in self.classes:
            row = self.classes[value.func.id]
            return row if row.instance else None
        return MAKERS.get(_dotted(value.func, self.env))

    def _container(self, where: str, value: ast.expr, line: int) -> None:
        for key, item in _items(value):
            dotted = _dotted(item, self.env)
            row = _harmful(dotted) if dotted else None
            if row is not None:
                self.hits.append(("PK103", item.end_lineno or line, row.key, where, f"[{key!r}]"))
                continue
            made = self._made(item)
            if made is not None:
                self.hits.append(("PK105", line, made.key, where, f"[{key!r}]"))

    def _defaults(self, func: ast.FunctionDef | ast.AsyncFunctionDef, where: str) -> None:
        args = func.args
        first = min([func.lineno] + [d.lineno for d in func.decorator_list])
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            row = _harmful(_dotted(default, self.env))
            if row is not None:
                self.hits.append(("PK103", first, row.key, where, "default"))
                return

    def _class(self, cls: ast.ClassDef) -> None:
        for base in cls.bases:
            row = self.classes.get(base.id) if isinstance(base, ast.Name) else None
            row = row or _class_row(_dotted(base, self.env))
            if row is not None:
                self.classes[cls.name] = row
                if row.harmful and row.kind == "class":
                    self.hits.append(("PK104", cls.lineno, row.key, cls.name, "subclass"))
                break
        for stmt in _class_statements(cls.body):
            self._class_statement(cls.name, stmt)

    def _class_statement(self, cls: str, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._defaults(stmt, f"{cls}.{stmt.name}")
            return
        if not isinstance(stmt, (ast.Assign, ast.AnnAssign)) or stmt.value is None:
            return
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        value = _unwrapped(stmt.value)
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            where = f"{cls}.{target.id}"
            row = _harmful(_dotted(value, self.env))
            made = self._made(value)
            if row is not None:
                self.hits.append(
                    ("PK103", value.end_lineno or stmt.lineno, row.key, where, "class")
                )
            elif made is not None:
                self.hits.append(("PK105", stmt.lineno, made.key, where, "class"))
            elif isinstance(value, _CONTAINERS):
                self._container(where, value, stmt.lineno)

    def finish(self) -> None:
        """PK102 for the globals that still hold a harmful original once the module has run."""
        for name, (line, key) in self.bound.items():
            self.hits.append(("PK102", line, key, name, "global"))


def _dotted(node: ast.expr | None, env: dict[str, str]) -> str:
    """``time.sleep`` for ``t.sleep`` after ``import time as t``; "" when not a known name."""
    if isinstance(node, ast.Name):
        return env.get(node.id, "")
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, env)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _harmful(dotted: str) -> originals.Original | None:
    module, _, name = dotted.rpartition(".")
    row = originals.get(module, name) if module else None
    return row if row is not None and row.harmful else None


def _class_row(dotted: str) -> originals.Original | None:
    module, _, name = dotted.rpartition(".")
    row = originals.get(module, name) if module else None
    return (
        row if row is not None and (row.instance or row.harmful) and row.kind == "class" else None
    )


def _unwrapped(value: ast.expr) -> ast.expr:
    """``staticmethod(time.sleep)`` holds ``time.sleep``."""
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in _WRAPPERS
        and len(value.args) == 1
    ):
        return value.args[0]
    return value


def _items(value: ast.expr) -> Iterator[tuple[object, ast.expr]]:
    if isinstance(value, ast.Dict):
        for key, item in zip(value.keys, value.values, strict=False):
            yield (key.value if isinstance(key, ast.Constant) else None), item
    elif isinstance(value, (ast.List, ast.Tuple)):
        yield from enumerate(value.elts)


def _class_statements(stmts: list[ast.stmt]) -> Iterator[ast.stmt]:
    for stmt in stmts:
        if isinstance(stmt, ast.If):
            yield from _class_statements(stmt.body + stmt.orelse)
        elif isinstance(stmt, ast.Try):
            yield from _class_statements(stmt.body + stmt.orelse + stmt.finalbody)
        else:
            yield stmt


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _closure_factory(
    func: ast.FunctionDef | ast.AsyncFunctionDef, env: dict[str, str]
) -> dict[str, tuple[int, str]]:
    """``{func: (inner def line, row key)}`` when ``func`` returns an inner function whose free
    variable is a local of ``func`` bound to a harmful original (``pause = time.sleep``)."""
    local: dict[str, str] = {}
    inner: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for stmt in func.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                local[target.id] = _dotted(stmt.value, env)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inner[stmt.name] = stmt
        elif isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Name):
            returned = inner.get(stmt.value.id)
            if returned is None:
                continue
            for node in ast.walk(returned):
                if isinstance(node, ast.Name) and node.id in local:
                    row = _harmful(local[node.id])
                    if row is not None:
                        return {func.name: (returned.lineno, row.key)}
    return {}
