"""Read the entry file, run nothing: is the patch call first, and at module level? (PK501, PK502)

The patch call is any of ``import patchkit.auto``, ``patchkit.apply(...)``,
``monkey.patch_all()``/``gevent.monkey.patch_all()`` (or another ``patch_*`` of gevent.monkey).
Imports that may precede it: ``__future__``, gevent and patchkit themselves, and standard-library
imports that bind nothing gevent replaces (``import time``, ``from time import perf_counter``):
those look the patched names up at call time, so reporting them would be noise. A ``from``-import
of a harmful original (``from time import sleep``, per the harm table) and ``import ssl`` (gevent
itself warns when ssl was imported first) are reported; so is every non-stdlib or relative
import, since patchkit cannot know statically what it binds. A module docstring is not an import.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator

from patchkit.detect import originals
from patchkit.errors import TargetError
from patchkit.findings import Finding

_FREE = ("__future__", "gevent", "patchkit")


def check_entry_file(path: str) -> list[Finding]:
    """PK501 for each module-level import before the patch call; PK502 for a nested patch call."""
    try:
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(), path)
    except OSError as exc:
        raise TargetError(f"{path}: cannot read ({exc.strerror})") from None
    except SyntaxError as exc:
        raise TargetError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    top = next((s for s in tree.body if is_patch(s)), None)
    if top is not None:
        return [_before(path, s, top.lineno) for s in _imports_before(tree, top)]
    nested = next(_nested_patches(tree), None)
    if nested is None:
        return []
    imports = [s for s in tree.body if _imports_something(s) and s.lineno < nested.lineno]
    if not imports:
        return []
    return [
        Finding(
            "PK502",
            f"the patch call at line {nested.lineno} is inside a function, class or condition, "
            f"after {len(imports)} module-level import(s) (first: line {imports[0].lineno})",
            file=path,
            line=nested.lineno,
            object=_describe(nested),
        )
    ]


def _imports_before(tree: ast.Module, patch: ast.stmt) -> Iterator[ast.stmt]:
    for stmt in tree.body:
        if stmt is patch:
            return
        if _imports_something(stmt):
            yield stmt


def _before(path: str, stmt: ast.stmt, patch_line: int) -> Finding:
    names = ", ".join(_imported(stmt))
    return Finding(
        "PK501",
        f"`{ast.unparse(stmt)}` runs before the patch call at line {patch_line}",
        file=path,
        line=stmt.lineno,
        object=names,
    )


def _imported(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, ast.ImportFrom):
        return [stmt.module or "."]
    if isinstance(stmt, ast.Import):
        return [alias.name for alias in stmt.names]
    return []


def _imports_something(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.ImportFrom):
        if stmt.level:
            return True  # a relative import loads application code
        return _binds_something(stmt.module or "", [alias.name for alias in stmt.names])
    if isinstance(stmt, ast.Import):
        return any(_loads_something(alias.name) for alias in stmt.names)
    return False


def _loads_something(module: str) -> bool:
    top = module.partition(".")[0]
    if top in _FREE:
        return False
    return top not in sys.stdlib_module_names or top == "ssl"


def _binds_something(module: str, names: list[str]) -> bool:
    """Does ``from module import names`` bind an original that stays harmful after patching?"""
    top = module.partition(".")[0]
    if top in _FREE or top not in sys.stdlib_module_names or top == "ssl":
        return _loads_something(module)
    rows = [r for r in originals.ORIGINALS if r.module == module and r.harmful]
    if "*" in names:
        return bool(rows)
    return any(originals.get(module, name) in rows for name in names)


def is_patch(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Import):
        return any(alias.name == "patchkit.auto" for alias in stmt.names)
    if isinstance(stmt, ast.ImportFrom):
        return stmt.module == "patchkit" and any(a.name == "auto" for a in stmt.names)
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        return _is_patch_call(stmt.value)
    return False


def _is_patch_call(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    owner = _dotted(func.value) if isinstance(func, ast.Attribute) else ""
    if name == "apply":
        return owner == "patchkit"
    if name.startswith("patch_"):
        return owner in ("monkey", "gevent.monkey") or (not owner and name == "patch_all")
    return False


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _nested_patches(tree: ast.Module) -> Iterator[ast.stmt]:
    for stmt in tree.body:
        if is_patch(stmt):
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.stmt) and node is not stmt and is_patch(node):
                yield node


def _describe(stmt: ast.stmt) -> str:
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return "import patchkit.auto"
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    return f"{_dotted(call.func)}()" if isinstance(call, ast.Call) else "patch"
