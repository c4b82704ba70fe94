"""PK105 deep: objects made before patching, held below module globals (issue 9 §2).

Each library example is measured first (the hub stall or the hang is real), then found by
``prepatch_objects()`` with the path that reaches it; its twin, made after patching, stalls
nothing and is not reported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import HUB_GAP, clean_env
from tests.scan_helpers import APPS, PATCH_ALL, QUIET, STALL, require_port

HANG = "hang"  # the child never got to print its measurement: the hub was blocked for good

_HARNESS = """
import json, os, sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {apps!r})
{before}
{patch}
import gevent
{after}
from patchkit.detect.deep import prepatch_objects
out = {{"findings": [f.as_dict() for f in prepatch_objects({args})]}}
print(json.dumps(out), flush=True)
{hub_gap}
{harm}
print(json.dumps(out, default=repr), flush=True)
os._exit(0)
"""


def run_app(
    before: str = "", after: str = "", harm: str = "", args: str = "", timeout: float = 30,
    patch: str = PATCH_ALL, env: dict[str, str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Findings and measurement from a fresh child; ``out["harm"] == HANG`` when it hung."""
    code = _HARNESS.format(
        apps=str(APPS), before=textwrap.dedent(before), patch=patch,
        after=textwrap.dedent(after), args=args, hub_gap=HUB_GAP, harm=textwrap.dedent(harm),
    )  # fmt: skip
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], env=clean_env(**(env or {})),
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        stdout, hung = proc.stdout, False
    except subprocess.TimeoutExpired as exc:
        raw = exc.stdout or ""
        stdout, hung = raw.decode() if isinstance(raw, bytes) else raw, True
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, f"the child printed nothing (hung: {hung})"
    out = json.loads(lines[-1])
    if hung:
        out["harm"] = HANG
    return out


def deep(result: dict[str, Any], module: str) -> list[dict[str, Any]]:
    return [f for f in result["findings"] if f["module"] == module]


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    server = subprocess.Popen(
        [sys.executable, str(APPS / "deep_http_server.py")], stdout=subprocess.PIPE, text=True
    )
    try:
        port = server.stdout.readline().strip()  # type: ignore[union-attr]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait(timeout=10)


def _measured(app: str, when: str, env: dict[str, str] | None = None, after: str = "") -> Any:
    imports = f"import {app}"
    return run_app(
        before=imports if when == "before" else "",
        after=after + "\n" + (imports if when == "after" else ""),
        harm=f"out['harm'] = hub_gap({app}.use, timeout=3)",
        env=env,
        timeout=20,
    )


def _assert_stall(harm: Any) -> None:
    assert harm == HANG or harm["gap"] >= STALL, harm


def _assert_quiet(result: dict[str, Any], app: str) -> None:
    assert not deep(result, app)
    assert result["harm"] != HANG
    assert result["harm"]["error"] is None and result["harm"]["gap"] < QUIET, result["harm"]


def test_warmed_requests_session_keeps_a_prepatch_socket_that_stalls_each_request(
    http_url: str,
) -> None:
    env = {"DEEP_HTTP_URL": http_url}
    before = _measured("deep_session", "before", env)
    _assert_stall(before["harm"])
    [finding] = deep(before, "deep_session")
    assert finding["code"] == "PK105" and finding["line"] == 8
    port = http_url.rsplit(":", 1)[1]
    assert finding["object"] == (
        "deep_session.session.adapters['http://'].poolmanager.pools._container"
        f"[('http', '127.0.0.1', {port}, …)].pool.queue[9].sock"
    )
    assert finding["detail"]["kind"] == "socket.socket"
    _assert_quiet(_measured("deep_session", "after", env), "deep_session")


def test_module_level_thread_pool_executor_hangs_on_its_prepatch_work_queue() -> None:
    before = _measured("deep_executor", "before")
    assert before["harm"] == HANG
    [finding] = deep(before, "deep_executor")
    assert finding["object"] == "deep_executor.POOL._work_queue"
    assert finding["detail"]["kind"] == "queue.SimpleQueue"
    _assert_quiet(_measured("deep_executor", "after"), "deep_executor")


def test_pika_connection_opened_at_import_waits_on_a_real_epoll() -> None:
    require_port(5672, "RabbitMQ")
    before = _measured("deep_pika", "before")
    _assert_stall(before["harm"])
    [finding] = deep(before, "deep_pika")
    paths = finding["detail"]["paths"]
    assert "deep_pika.connection._impl._nbio._loop._poller._poll" in paths
    assert "deep_pika.connection._impl._transport._sock" in paths
    assert set(finding["detail"]["kinds"]) == {"select.epoll", "socket.socket"}
    _assert_quiet(_measured("deep_pika", "after"), "deep_pika")


def test_sqlalchemy_pool_keeps_a_prepatch_pymysql_socket() -> None:
    require_port(3306, "MariaDB")
    before = _measured("deep_sqlalchemy", "before")
    _assert_stall(before["harm"])
    [finding] = deep(before, "deep_sqlalchemy")
    assert finding["object"] == "deep_sqlalchemy.engine.pool._pool.queue[0].dbapi_connection._sock"
    _assert_quiet(_measured("deep_sqlalchemy", "after"), "deep_sqlalchemy")


GREEN_PSYCOPG = "import psycogreen.gevent\npsycogreen.gevent.patch_psycopg()"


def test_psycopg2_threaded_pool_made_before_patching_deadlocks() -> None:
    require_port(5432, "PostgreSQL")
    before = _measured("deep_psycopg2", "before", after=GREEN_PSYCOPG)
    assert before["harm"] == HANG
    [finding] = deep(before, "deep_psycopg2")
    assert finding["object"] == "deep_psycopg2.POOL" and finding["line"] == 6
    assert "deadlock" in finding["message"]
    _assert_quiet(_measured("deep_psycopg2", "after", after=GREEN_PSYCOPG), "deep_psycopg2")


def _shapes(**kwargs: Any) -> dict[str, dict[str, Any]]:
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    result = run_app(before="import deep_shapes", args=args, harm=SHAPES_HARM)
    found = {f["object"].split(".")[1].split("[")[0]: f for f in deep(result, "deep_shapes")}
    found["_run"] = result
    return found


SHAPES_HARM = """
out["tricky_calls"] = deep_shapes.Tricky.calls
def quiet_locks():
    for lock in (deep_shapes.QUIET.value["lock"], deep_shapes.QUIET.value["rlock"]):
        with lock:
            pass
    ev = deep_shapes.QUIET.value["event"]
    gevent.spawn_later(0.05, ev.set)
    ev.wait(2)
out["harm"] = hub_gap(quiet_locks)
"""


def test_walk_is_cycle_safe_reads_slots_and_reports_shortest_path() -> None:
    found = _shapes()
    assert found["CYCLE"]["object"] == "deep_shapes.CYCLE.value['conn'].value"
    assert found["SLOTTED"]["object"] == "deep_shapes.SLOTTED.conn"


def test_walk_never_runs_properties_or_getattr() -> None:
    found = _shapes()
    assert found["TRICKY"]["object"] == "deep_shapes.TRICKY.conn.value"
    assert found["_run"]["tricky_calls"] == 0


def test_real_locks_events_closed_and_datagram_sockets_deep_inside_are_not_reported() -> None:
    found = _shapes()
    assert not {"QUIET", "CLOSED", "DATAGRAM"} & found.keys()
    harm = found["_run"]["harm"]
    assert harm["error"] is None and harm["gap"] < QUIET  # measured harmless, as reported


def test_walk_respects_depth_and_container_bounds() -> None:
    assert not {"CHAIN", "BIG"} & _shapes().keys()  # 21 hops deep; item 1,000,000
    assert "CHAIN" in _shapes(max_depth=30)
    assert "CHAIN" not in _shapes(max_depth=30, max_objects=10)


def test_unpatched_process_reports_nothing() -> None:
    result = run_app(before="import deep_shapes", patch="")
    assert result["findings"] == []
