"""Which findings to report: ``--select``/``--ignore``, the config's ``ignore``, and comments.

A ``# patchkit: ignore[PK102]`` (or ``ignore[PK102,PK103]``) comment on the reported line drops
the finding for that line only; ``# patchkit: ignore`` without codes drops every code there.

Codes mean the same everywhere (``rules.parse_codes``): a prefix such as ``PK1`` stands for every
PK1xx code, in ``--select``/``--ignore``, in the config's ``ignore`` and in these comments. A word
in a comment that is no code's prefix suppresses nothing (the comment is the app's source: it
cannot fail the audit); the rest of the comment's codes still apply.
"""

from __future__ import annotations

import linecache
import re
from collections.abc import Iterable

from patchkit import rules
from patchkit.findings import Finding

_COMMENT = re.compile(r"#\s*patchkit:\s*ignore(?:\[(?P<codes>[A-Za-z0-9,\s]*)\])?", re.I)


def filter_findings(
    findings: Iterable[Finding],
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    config_ignore: Iterable[str] = (),
) -> list[Finding]:
    """The findings left after ``select`` (if any), ``ignore``, ``config_ignore`` and comments.

    Codes match by prefix, as ruff's do: ``PK1`` selects PK101 to PK108.
    """
    chosen = _codes(select)
    dropped = _codes(ignore) + _codes(config_ignore)
    out = []
    for finding in findings:
        if chosen and not finding.code.startswith(chosen):
            continue
        if dropped and finding.code.startswith(dropped):
            continue
        if _suppressed_inline(finding):
            continue
        out.append(finding)
    return out


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
    match = _COMMENT.search(linecache.getline(finding.file, finding.line))
    if match is None:
        return False
    codes = match.group("codes")
    if codes is None:
        return True
    return finding.code.startswith(_comment_codes(codes) or ("\0",))
