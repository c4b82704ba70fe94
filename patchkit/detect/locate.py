"""Find the source line that bound a name, cheaply: a regex over the cached source lines.

Parsing a module with ``ast`` costs milliseconds per large file, more than the whole identity
pass, so a finding's line comes from a line scan. It prefers a definition (assignment, ``def``,
``class``, ``import``) of the name; a name made dynamically gets no line.
"""

from __future__ import annotations

import functools
import linecache
import re

_SEARCH_AHEAD = 60  # lines after an assignment to look for the original's name (dict literals)


@functools.lru_cache(maxsize=512)
def _patterns(name: str) -> tuple[re.Pattern[str], ...]:
    n = re.escape(name)
    return (
        re.compile(rf"^\s*(?:async\s+)?(?:def|class)\s+{n}\b"),
        re.compile(rf"^\s*(?:[\w.]+\s*,\s*)*{n}\s*(?::[^=]*)?=(?!=)"),
        re.compile(rf"^\s*(?:from\s+[\w.]+\s+)?import\s.*(?:\b{n}\b)"),
    )


_BARE = r"^\s*(?:[\w.]+\s+as\s+)?{}\s*,?\s*\)?\s*(?:#.*)?$"  # a name on its own line
_OPEN_IMPORT = re.compile(r"^\s*from\s+[\w.]+\s+import\s*\(")


def _in_import_block(lines: list[str], index: int, name: str) -> bool:
    """``name`` alone on a line inside ``from x import (\n ... \n)``."""
    if not re.match(_BARE.format(re.escape(name)), lines[index]):
        return False
    for i in range(index - 1, max(index - 40, -1), -1):
        if ")" in lines[i]:
            return False
        if _OPEN_IMPORT.match(lines[i]):
            return True
    return False


def _find(lines: list[str], name: str, start: int = 0, indent: int = -1) -> int | None:
    """Index of the first line from ``start`` that binds ``name`` (deeper than ``indent``)."""
    patterns = _patterns(name)
    for i in range(start, len(lines)):
        line = lines[i]
        if name not in line or (indent >= 0 and _indent(line) <= indent and line.strip()):
            if indent >= 0 and line.strip() and _indent(line) <= indent:
                return None  # left the class body
            continue
        if any(p.match(line) for p in patterns) or _in_import_block(lines, i, name):
            return i
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


@functools.lru_cache(maxsize=1024)
def line_of(path: str | None, names: tuple[str, ...], hint: str | None = None) -> int | None:
    """The line binding ``names`` (``("Cls", "attr")`` for a class attribute) in ``path``.

    With ``hint`` (the original's own name, say ``DefaultSelector``), the line at or after the
    binding that mentions it, so a finding in a dict literal points at the right entry.
    """
    if not path or not path.endswith(".py"):
        return None
    lines = linecache.getlines(path)
    index: int | None = 0
    indent = -1
    for depth, name in enumerate(names):
        index = _find(lines, name, index or 0, indent)
        if index is None:
            return None
        if depth < len(names) - 1:
            indent = _indent(lines[index])
            index += 1
    assert index is not None
    if hint and hint not in names and "import" not in lines[index]:
        word = re.compile(rf"\b{re.escape(hint)}\b")
        for i in range(index, min(index + _SEARCH_AHEAD, len(lines))):
            if word.search(lines[i]):
                return i + 1
    return index + 1
