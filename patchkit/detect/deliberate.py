"""Originals bound on purpose with ``gevent.monkey.get_original(...)`` are not stale.

Libraries that run real OS threads next to gevent (sentry-sdk's profiler and transport) take the
real ``time.sleep`` or ``start_new_thread`` with ``get_original`` so that their threads really
sleep. Such a name blocks nothing while only real threads call it (measured: sentry-sdk's profiler,
0 of 23 calls on the hub), so the scan does not report where it is bound. If a greenlet calls it
on the hub after all, the tripwire behind it reports that call (PK301) with the caller's line.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable

from patchkit.findings import Finding

BINDING_CODES = frozenset({"PK102", "PK103"})
_MAX_SOURCE = 4 * 1024 * 1024  # a generated module this large is not where get_original is used


def without_deliberate(findings: Iterable[Finding]) -> list[Finding]:
    """Drop PK102/PK103 findings whose binding line calls ``get_original``."""
    return [f for f in findings if not is_deliberate(f)]


def is_deliberate(finding: Finding) -> bool:
    if finding.code not in BINDING_CODES or not finding.file or not finding.line:
        return False
    return finding.line in _get_original_lines(finding.file)


@functools.lru_cache(maxsize=256)
def _get_original_lines(path: str) -> frozenset[int]:
    """Every line covered by a statement whose value calls ``get_original(...)``."""
    try:
        with open(path, "rb") as handle:
            source = handle.read(_MAX_SOURCE + 1)
        if len(source) > _MAX_SOURCE:
            return frozenset()
        tree = ast.parse(source, path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _names_get_original(node.func):
            end = node.end_lineno or node.lineno
            lines.update(range(node.lineno, end + 1))
            lines.update(_statement_lines(tree, node))
    return frozenset(lines)


def _names_get_original(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id == "get_original"
    return isinstance(func, ast.Attribute) and func.attr == "get_original"


def _statement_lines(tree: ast.Module, call: ast.Call) -> range:
    """The whole assignment or ``def`` that holds the call (a default spans the def's line)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            start, end = node.lineno, node.end_lineno or node.lineno
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            start, end = node.lineno, node.body[0].lineno - 1  # the signature, not the body
        else:
            continue
        if start <= call.lineno <= end:
            return range(start, end + 1)
    return range(0)
