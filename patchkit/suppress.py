"""Which findings to report: ``--select``/``--ignore``, the config's keys, and comments.

A ``# patchkit: ignore[PK102]`` (or ``ignore[PK102,PK103]``) comment on the reported line drops
the finding for that line only; ``# patchkit: ignore`` without codes drops every code there.
flake8's and ruff's ``# noqa: PK102`` means the same, and a bare ``# noqa`` drops every code, as
flake8 does; a ``# noqa: E501`` that names only other tools' codes drops none of patchkit's.

Codes mean the same everywhere (``rules.parse_codes``): a prefix such as ``PK1`` stands for every
PK1xx code, in ``--select``/``--ignore``, in the config's ``ignore`` and ``per-file-ignores`` and
in these comments. A word in a comment that is no code's prefix suppresses nothing (the comment is
the app's source: it cannot fail the audit); the rest of the comment's codes still apply.

``exclude`` and ``per-file-ignores`` patterns follow ruff's: relative to the config file's
directory; a pattern without ``/`` matches any file or directory name on the way (``migrations``,
``test_*.py``), one with ``/`` the path from the root (``migrations/*``, ``src/legacy``); a
matched directory covers everything below it. Files outside the root match no pattern.
"""

from __future__ import annotations

import fnmatch
import linecache
import os
import re
from collections.abc import Iterable, Mapping

from patchkit import rules
from patchkit.findings import Finding

_COMMENT = re.compile(r"#\s*patchkit:\s*ignore(?:\[(?P<codes>[A-Za-z0-9,\s]*)\])?", re.I)
# flake8's noqa comment, bare or with codes after a colon (letters then digits, split by commas
# or spaces); as in flake8, one whose codes do not parse (a colon alone, " : X") drops every code.
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?(?!\w)", re.I)


def filter_findings(
    findings: Iterable[Finding],
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    config_ignore: Iterable[str] = (),
    *,
    exclude: Iterable[str] = (),
    per_file_ignores: Mapping[str, Iterable[str]] | None = None,
    root: str | None = None,
) -> list[Finding]:
    """The findings left after ``select`` (if any), ``ignore``, ``config_ignore``, the config's
    ``exclude`` and ``per-file-ignores`` (patterns relative to ``root``), and comments.

    Codes match by prefix, as ruff's do: ``PK1`` selects PK101 to PK108.
    """
    chosen = _codes(select)
    dropped = _codes(ignore) + _codes(config_ignore)
    excluded = tuple(exclude)
    per_file = {pattern: _codes(codes) for pattern, codes in (per_file_ignores or {}).items()}
    out = []
    for finding in findings:
        if chosen and not finding.code.startswith(chosen):
            continue
        if dropped and finding.code.startswith(dropped):
            continue
        relative = project_path(finding.file, root) if excluded or per_file else None
        if relative is not None and any(path_matches(relative, p) for p in excluded):
            continue
        if relative is not None and _ignored_for_file(finding.code, relative, per_file):
            continue
        if _suppressed_inline(finding):
            continue
        out.append(finding)
    return out


def project_path(path: str | None, root: str | None) -> str | None:
    """``path`` relative to ``root`` (default: the working directory), with ``/``; None outside."""
    if not path or path.startswith("<"):
        return None
    try:
        base = os.path.abspath(root if root is not None else os.getcwd())
        relative = os.path.relpath(os.path.abspath(path), base)
    except (OSError, ValueError):  # a deleted working directory, another drive
        return None
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return None
    return relative.replace(os.sep, "/")


def path_matches(relative: str, pattern: str) -> bool:
    """ruff's ``exclude`` matching for a root-relative path (see the module docstring)."""
    pattern = pattern.strip().replace(os.sep, "/").removeprefix("./").rstrip("/")
    if not pattern:
        return False
    parts = relative.split("/")
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(part, pattern) for part in parts)
    prefixes = ("/".join(parts[: i + 1]) for i in range(len(parts)))
    return any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes)


def _ignored_for_file(code: str, relative: str, per_file: Mapping[str, tuple[str, ...]]) -> bool:
    return any(
        codes and code.startswith(codes) and path_matches(relative, pattern)
        for pattern, codes in per_file.items()
    )


def _codes(values: Iterable[str]) -> tuple[str, ...]:
    return rules.parse_codes(values)


def _comment_codes(text: str) -> tuple[str, ...]:
    """The valid codes or prefixes in a comment's brackets; unknown words are left out."""
    out: list[str] = []
    for word in text.replace(",", " ").split():
        try:
            out += rules.parse_codes(word)
        except ValueError:
            continue
    return tuple(out)


def _suppressed_inline(finding: Finding) -> bool:
    if not finding.file or not finding.line:
        return False
    linecache.checkcache(finding.file)
    line = linecache.getline(finding.file, finding.line)
    return any(_comment_drops(pattern, line, finding.code) for pattern in (_COMMENT, _NOQA))


def _comment_drops(pattern: re.Pattern[str], line: str, code: str) -> bool:
    match = pattern.search(line)
    if match is None:
        return False
    codes = match.group("codes")
    if codes is None:
        return True
    return code.startswith(_comment_codes(codes) or ("\0",))
