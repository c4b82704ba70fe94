"""Run the real ``patchkit`` command line in a subprocess, as a user or a CI job would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema

from tests.helpers import REPO, clean_env

SARIF_SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"


def patchkit(
    *args: str | bytes,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 90,
) -> subprocess.CompletedProcess[bytes]:
    """``python -m patchkit ARGS``; bytes in and out, so no name or output is decoded for us."""
    return subprocess.run(
        [sys.executable, "-m", "patchkit", *args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def shell(script: str, cwd: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    """A bash line, with ``$PK`` standing for ``python -m patchkit`` (for ``>&-`` and pipes)."""
    full = clean_env(PK=f"{sys.executable} -m patchkit", **env)
    return subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=90,
    )


def report(proc: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    """The whole of stdout as one JSON document."""
    return json.loads(proc.stdout)


def assert_valid_sarif(document: dict[str, Any]) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft4Validator(schema).validate(document)


def assert_one_line_error(proc: subprocess.CompletedProcess[Any], status: int = 2) -> str:
    """Exit ``status``, nothing on stdout, one line on stderr and no traceback; the line."""
    err = proc.stderr.decode(errors="replace") if isinstance(proc.stderr, bytes) else proc.stderr
    assert proc.returncode == status, (proc.returncode, err)
    assert not proc.stdout, proc.stdout
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def pids_in(path: Path) -> set[int]:
    """The pids a target wrote, one a line (to tell the audit's own process from the child)."""
    if not path.exists():
        return set()
    return {int(line) for line in path.read_text().split()}


def audit(*args: str | bytes, cwd: str | Path, timeout: float = 90) -> subprocess.CompletedProcess:
    """``python -m patchkit audit ARGS``."""
    return patchkit("audit", *args, cwd=cwd, timeout=timeout)
