"""``--duration``: run a server for S seconds, stop it gracefully, keep what was found."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write
from tests.hostile.process_helpers import (
    SLEEPER,
    leftover_tempdirs,
    marker,
    run_child_json,
    survivors,
)

SERVER = """
import signal, subprocess, sys, time
from time import sleep as stale_sleep
from gevent import monkey
monkey.patch_all()
import gevent
def work():
    stale_sleep(0.3)
gevent.spawn(work).join()
subprocess.Popen([sys.executable, "-c", {sleeper!r}, {mark!r}], start_new_session=True)
{setup}
while True:
    time.sleep(0.2)
"""


def _server(tmp_path: Path, setup: str = "") -> tuple[Path, str]:
    mark = marker()
    app = write(tmp_path / "server.py", SERVER.format(sleeper=SLEEPER, mark=mark, setup=setup))
    return app, mark


def _check(tmp_path: Path, result: dict, mark: str) -> None:
    assert survivors(mark) == []
    assert leftover_tempdirs(tmp_path) == []
    assert "PK301" in {f["code"] for f in result["findings"]}, result


def test_duration_stops_a_server_and_keeps_its_findings(tmp_path: Path) -> None:
    app, mark = _server(tmp_path)
    result, proc = run_child_json(tmp_path, app, timeout=60, duration=3)
    assert result["outcome"]["status"] == "stopped", (result["outcome"], proc.stderr)
    assert result["outcome"]["message"] == "stopped after 3 s (--duration)"
    assert "KeyboardInterrupt" in proc.stderr  # the target saw the Ctrl-C it would in a terminal
    _check(tmp_path, result, mark)


def test_duration_stops_a_server_that_ignores_sigint_and_sigterm(tmp_path: Path) -> None:
    setup = (
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)"
    )
    app, mark = _server(tmp_path, setup)
    result, proc = run_child_json(tmp_path, app, timeout=60, duration=2)
    assert result["outcome"]["status"] == "stopped", (result["outcome"], proc.stderr)
    assert "did not hand back" not in result["outcome"]["message"]
    _check(tmp_path, result, mark)


def test_target_ending_before_the_duration_reports_its_own_outcome(tmp_path: Path) -> None:
    app = write(tmp_path / "quick.py", "import sys\nsys.exit(3)\n")
    result, _ = run_child_json(tmp_path, app, timeout=60, duration=30)
    assert result["outcome"]["status"] == "exit" and result["outcome"]["exit_code"] == 3
    assert leftover_tempdirs(tmp_path) == []
