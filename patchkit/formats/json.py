"""SPEC's JSON report, schema 1: ``Report.as_dict()`` as one document."""

from __future__ import annotations

import json

from patchkit.findings import Report


def render(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2, default=str) + "\n"
