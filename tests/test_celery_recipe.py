"""docs/recipes.md's Celery recipe, run for real: a ``-P gevent`` worker on the local Redis.

``python -m patchkit run --profile P -m patchkit.celery -A tasks worker -P gevent``: the profile
decides what is patched (Celery's own ``patch_all()`` is left out), so 10 tasks that each
``time.sleep(0.5)`` overlap under ``full`` and do not under ``none``.
"""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import clean_env, write

pytest.importorskip("celery")
redis = pytest.importorskip("redis")

BROKER = "redis://127.0.0.1:6379/0"
TASKS = """
    import os
    import time

    from celery import Celery

    app = Celery("tasks", broker=os.environ["TEST_BROKER"], backend=os.environ["TEST_BROKER"])
    app.conf.task_default_queue = os.environ["TEST_QUEUE"]
    app.conf.result_expires = 300


    @app.task
    def wait(seconds):
        time.sleep(seconds)  # gevent's only if the profile patched time
        from gevent import monkey

        return monkey.is_module_patched("time")
"""
CLIENT = """
    import json, time
    from tasks import wait

    start = time.monotonic()
    results = [wait.delay(0.5) for _ in range(10)]
    deadline = start + 8
    done = []
    for result in results:
        try:
            done.append(result.get(timeout=max(0.01, deadline - time.monotonic())))
        except Exception:
            break
    print(json.dumps({"elapsed": time.monotonic() - start, "done": len(done), "patched": done}))
"""


@pytest.fixture
def redis_up() -> None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError as exc:
        pytest.skip(f"Redis does not answer at 127.0.0.1:6379 ({exc})")


def _read_lines(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)
    lines.put("")


def run_batch(tmp_path: Path, profile: str) -> dict[str, Any]:
    """Start the worker under ``profile``, send 10 tasks, and return how long they took."""
    write(tmp_path / "tasks.py", TASKS)
    write(tmp_path / "client.py", CLIENT)
    name = f"patchkit-test-{uuid.uuid4().hex}"
    env = clean_env(TEST_BROKER=BROKER, TEST_QUEUE=name)
    worker = subprocess.Popen(
        [sys.executable, "-m", "patchkit", "run", "--profile", profile, "-m", "patchkit.celery",
         "-A", "tasks", "worker", "-P", "gevent", "-c", "20", "--loglevel=INFO",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_read_lines, args=(worker.stderr, lines), daemon=True).start()
        seen: list[str] = []
        deadline = time.monotonic() + 60
        while not any(" ready." in line for line in seen):
            try:
                seen.append(lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                pytest.fail("the celery worker did not get ready:\n" + "".join(seen))
            if seen[-1] == "":
                pytest.fail("the celery worker exited:\n" + "".join(seen))
        client = subprocess.run(
            [sys.executable, "client.py"], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert client.returncode == 0, client.stdout + client.stderr
        return json.loads(client.stdout.splitlines()[-1])
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()  # a worker whose hub is blocked may not handle SIGTERM
            worker.wait(timeout=10)
        redis.Redis.from_url(BROKER, socket_timeout=5).delete(name)


def test_full_profile_overlaps_ten_half_second_tasks(tmp_path: Path, redis_up: None) -> None:
    batch = run_batch(tmp_path, "full")
    assert batch["done"] == 10 and all(batch["patched"]), batch
    assert batch["elapsed"] < 1.0, batch  # serially: 5 s


def test_none_profile_does_not_overlap_them(tmp_path: Path, redis_up: None) -> None:
    batch = run_batch(tmp_path, "none")
    # Celery's own patch_all() is left out: nothing patched, the tasks cannot overlap (the
    # unpatched broker connection even keeps the pool from running them at all).
    assert batch["done"] < 10 or batch["elapsed"] >= 2.0, batch
    assert not any(batch["patched"]), batch
