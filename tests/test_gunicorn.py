"""gunicorn's gevent worker with patchkit's profile: requests still overlap; the ledger knows."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import clean_env, http_get, write

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


def serve(
    cwd: Path,
    worker: str | None = "patchkit.gunicorn.GeventWorker",
    *args: str,
    env: dict[str, str] | None = None,
) -> tuple[Any, int, list[str]]:
    """Start gunicorn; return it, its port and its stderr lines up to the worker's patchkit line."""
    command = [sys.executable, "-m", "gunicorn", *(["-k", worker] if worker else [])]
    command += ["-w", "1", "-b", "127.0.0.1:0", "--chdir", str(cwd), *args, "app:app"]
    proc = subprocess.Popen(
        command, cwd=cwd, env=env or clean_env(), stderr=subprocess.PIPE, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_read_lines, args=(proc.stderr, lines), daemon=True).start()
    seen: list[str] = []
    port = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line == "":
            break
        seen.append(line)
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
        port = int(found.group(1)) if found else port
        if "patchkit: applied profile" in line:
            break
    if port is None or not any("patchkit: applied profile" in line for line in seen):
        proc.kill()
        proc.wait(timeout=10)
        pytest.fail("gunicorn did not boot a patchkit worker:\n" + "".join(seen))
    return proc, port, seen


def _read_lines(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)
    lines.put("")


def overlapped_requests(
    cwd: Path,
    *args: str,
    worker: str | None = "patchkit.gunicorn.GeventWorker",
    env: dict[str, str] | None = None,
) -> tuple[float, list[dict[str, Any]], list[str]]:
    proc, port, boot = serve(cwd, worker, *args, env=env)
    try:
        json.loads(http_get(port))  # the worker is up and patched
        started = time.monotonic()
        with ThreadPoolExecutor(REQUESTS) as pool:
            answers = list(pool.map(lambda _: json.loads(http_get(port)), range(REQUESTS)))
        return time.monotonic() - started, answers, boot
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_default_profile_worker_serves_concurrently_and_records_the_patch(tmp_path: Path) -> None:
    write(tmp_path / "app.py", APP)
    elapsed, answers, boot = overlapped_requests(tmp_path)
    assert elapsed < REQUESTS * SLEEP * 0.6, f"requests did not overlap: {elapsed:.2f} s"
    answer = answers[0]
    assert answer["thread"] is True and answer["time"] is True
    assert answer["function"] == "patchkit.apply" and answer["profile"] == "full"
    assert answer["requested_by"] == "gunicorn worker patchkit.gunicorn.GeventWorker"
    assert "patchkit: applied profile full (from the default: no profile configured)" in boot[-1]


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
    elapsed, answers, boot = overlapped_requests(tmp_path)
    assert elapsed < REQUESTS * SLEEP * 0.6, f"requests did not overlap: {elapsed:.2f} s"
    answer = answers[0]
    assert answer["thread"] is False and answer["time"] is True
    assert answer["profile"] == "web"
    assert "applied profile web (from pyproject.toml: [tool.patchkit] profile)" in boot[-1]


def test_boot_line_names_the_environment_variable(tmp_path: Path) -> None:
    write(tmp_path / "app.py", APP)
    env = clean_env(PATCHKIT_PROFILE="nothread")
    elapsed, answers, boot = overlapped_requests(tmp_path, env=env)
    assert answers[0]["profile"] == "nothread" and answers[0]["thread"] is False
    assert "[INFO] patchkit: applied profile nothread (from PATCHKIT_PROFILE)" in boot[-1], boot


def test_config_file_recipe_with_preload(tmp_path: Path) -> None:
    """docs/recipes.md: worker_class in gunicorn.conf.py; patchkit.auto first for --preload."""
    write(tmp_path / "app.py", APP)
    write(
        tmp_path / "gunicorn.conf.py",
        """
        import patchkit.auto  # noqa: F401  (the arbiter patches before --preload imports the app)

        worker_class = "patchkit.gunicorn.GeventWorker"
        preload_app = True
        """,
    )
    elapsed, answers, boot = overlapped_requests(tmp_path, worker=None)
    assert elapsed < REQUESTS * SLEEP * 0.6, f"requests did not overlap: {elapsed:.2f} s"
    answer = answers[0]
    assert answer["time"] is True and answer["profile"] == "full"
    assert answer["function"] == "patchkit.apply"
    assert "patchkit: applied profile full" in boot[-1], boot


def test_importing_the_module_does_not_import_gunicorn() -> None:
    code = "import sys, patchkit.gunicorn\nprint('gunicorn' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=clean_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.strip() == "False"
