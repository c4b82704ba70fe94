"""A target that replaces the clocks (freezegun style) cannot fool the audit's deadlines."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write
from tests.hostile.process_helpers import audit_json, leftover_tempdirs

STALE_SLEEP = """
from time import sleep as stale_sleep
from gevent import monkey
monkey.patch_all()
import gevent
def work():
    stale_sleep(0.3)
gevent.spawn(work).join()
"""
FREEZE = """
import time
time.time = time.monotonic = time.perf_counter = lambda: {value}
"""


def test_clocks_in_the_far_future_are_no_false_timeout(tmp_path: Path) -> None:
    app = write(tmp_path / "app.py", FREEZE.format(value=4e9) + "time.sleep(1.5)\n")
    report, proc = audit_json(tmp_path, str(app))
    assert report["outcome"]["status"] == "completed", (report["outcome"], proc.stderr)
    assert leftover_tempdirs(tmp_path) == []


def test_frozen_clocks_still_time_out_with_stacks_and_findings(tmp_path: Path) -> None:
    app = write(
        tmp_path / "app.py",
        STALE_SLEEP + FREEZE.format(value=0) + "while True:\n    time.sleep(0.2)\n",
    )
    report, _ = audit_json(tmp_path, "--timeout", "3", str(app))
    outcome = report["outcome"]
    assert outcome["status"] == "timeout", outcome
    assert "never released the interpreter lock" not in outcome["message"], outcome
    assert "app.py:" in outcome["message"], outcome  # the stuck stack, from the live thread
    assert "PK301" in {f["code"] for f in report["findings"]}
    assert leftover_tempdirs(tmp_path) == []
