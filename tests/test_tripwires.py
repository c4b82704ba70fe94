"""PK301: a blocking original reached through a stale name, called on the hub's thread.

Tripwires go in first, as the audit child does, so ``from time import sleep`` in the program
captures the wrapper and gevent later saves it as the "original".
"""

from __future__ import annotations

from tests.helpers import json_from_stdout, run_python

PRELUDE = """
from patchkit.detect import tripwires
tripwires.install()

import json, time
from time import sleep  # bound before patching: the blocking original
"""

REPORT = """
print(json.dumps({
    "findings": [f.as_dict() for f in w.findings()],
    "stalls": [s.duration for s in w.stalls],
}))
"""


def line_of(source: str, marker: str) -> int:
    return next(n for n, text in enumerate(source.splitlines(), 1) if marker in text)


def run(body: str) -> tuple[str, dict]:
    source = PRELUDE + body + REPORT
    return source, json_from_stdout(run_python(source))


def codes(data: dict) -> list[str]:
    return sorted(f["code"] for f in data["findings"])


def test_stale_sleep_in_a_greenlet_is_pk301_at_the_caller_and_pk302() -> None:
    source, data = run(
        """
from gevent import monkey; monkey.patch_all()
import gevent, patchkit

def handler():
    sleep(0.3)  # STALE CALL

with patchkit.watch(0.1) as w:
    gevent.joinall([gevent.spawn(handler) for _ in range(3)])
"""
    )
    assert codes(data) == ["PK301", "PK302"], data
    pk301 = next(f for f in data["findings"] if f["code"] == "PK301")
    assert pk301["line"] == line_of(source, "# STALE CALL")
    assert pk301["object"] == "time.sleep"
    assert pk301["detail"]["count"] == 3  # one finding per call site, counted
    assert len(data["stalls"]) == 3 and min(data["stalls"]) > 0.25


def test_patched_sleep_looked_up_at_call_time_is_not_reported() -> None:
    _, data = run(
        """
from gevent import monkey; monkey.patch_all()
import gevent, patchkit

with patchkit.watch(0.1) as w:
    gevent.joinall([gevent.spawn(time.sleep, 0.2) for _ in range(3)])
"""
    )
    assert data["findings"] == [], data


def test_stale_sleep_in_gevents_threadpool_is_not_reported() -> None:
    _, data = run(
        """
from gevent import monkey; monkey.patch_all()
import gevent, patchkit

with patchkit.watch(0.1) as w:
    pool = gevent.get_hub().threadpool
    gevent.joinall([pool.spawn(sleep, 0.2) for _ in range(3)])
"""
    )
    assert data["findings"] == [], data


def test_stale_sleep_in_a_real_thread_pool_worker_is_not_reported() -> None:
    _, data = run(
        """
from gevent import monkey; monkey.patch_all(thread=False)  # threads stay real OS threads
from concurrent.futures import ThreadPoolExecutor
import gevent, patchkit

with patchkit.watch(0.1) as w:
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(sleep, 0.2) for _ in range(3)]
        gevent.sleep(0.05)
        [f.result() for f in futures]
"""
    )
    assert "PK301" not in codes(data), data


def test_unpatched_process_using_gevent_reports_blocking_sleep() -> None:
    _, data = run(
        """
import gevent, patchkit

def handler():
    time.sleep(0.2)  # nothing patched: the module's own sleep blocks the hub

with patchkit.watch(0.1) as w:
    gevent.spawn(handler).join()
"""
    )
    assert codes(data) == ["PK301", "PK302"], data


def test_plain_program_without_a_hub_is_not_reported() -> None:
    _, data = run(
        """
import patchkit

with patchkit.watch(0.1) as w:
    sleep(0.2)
"""
    )
    assert data["findings"] == [] and data["stalls"] == [], data


def test_gevents_own_zero_timeout_select_is_not_reported() -> None:
    _, data = run(
        """
from gevent import monkey; monkey.patch_all()
import select, socket, gevent, patchkit

def poller():
    a, b = socket.socketpair()
    for _ in range(20):
        select.select([a], [], [], 0.01)  # gevent's select polls the original with 0 first

with patchkit.watch(0.1) as w:
    gevent.spawn(poller).join()
"""
    )
    assert data["findings"] == [], data


def test_every_tripwire_wraps_an_original_the_harm_table_calls_harmful() -> None:
    # One source of truth for harm: a wire on a harmless original would be a false PK301.
    from patchkit.detect import originals

    assert originals.WIRED, "nothing wired"
    for row in originals.WIRED:
        assert row.harmful and row.kind == "function", row.key


def test_every_harmful_function_is_wired_or_says_why_not() -> None:
    from patchkit.detect import originals

    for row in originals.ORIGINALS:
        if row.harm and row.kind == "function":
            assert (row.wire is None) == bool(row.unwired), row.key
        else:
            assert row.wire is None and not row.unwired, row.key


def test_greenlet_spawned_directly_on_a_wrapped_function_runs_and_is_reported() -> None:
    # No Python caller: the greenlet runs the wrapper itself. It used to die with
    # "ValueError: call stack is not deep enough"; it must run as under plain python.
    source, data = run(
        """
from socket import getaddrinfo  # the wrapper, captured before patching
from gevent import monkey; monkey.patch_all()
import gevent, patchkit

with patchkit.watch(0.1) as w:
    sleeper = gevent.spawn(sleep, 0.2)  # SPAWN SLEEP
    resolver = gevent.spawn(getaddrinfo, "localhost", 80)  # SPAWN RESOLVE
    gevent.joinall([sleeper, resolver], timeout=10)
    gevent.config.track_greenlet_tree = False
    untracked = gevent.spawn(sleep, 0.2)
    untracked.join(timeout=10)
for g in (sleeper, resolver, untracked):
    if not g.successful():
        raise SystemExit(f"greenlet failed: {g.exception!r}")
"""
    )
    pk301 = {(f["object"], f["line"]): f for f in data["findings"] if f["code"] == "PK301"}
    assert ("time.sleep", line_of(source, "# SPAWN SLEEP")) in pk301, data
    assert ("socket.getaddrinfo", line_of(source, "# SPAWN RESOLVE")) in pk301, data
    untracked = pk301[("time.sleep", None)]
    assert "no Python caller" in untracked["message"], untracked
    stalls = [f for f in data["findings"] if f["code"] == "PK302"]
    assert stalls and all("patchkit" not in (f["file"] or "") for f in stalls), stalls
