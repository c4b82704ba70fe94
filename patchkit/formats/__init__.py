"""Writers: the last step. Each turns a Report into text and knows nothing about detection.

``FORMATS`` is the one list of output formats: ``--format``'s choices are read from it, so a new
format is one module and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable

from patchkit.errors import PatchkitError
from patchkit.findings import Report
from patchkit.formats import json, sarif, text

Renderer = Callable[[Report, bool], str]  # (report, color) -> the whole document

FORMATS: dict[str, Renderer] = {
    "text": lambda report, color: text.render(report, color=color),
    "json": lambda report, color: json.render(report),
    "sarif": lambda report, color: sarif.render(report),
}


def render(report: Report, fmt: str, color: bool = False) -> str:
    """``report`` as ``text``, ``json`` (SPEC schema 1) or ``sarif`` (SARIF 2.1.0)."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise PatchkitError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})") from None
    return renderer(report, color)
