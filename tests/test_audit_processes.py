"""The audit follows every Python process of the target: prefork workers, multiprocessing, Celery.

Each test runs ``python -m patchkit audit`` on a real program whose stale ``sleep`` (the blocking
original) stops the hub for 0.3 s in a process other than the one the audit started, and checks
that the finding names that process.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import clean_env, http_get, run_patchkit, write

# How the audit of a server is stopped after the traffic: --duration S (the audit stops the
# target itself: outcome "stopped"); None sends SIGINT to the audit (outcome "interrupted").
DURATION: float | None = 8.0

STALE_APP = """
from time import sleep  # imported by the arbiter (--preload) before the worker patches


def app(environ, start_response):
    sleep(0.3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(__import__("os").getpid()).encode()]
"""


def start_audit(cwd: Path, target: list[str], env: dict[str, str] | None = None) -> Any:
    stop = ["--duration", str(DURATION)] if DURATION else []
    return subprocess.Popen(
        [sys.executable, "-m", "patchkit", "audit", "--format", "json", "--timeout", "60", *stop]
        + target,
        cwd=cwd,
        env=env or clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_lines(proc: Any, patterns: list[str], limit: float = 40) -> list[re.Match[str]]:
    """Read the audit's stderr (the target's output) until the patterns matched, in order."""
    found: list[re.Match[str]] = []
    seen: list[str] = []
    deadline = time.monotonic() + limit
    while len(found) < len(patterns) and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(patterns[len(found)], line)
        if match:
            found.append(match)
    if len(found) < len(patterns):
        pytest.fail(f"the target did not start: {''.join(seen)[-3000:]}")
    return found


def finish_audit(proc: Any) -> dict[str, Any]:
    if DURATION is None:
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=90)
    assert out.strip(), f"no report; stderr:\n{err[-3000:]}"
    return json.loads(out)


def stop(proc: Any) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.communicate(timeout=30)


def assert_gone(pids: list[int]) -> None:
    """Nothing the target started outlives the audit."""
    deadline = time.monotonic() + 10
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _alive(pid)]
        time.sleep(0.1)
    assert not alive, f"processes survived the audit: {alive}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie nobody reaped yet is gone for our purpose
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return False


def roles(report: dict[str, Any]) -> dict[int, str]:
    return {p["pid"]: p["role"] for p in report["processes"]}


@pytest.mark.parametrize("worker", ["gevent", "patchkit.gunicorn.GeventWorker"])
def test_gunicorn_workers_are_audited_and_name_their_findings(tmp_path: Path, worker: str) -> None:
    pytest.importorskip("gunicorn")
    write(tmp_path / "app.py", STALE_APP)
    target = ["-m", "gunicorn", "-w", "2", "-k", worker, "-b", "127.0.0.1:0"]
    target += ["--graceful-timeout", "3", "--preload", "--chdir", str(tmp_path), "app:app"]
    proc = start_audit(tmp_path, target)
    report: dict[str, Any] = {}
    try:
        listening, _, _ = wait_for_lines(
            proc, [r"Listening at: http://127\.0\.0\.1:(\d+)", r"Booting worker", r"Booting worker"]
        )
        port = int(listening.group(1))
        served = {int(http_get(port)) for _ in range(6)}
        report = finish_audit(proc)
    finally:
        stop(proc)
    role_of = roles(report)
    assert len(role_of) >= 3, report["processes"]
    assert sorted(role_of.values())[:3] == ["main", "worker", "worker"]
    stalls = [f for f in report["findings"] if f["code"] == "PK301"]
    assert stalls, report["findings"]
    assert {role_of[f["process"]] for f in stalls} == {"worker"}
    assert {f["process"] for f in stalls} <= served  # the workers that answered
    assert all(f["file"].endswith("app.py") and f["line"] == 5 for f in stalls)
    assert_gone(list(role_of))


MP_APP = """
import sys
from time import sleep  # the blocking original: bound before patching
import multiprocessing

from gevent import monkey

monkey.patch_all(thread=False, queue=False)  # multiprocessing.Pool needs real threads
import gevent


def nap(_):
    gevent.spawn(stale).join()
    return multiprocessing.current_process().pid


def stale():
    sleep(0.3)


if __name__ == "__main__":
    ctx = multiprocessing.get_context(sys.argv[1])
    if sys.argv[2] == "pool":  # the pool's workers end by SIGTERM (terminate on exit)
        with ctx.Pool(1) as pool:
            pid = pool.map(nap, [0])[0]
    else:
        child = ctx.Process(target=nap, args=(0,))
        child.start()
        child.join(30)
        pid = child.pid
    print(f"CHILD {pid}", file=sys.stderr)
"""


@pytest.mark.parametrize(
    ("method", "how", "role"),
    [
        ("fork", "pool", "worker"),
        ("fork", "process", "worker"),
        ("spawn", "process", "child"),
        ("forkserver", "process", "worker"),
    ],
)
def test_multiprocessing_child_names_its_own_stall(
    tmp_path: Path, method: str, how: str, role: str
) -> None:
    write(tmp_path / "mp_app.py", MP_APP)
    proc = run_patchkit(
        "audit", "--format", "json", "--timeout", "60", "mp_app.py", method, how, cwd=tmp_path
    )
    report = json.loads(proc.stdout)
    child = int(re.search(r"CHILD (\d+)", proc.stderr).group(1))  # type: ignore[union-attr]
    role_of = roles(report)
    assert role_of.get(child) == role, (report["processes"], proc.stderr[-2000:])
    stalls = [f for f in report["findings"] if f["code"] in ("PK301", "PK302")]
    assert {f["code"] for f in stalls} == {"PK301", "PK302"}, report["findings"]
    assert {f["process"] for f in stalls} == {child}
    assert all(f["line"] == 17 for f in stalls)


def test_user_sitecustomize_still_runs_in_followed_interpreters(tmp_path: Path) -> None:
    """The audit's bootstrap comes first on PYTHONPATH and runs the user's sitecustomize too."""
    write(tmp_path / "mp_app.py", MP_APP)
    marks = tmp_path / "marks"
    write(
        tmp_path / "site" / "sitecustomize.py",
        f"""
        import os
        with open({str(marks)!r}, "a") as handle:
            handle.write(f"{{os.getpid()}}\\n")
        """,
    )
    env = clean_env(PYTHONPATH=str(tmp_path / "site"))
    args = ("audit", "--format", "json", "--timeout", "60", "mp_app.py", "spawn", "process")
    proc = run_patchkit(*args, cwd=tmp_path, env=env)
    report = json.loads(proc.stdout)
    child = int(re.search(r"CHILD (\d+)", proc.stderr).group(1))  # type: ignore[union-attr]
    assert str(child) in marks.read_text().split()
    assert roles(report).get(child) == "child"
    assert any(f["process"] == child for f in report["findings"] if f["code"] == "PK301")


TASKS = """
import os

from celery import Celery
from gevent.monkey import get_original

sleep = get_original("time", "sleep")  # the real sleep, kept on purpose, called on the hub
app = Celery("tasks", broker=os.environ["BROKER"], backend=os.environ["BROKER"])


@app.task
def nap():
    sleep(0.3)
    return os.getpid()
"""
REDIS = ("127.0.0.1", 6379)


def test_celery_gevent_worker_names_the_process_that_ran_the_task(tmp_path: Path) -> None:
    pytest.importorskip("celery")
    try:
        socket.create_connection(REDIS, timeout=2).close()
    except OSError:
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    write(tmp_path / "tasks.py", TASKS)
    queue = f"patchkit-{uuid.uuid4().hex[:8]}"  # other runs on the same Redis stay apart
    env = clean_env(BROKER="redis://127.0.0.1:6379/0")
    target = ["-m", "celery", "-A", "tasks", "worker", "-P", "gevent", "-c", "2", "-Q", queue]
    target += ["--without-heartbeat", "--without-mingle", "--without-gossip", "-l", "info"]
    proc = start_audit(tmp_path, target, env)
    report: dict[str, Any] = {}
    try:
        wait_for_lines(proc, [r" ready\."])
        ran_in = send_task(tmp_path, queue, env)
        report = finish_audit(proc)
    finally:
        stop(proc)
    role_of = roles(report)
    stalls = [f for f in report["findings"] if f["code"] == "PK301"]
    assert [f["process"] for f in stalls] == [ran_in], report["findings"]
    assert "worker" in next(p["argv"] for p in report["processes"] if p["pid"] == ran_in)
    assert role_of[ran_in] == "main"  # -P gevent runs tasks in the worker's own process
    assert_gone(list(role_of))


def send_task(cwd: Path, queue: str, env: dict[str, str]) -> int:
    code = f"import tasks; print(tasks.nap.apply_async(queue={queue!r}).get(timeout=30))"
    sent = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert sent.returncode == 0, sent.stderr[-2000:]
    return int(sent.stdout.split()[-1])
