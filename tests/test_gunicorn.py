"""gunicorn's gevent worker with patchkit's profile: requests still overlap; the ledger knows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import clean_env, write

pytest.importorskip("gunicorn")

APP = """
import json, time
from gevent import monkey
import patchkit

def app(environ, start_response):
    time.sleep(0.2)
    request = patchkit.state().as_dict()["requests"][-1]
    body = json.dumps({
        "thread": monkey.is_module_patched("threading"),
        "time": monkey.is_module_patched("time"),
        "function": request["function"],
        "profile": request["profile"],
        "requested_by": request["requested_by"],
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
"""
REQUESTS = 6
SLEEP = 0.2


def serve(cwd: Path, worker: str = "patchkit.gunicorn.GeventWorker") -> tuple[Any, int]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-k",
            worker,
            "-w",
            "1",
            "-b",
            "127.0.0.1:0",
            "--chdir",
            str(cwd),
            "app:app",
        ],
        cwd=cwd,
        env=clean_env(),
        stderr=subprocess.PIPE,
        text=True,
    )
    port = None
    deadline = time.monotonic() + 30
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
        port = int(found.group(1)) if found else port
        if "Booting worker" in line:
            break
    if port is None:
        proc.kill()
        pytest.fail(f"gunicorn did not start: {proc.communicate(timeout=10)}")
    return proc, port


def fetch(port: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def overlapped_requests(cwd: Path) -> tuple[float, list[dict[str, Any]]]:
    proc, port = serve(cwd)
    try:
        fetch(port)  # the worker is up and patched
        started = time.monotonic()
        with ThreadPoolExecutor(REQUESTS) as pool:
            answers = list(pool.map(lambda _: fetch(port), range(REQUESTS)))
        return time.monotonic() - started, answers
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_default_profile_worker_serves_concurrently_and_records_the_patch(tmp_path: Path) -> None:
    write(tmp_path / "app.py", APP)
    elapsed, answers = overlapped_requests(tmp_path)
    assert elapsed < REQUESTS * SLEEP * 0.6, f"requests did not overlap: {elapsed:.2f} s"
    answer = answers[0]
    assert answer["thread"] is True and answer["time"] is True
    assert answer["function"] == "patchkit.apply" and answer["profile"] == "full"
    assert answer["requested_by"] == "gunicorn worker patchkit.gunicorn.GeventWorker"


def test_project_profile_without_thread_is_what_the_worker_applies(tmp_path: Path) -> None:
    write(tmp_path / "app.py", APP)
    write(
        tmp_path / "pyproject.toml",
        """
        [tool.patchkit]
        profile = "web"
        [tool.patchkit.profiles.web]
        extends = "full"
        skip = ["thread"]
        """,
    )
    elapsed, answers = overlapped_requests(tmp_path)
    assert elapsed < REQUESTS * SLEEP * 0.6, f"requests did not overlap: {elapsed:.2f} s"
    answer = answers[0]
    assert answer["thread"] is False and answer["time"] is True
    assert answer["profile"] == "web"


def test_importing_the_module_does_not_import_gunicorn() -> None:
    code = "import sys, patchkit.gunicorn\nprint('gunicorn' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=clean_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.strip() == "False"
