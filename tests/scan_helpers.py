"""Run a scan scenario in a fresh interpreter: import, patch, scan, then measure the harm.

``before`` runs before the patch (imports that capture originals), ``after`` after it; ``harm``
may call ``hub_gap(func, *args)``, which runs ``func`` in a greenlet next to a heartbeat greenlet
and returns the longest heartbeat gap and the exception name, if any, and store it in ``out``.
"""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import HUB_GAP, json_from_stdout, run_python

APPS = Path(__file__).resolve().parent / "apps"
PATCH_ALL = "from gevent import monkey\nmonkey.patch_all()"
STALL = 0.25  # the harms block for 0.3 s or more
QUIET = 0.15  # a cooperative run keeps gaps near 0.01 s; margin for a loaded machine

_HARNESS = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {apps!r})
import patchkit, patchkit.imports
patchkit.imports.install()
{before}
{patch}
import gevent
{after}
from patchkit.detect.scan import scan_findings
out = {{"findings": [f.as_dict() for f in scan_findings({scan_args})]}}

{hub_gap}
{harm}
print(json.dumps(out, default=repr))
"""


def run_scan(
    before: str = "",
    after: str = "",
    harm: str = "",
    patch: str = PATCH_ALL,
    scan_args: str = "",
    timeout: float = 60,
) -> dict[str, Any]:
    code = _HARNESS.format(
        apps=str(APPS),
        before=textwrap.dedent(before),
        patch=textwrap.dedent(patch),
        after=textwrap.dedent(after),
        harm=textwrap.dedent(harm),
        scan_args=scan_args,
        hub_gap=HUB_GAP,
    )
    proc = run_python(code, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return json_from_stdout(proc)


def codes(result: dict[str, Any], module: str | None = None) -> list[str]:
    return sorted(f["code"] for f in result["findings"] if module is None or f["module"] == module)


def of(result: dict[str, Any], code: str, module: str | None = None) -> list[dict[str, Any]]:
    return [
        f
        for f in result["findings"]
        if f["code"] == code and (module is None or f["module"] == module)
    ]


def require_port(port: int, server: str) -> None:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        pytest.skip(f"{server} is not listening on 127.0.0.1:{port}")
