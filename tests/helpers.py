"""Run code in a fresh interpreter: patching is process-wide and cannot be undone in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


# Source for a child interpreter (gevent imported, patched or not): run ``func`` in a greenlet next
# to a heartbeat greenlet ticking every 10 ms; the longest gap between ticks is how long the hub
# was held. Returns {"error": exception name or None, "value": result, "gap": seconds}.
HUB_GAP = """
def hub_gap(func, *args, timeout=3):
    import time as _time
    import gevent as _gevent
    ticks = []
    def beat():
        while True:
            ticks.append(_time.perf_counter())
            _gevent.sleep(0.01)
    b = _gevent.spawn(beat)
    _gevent.sleep(0.05)
    res = {"error": None, "value": None}
    try:
        res["value"] = _gevent.spawn(func, *args).get(timeout=timeout)
    except BaseException as exc:
        res["error"] = type(exc).__name__
    _gevent.sleep(0.05)
    b.kill()
    res["gap"] = max((y - x for x, y in zip(ticks, ticks[1:])), default=0)
    return res
"""


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without patchkit/gevent settings that would leak into a child."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PATCHKIT_", "GEVENT_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run_python(
    code: str,
    *,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    args: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (dedented) with ``python -c`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_patchkit(
    *args: str,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 90,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m patchkit ARGS`` as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "patchkit", *args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )


def json_from_stdout(proc: subprocess.CompletedProcess[str]) -> Any:
    """The JSON document a child printed as its last stdout line."""
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines, f"no stdout; stderr was:\n{proc.stderr}"
    return json.loads(lines[-1])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def http_get(port: int, wait: float = 20) -> str:
    """The body of GET http://127.0.0.1:PORT/, retried while the server is still starting."""
    import time
    import urllib.request

    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
