"""PK302 kinds: the loop-lag probe sees every hub stall and says what held the hub.

Each app runs in its own interpreter next to a heartbeat greenlet (10 ms): the longest gap between
its ticks is how long the hub really stood still. Threshold 0.1 s; the stalls are 0.3 s or more.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from patchkit.detect.lag import FIXES, REFRESH_S, LagStall, cause, lag_findings, merge, stack_lines
from tests.helpers import REPO, clean_env, run_python

APPS = REPO / "tests" / "apps"


# The watchdog waits in C without the GIL where the extension was built; the Python loop is the
# fallback (PATCHKIT_NO_SPEEDUPS=1). Both must tell the kinds apart alike.
WAITS = [pytest.param(False, id="c-wait"), pytest.param(True, id="python-wait")]


def run_app(name: str, python_only: bool = False) -> dict[str, Any]:
    import subprocess

    proc = subprocess.run(
        [sys.executable, str(APPS / name)],
        cwd=REPO,
        env=clean_env(PATCHKIT_NO_SPEEDUPS="1") if python_only else clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def line_of(app: str, marker: str) -> int:
    text = (APPS / app).read_text().splitlines()
    return next(n for n, line in enumerate(text, 1) if marker in line)


def real_stalls(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in data["stalls"] if s["kind"] != "unknown"]


@pytest.mark.parametrize("python_only", WAITS)
def test_regex_in_gevent_threadpool_is_a_gil_stall_naming_the_pool_thread(python_only) -> None:
    data = run_app("lag_pool_regex.py", python_only)
    assert data["gap"] >= 0.25, data  # the harm is real: the hub stood still
    (stall,) = real_stalls(data)
    assert stall["kind"] == "gil", data
    assert "gevent threadpool worker" in stall["thread"]
    assert abs(stall["duration"] - data["gap"]) <= 0.1, data
    regex_line = line_of("lag_pool_regex.py", "# REGEX LINE")
    assert any(f"lag_pool_regex.py:{regex_line} in match_in_pool" in f for f in stall["stack"])
    (finding,) = data["findings"]
    assert finding["code"] == "PK302"
    assert finding["detail"]["kind"] == "gil"
    assert finding["line"] == regex_line
    assert "process" in finding["fix"] and "GIL" in finding["message"]


@pytest.mark.parametrize("python_only", WAITS)
def test_regex_in_a_plain_thread_is_a_gil_stall_naming_that_thread(python_only) -> None:
    data = run_app("lag_thread_regex.py", python_only)
    assert data["gap"] >= 0.25, data
    (stall,) = real_stalls(data)
    assert stall["kind"] == "gil", data
    assert "'regex-worker'" in stall["thread"]
    assert any("in match_in_thread" in f for f in stall["stack"])


@pytest.mark.parametrize("python_only", WAITS)
def test_busy_greenlet_is_a_greenlet_stall_and_merges_with_the_watch(python_only) -> None:
    data = run_app("lag_greenlet_busy.py", python_only)
    assert data["gap"] >= 0.25, data
    (stall,) = real_stalls(data)
    assert stall["kind"] == "greenlet" and stall["cause"] == "cpu", data
    assert stall["stack"][0].endswith(f":{line_of('lag_greenlet_busy.py', '# BUSY LINE')} in busy")
    (watched,) = data["watch"]  # the switch-timing watch saw the same stall ...
    assert abs(watched - stall["duration"]) <= 0.1
    assert data["merged"] == {"watch": 1, "lag": 0}  # ... so it is reported once
    (finding,) = data["findings"]
    assert "process pool" in finding["fix"] and "gevent.sleep(0.001)" in finding["fix"]


def test_gil_releasing_work_in_the_pool_is_not_a_stall() -> None:
    data = run_app("lag_pool_released.py")
    assert data["measured"] >= 0.3  # the pool really worked that long ...
    assert data["gap"] < 0.1, data  # ... and the hub kept running
    assert real_stalls(data) == [] and data["findings"] == []


@pytest.mark.parametrize("python_only", WAITS)
def test_probe_wakes_as_designed_when_idle(python_only) -> None:
    data = run_app("lag_idle.py", python_only)
    expected = data["elapsed"] / data["interval"]  # one hub tick each
    assert 0.5 * expected <= data["ticks"] <= 1.1 * expected + 2, data
    expected = data["elapsed"] / data["wake_every"]  # one watchdog wake-up each (fewer)
    assert 0.5 * expected <= data["wakeups"] <= 1.1 * expected + 2, data
    assert data["stalls"] == [] or all(s["kind"] == "unknown" for s in data["stalls"])
    if python_only:
        assert data["looks"] == data["wakeups"]  # each wake-up takes the GIL
    else:
        # While the hub ticks on time the watchdog does not take the GIL: each time it does,
        # a busy server loses it for a moment (measured: ~0.35 % of throughput at 20 a second).
        assert data["looks"] <= data["elapsed"] / REFRESH_S + 2, data


def test_hub_callback_that_runs_long_is_the_hub_kind() -> None:
    proc = run_python(
        """
        import json, time, gevent
        from patchkit.detect.lag import LagProbe, cause

        def slow():
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < 0.3:
                pass

        with LagProbe(0.1) as probe:
            gevent.sleep(0.1)
            gevent.get_hub().loop.run_callback(slow)
            gevent.sleep(0.1)
        print(json.dumps([[s.kind, cause(s), s.entries[0][2]] for s in probe.stalls]))
        """
    )
    assert json.loads(proc.stdout) == [["hub", "hub", "slow"]], proc.stderr


def _stall(kind: str, cpu: float, entries: tuple[tuple[str, int, str], ...] = ()) -> LagStall:
    return LagStall(0.4, kind, "the hub's thread", entries, cpu, 10.0, 10.425)


def test_fix_matches_the_cause(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("import threading\nlock = threading.Lock()\nlock.acquire()\ntime.sleep(1)\n")
    assert cause(_stall("gil", 0.4)) == "gil"
    assert cause(_stall("greenlet", 0.39, ((str(app), 4, "f"),))) == "cpu"
    assert cause(_stall("greenlet", 0.0, ((str(app), 4, "f"),))) == "blocking"
    assert cause(_stall("greenlet", 0.0, ((str(app), 3, "f"),))) == "lock"
    assert cause(_stall("hub", 0.4)) == "hub"
    for key, needle in [
        ("gil", "process"),
        ("cpu", "gevent.sleep(0.001)"),
        ("blocking", "threadpool"),
    ]:
        assert needle in FIXES[key]
    assert "after patching" in FIXES["lock"]


def test_unknown_stalls_are_not_findings() -> None:
    assert lag_findings([_stall("unknown", 0.0)], 0.1) == []
    assert len(lag_findings([_stall("gil", 0.4)], 0.1)) == 1


def test_stack_keeps_the_outermost_application_frame(tmp_path: Path) -> None:
    lib = "/usr/lib/python3/site-packages/lib/deep.py"
    stdlib = str(Path(json.__file__).parent / "decoder.py")
    entries = [(stdlib, n, f"inner{n}") for n in range(20)] + [(lib, 1, "call")]
    entries += [(stdlib, 99, "wrapper"), (str(tmp_path / "app.py"), 7, "handler")]
    entries += [(stdlib, 1, "bootstrap")]
    lines = stack_lines(entries, keep=5)
    assert lines[0] == f"{tmp_path / 'app.py'}:7 in handler"
    assert lines[1] == "... 17 frames ..."
    assert lines[-1].endswith(":0 in inner0") and len(lines) == 7


class _WatchStall:
    def __init__(self, duration: float, end: float | None = None) -> None:
        self.duration = duration
        if end is not None:
            self.end = end


@pytest.mark.parametrize("with_end", [True, False])
def test_merge_reports_a_greenlet_stall_once(with_end: bool) -> None:
    seen = _WatchStall(0.43, 10.42 if with_end else None)
    other = _WatchStall(2.0, 50.0 if with_end else None)
    watch, lag = merge([seen, other], [_stall("greenlet", 0.4), _stall("hub", 0.4)])
    assert watch == [seen, other]
    assert [s.kind for s in lag] == ["hub"]


def test_merge_drops_a_watch_stall_explained_by_a_gil_holder() -> None:
    bystander = _WatchStall(0.4, 10.41)
    watch, lag = merge([bystander], [_stall("gil", 0.4)])
    assert watch == [] and [s.kind for s in lag] == ["gil"]


def test_a_holder_gone_before_the_watchdog_looked_is_named_from_the_late_tick() -> None:
    from patchkit.detect.lag import _Gap, _with_late_look

    hub, regex, other = 1, 2, 3
    # The regex thread ended before the watchdog got the GIL: the watchdog saw only the hub.
    gap = _Gap(10.0, 10.5, hub, 0.01, (), "the hub", {hub: 1.0, other: 2.0}, frozenset({hub}))
    look = ({regex: 0.48, other: 2.1}, {regex: "thread 'regex-worker'", other: "thread 'x'"})
    named = _with_late_look(gap, look, hub)
    assert (named.holder, named.name, named.cpu) == (regex, "thread 'regex-worker'", 0.48)
    # A thread the watchdog did measure keeps its own reading: the late look changes nothing.
    measured = _Gap(10.0, 10.5, regex, 0.48, (), "r", {regex: 0.0}, frozenset({hub, regex}))
    assert _with_late_look(measured, ({regex: 0.5}, {regex: "r"}), hub) is measured
