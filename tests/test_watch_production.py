"""The hub watch in production: turned on by the config, logged per site, counted, exported."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from patchkit.config import load_config
from patchkit.detect.watch import Stall
from patchkit.detect.watchlog import StallLog
from patchkit.errors import ConfigError
from tests.helpers import clean_env, http_get, json_from_stdout, run_patchkit, run_python, write

BUSY_APP = """
import time
import gevent

def busy():
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 0.3:  # BUSY LINE
        pass

gevent.spawn(busy).join()
gevent.sleep(0.2)  # the stall is logged from a greenlet of its own
"""


def busy_line(source: str) -> int:
    return next(n for n, text in enumerate(source.splitlines(), 1) if "# BUSY LINE" in text)


def pyproject(path: Path, watch: str = "100") -> None:
    write(path / "pyproject.toml", f"[tool.patchkit]\nwatch = {watch}\n")


# -- configuration ---------------------------------------------------------------------------


def test_watch_key_is_read_in_milliseconds_and_off_by_default(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("PATCHKIT_WATCH", raising=False)
    assert load_config(tmp_path).watch is None
    pyproject(tmp_path, "150")
    assert load_config(tmp_path).watch == 150.0
    monkeypatch.setenv("PATCHKIT_WATCH", "40")
    assert load_config(tmp_path).watch == 40.0
    monkeypatch.setenv("PATCHKIT_WATCH", "0")
    assert load_config(tmp_path).watch is None


@pytest.mark.parametrize("value", ['"fast"', "-5", "true", "[100]"])
def test_bad_watch_value_is_a_one_line_error(tmp_path: Path, monkeypatch, value: str) -> None:
    monkeypatch.delenv("PATCHKIT_WATCH", raising=False)
    pyproject(tmp_path, value)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert "[tool.patchkit] watch: expected milliseconds" in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_watch_env_is_a_one_line_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATCHKIT_WATCH", "soon")
    with pytest.raises(ConfigError, match="^PATCHKIT_WATCH: expected milliseconds"):
        load_config(tmp_path)


# -- started by auto, run --------------------------------------------------------------------


def test_auto_with_watch_in_the_config_logs_a_stall(tmp_path: Path) -> None:
    pyproject(tmp_path)
    source = "import patchkit.auto\n" + BUSY_APP
    proc = run_python(source, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "hub stalled 0." in proc.stderr, proc.stderr
    assert f"<string>:{busy_line(source)}" in proc.stderr, proc.stderr


def test_auto_without_watch_starts_no_watch(tmp_path: Path) -> None:
    proc = run_python("import patchkit.auto\n" + BUSY_APP, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "hub stalled" not in proc.stderr


def test_run_with_patchkit_watch_env_logs_a_stall(tmp_path: Path) -> None:
    write(tmp_path / "app.py", BUSY_APP)
    proc = run_patchkit("run", "app.py", cwd=tmp_path, env=clean_env(PATCHKIT_WATCH="100"))
    assert proc.returncode == 0, proc.stderr
    assert f"app.py:{busy_line(BUSY_APP.lstrip())}" in proc.stderr, proc.stderr


# -- logging, aggregated ---------------------------------------------------------------------


def test_one_hundred_stalls_at_one_site_are_one_line_and_a_summary(caplog) -> None:
    log = StallLog(every=3600)
    stall = Stall(0.2, "<Greenlet 'worker'>", ("app.py:7 in handler",), "app.py", 7)
    other = Stall(0.5, "<Greenlet 'worker'>", (), "app.py", 30)
    with caplog.at_level(logging.WARNING, logger="patchkit.watch"):
        for _ in range(100):
            log(stall)
        log(other)
        log.flush()
    lines = [r.getMessage() for r in caplog.records if r.name == "patchkit.watch"]
    assert len(lines) == 3, lines
    assert lines[0].startswith("hub stalled 0.200 s (greenlet): <Greenlet 'worker'> held it")
    assert "at app.py:7\n    app.py:7 in handler" in lines[0]
    assert "at app.py:30" in lines[1]
    assert lines[2].startswith("hub stalled 99 more times at app.py:7")
    assert "19.800 s in all, longest 0.200 s" in lines[2]


def test_summary_is_logged_once_the_interval_has_passed(caplog) -> None:
    log = StallLog(every=0.0)
    stall = Stall(0.2, "g", (), "app.py", 7)
    with caplog.at_level(logging.WARNING, logger="patchkit.watch"):
        log(stall)
        log(stall)
    lines = [r.getMessage() for r in caplog.records if r.name == "patchkit.watch"]
    assert len(lines) == 2 and lines[1].startswith("hub stalled 1 more times at app.py:7")


# -- stats, metrics, gevent's event ----------------------------------------------------------

STATS_APP = """
import json, time
import gevent
from gevent import events
import prometheus_client
import patchkit
from patchkit.detect import production

seen = []
events.subscribers.append(
    lambda e: seen.append(e.blocking_time) if isinstance(e, events.EventLoopBlocked) else None
)
production.start(0.1)

def busy(seconds):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:  # BUSY LINE
        pass

for seconds in (0.3, 0.3, 0.6):
    gevent.spawn(busy, seconds).join()
gevent.sleep(0.2)
print(json.dumps({"stats": patchkit.watch_stats(), "events": seen,
                  "prom": prometheus_client.generate_latest().decode()}))
"""


def test_watch_stats_prometheus_and_gevent_event_count_every_stall() -> None:
    pytest.importorskip("prometheus_client")
    proc = run_python(STATS_APP)
    data = json_from_stdout(proc)
    stats = data["stats"]
    site = f"<string>:{busy_line(STATS_APP)}"
    assert stats["count"] == 3, stats
    assert list(stats["sites"]) == [site]
    assert stats["sites"][site]["count"] == 3
    assert 0.5 <= stats["sites"][site]["max_s"] <= 1.5
    buckets = dict((str(b), n) for b, n in stats["buckets"])
    assert buckets["0.25"] == 0 and buckets["0.5"] == 2 and buckets["+Inf"] == 3, buckets
    assert len(data["events"]) == 3 and min(data["events"]) >= 0.25
    prom = data["prom"]
    assert "patchkit_hub_stall_seconds_count 3.0" in prom
    assert f'patchkit_hub_stalls_total{{site="{site}"}} 3.0' in prom


# -- long-running safety ---------------------------------------------------------------------

RESTART_APP = """
import json, os, sys, threading, time
import gevent, greenlet
from patchkit.detect import production
from patchkit.detect.watch import Watch

def threads():
    deadline = time.monotonic() + 5  # a stopped watchdog ends after its current sleep
    while len(sys._current_frames()) > base and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(sys._current_frames())

def watchdogs():
    # One thread once the lag probe runs: the watch's own watchdog hands over to the probe's
    # and ends after its current sleep.
    deadline = time.monotonic() + 5
    while len(sys._current_frames()) > base + 1 and time.monotonic() < deadline:
        gevent.sleep(0.01)
    return len(sys._current_frames())

def busy():
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 0.3:
        pass

gevent.sleep(0)
base = len(sys._current_frames())
for _ in range(3):
    w = Watch(0.1).start()
    gevent.sleep(0.05)  # the lag probe starts from the loop
    w.stop()
after_restarts = [threads(), greenlet.gettrace() is None]

watch = production.start(0.1)
gevent.sleep(0.05)
running = watchdogs()
r, wfd = os.pipe()
pid = os.fork()
if pid == 0:
    gevent.sleep(0.1)
    child_running = watchdogs()
    gevent.spawn(busy).join()
    gevent.sleep(0.1)
    counted = production.current() is not None and len(production.current().stalls)
    production.stop()
    os.write(wfd, json.dumps([child_running, counted, threads(),
                              greenlet.gettrace() is None]).encode())
    os._exit(0)
os.waitpid(pid, 0)
child = json.loads(os.read(r, 4096))
production.stop()
print(json.dumps({"base": base, "after_restarts": after_restarts, "running": running,
                  "child": child, "parent_after": [threads(), greenlet.gettrace() is None]}))
"""


def test_stopping_restarting_and_forking_leave_no_thread_or_tracer() -> None:
    data = json_from_stdout(
        run_python("from gevent import monkey; monkey.patch_all()\n" + RESTART_APP)
    )
    base = data["base"]
    assert data["after_restarts"] == [base, True], data
    assert data["running"] == base + 1, data  # one watchdog: the lag probe's, shared
    child_running, counted, child_after, child_untraced = data["child"]
    assert child_running == base + 1, data  # the child's own watchdog, none left from the parent
    assert counted == 1, data  # the child watches its own hub
    assert [child_after, child_untraced] == [base, True], data
    assert data["parent_after"] == [base, True], data


def serve_two_workers(cwd: Path) -> tuple[subprocess.Popen[str], int]:
    """gunicorn with patchkit's worker, 2 workers; returns once one is booting."""
    command = [sys.executable, "-m", "gunicorn", "-k", "patchkit.gunicorn.GeventWorker"]
    command += ["-w", "2", "-b", "127.0.0.1:0", "--chdir", str(cwd), "app:app"]
    proc = subprocess.Popen(command, cwd=cwd, env=clean_env(), stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    port, deadline = None, time.monotonic() + 30
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


def test_gunicorn_workers_log_stalls_with_watch_in_the_config(tmp_path: Path) -> None:
    pytest.importorskip("gunicorn")
    write(
        tmp_path / "app.py",
        """
        import time

        def app(environ, start_response):
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < 0.3:  # BUSY LINE
                pass
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"done"]
        """,
    )
    pyproject(tmp_path)
    proc, port = serve_two_workers(tmp_path)
    try:
        assert http_get(port) == "done"
        time.sleep(0.5)  # the line is written from a greenlet after the stall
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert "hub stalled 0." in err, err
    assert "app.py:5" in err, err
