"""Writers: the last step. Each turns a Report into text and knows nothing about detection."""

from __future__ import annotations

from patchkit.errors import PatchkitError
from patchkit.findings import Report

FORMATS = ("text", "json", "sarif")


def render(report: Report, fmt: str, color: bool = False) -> str:
    """``report`` as ``text``, ``json`` (SPEC schema 1) or ``sarif`` (SARIF 2.1.0)."""
    if fmt == "text":
        from patchkit.formats import text

        return text.render(report, color=color)
    if fmt == "json":
        from patchkit.formats import json

        return json.render(report)
    if fmt == "sarif":
        from patchkit.formats import sarif

        return sarif.render(report)
    raise PatchkitError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
