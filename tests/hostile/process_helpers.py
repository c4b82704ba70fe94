"""Run the audit the way a hostile target would stress it, and check what it leaves behind.

Each test gets a private ``TMPDIR`` (so a leftover ``patchkit-audit-*`` directory is the audit's)
and a unique marker word that every process the target starts carries in its argv (so a survivor
can be found with ``ps`` on Linux and macOS alike).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from tests.helpers import REPO, clean_env

# A process that lives 300 s and carries the marker (argv[1]) where ``ps`` shows it.
SLEEPER = "import time; time.sleep(300)"


def marker() -> str:
    return f"pkmark{uuid.uuid4().hex[:12]}"


def private_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir(exist_ok=True)
    return clean_env(TMPDIR=str(tmpdir), **extra)


def leftover_tempdirs(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "tmpdir").glob("patchkit-audit-*"))


def survivors(mark: str, wait: float = 5.0) -> list[str]:
    """``ps`` lines of live processes carrying ``mark``, after up to ``wait`` s for them to go."""
    end = time.monotonic() + wait
    while True:
        out = subprocess.run(
            ["ps", "-ww", "-A", "-o", "pid=,stat=,args="],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
        found = [
            line
            for line in out.splitlines()
            if mark in line and line.split()[1][:1] not in ("Z", "X")
        ]
        if not found or time.monotonic() > end:
            return found
        time.sleep(0.1)


def audit_json(
    tmp_path: Path, *args: str, timeout: float = 120
) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    """``python -m patchkit audit --format json ARGS``; the report parsed from stdout."""
    proc = subprocess.run(
        [sys.executable, "-m", "patchkit", "audit", "--format", "json", *args],
        cwd=REPO,
        env=private_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.stdout.strip(), proc.stderr
    return json.loads(proc.stdout), proc


RUN_CHILD = """
import json, sys
from patchkit.audit.launcher import run_child
from patchkit.errors import PatchkitError
from patchkit.target import Target
kwargs = json.loads(sys.argv[1])
target = Target("script", kwargs.pop("script"), tuple(kwargs.pop("args", ())))
try:
    result = run_child(target, **kwargs)
except PatchkitError as exc:
    print(json.dumps({"patchkit_error": str(exc)}))
else:
    print(result.to_json())
"""


def run_child_json(
    tmp_path: Path, script: Path, *, timeout: float = 60, cwd: Path | None = None, **kwargs: Any
) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    """``run_child`` in a fresh interpreter (the target's stdout goes to its stderr)."""
    kwargs = {"profile": None, "timeout": timeout, "threshold": 0.1, **kwargs}
    kwargs["script"] = str(script)
    proc = subprocess.run(
        [sys.executable, "-c", RUN_CHILD, json.dumps(kwargs)],
        cwd=cwd or REPO,
        env=private_env(tmp_path, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=timeout + 60,
    )
    assert proc.stdout.strip(), proc.stderr
    return json.loads(proc.stdout), proc


def wait_for(path: Path, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.05)
