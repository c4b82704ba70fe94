"""Precision where libraries are involved, through `patchkit audit` (issue: detector on real apps).

- findings inside installed packages imported before patching fold into one at the user's import;
- a name bound on purpose with get_original and called only from real threads is not a finding,
  while a greenlet calling it on the hub still gets PK301 at its line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import HUB_GAP, run_patchkit, write

pytest.importorskip("requests")

BACKGROUND = """
from gevent.monkey import get_original

thread_sleep = get_original("time", "sleep")
start_thread = get_original("_thread", "start_new_thread")
calls = []


def _loop():
    for _ in range(5):
        thread_sleep(0.02)
        calls.append(1)


def start():
    start_thread(_loop, ())
"""


def _audit(app: Path) -> dict:
    proc = run_patchkit("audit", "--format", "json", str(app), cwd=app.parent)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def test_installed_packages_imported_early_are_one_finding_at_the_users_import(
    tmp_path: Path,
) -> None:
    app = write(
        tmp_path / "app.py",
        """
        import requests
        import gevent.monkey
        gevent.monkey.patch_all()
        """,
    )
    report = _audit(app)
    stale = [f for f in report["findings"] if f["code"] in ("PK102", "PK103", "PK104", "PK105")]
    assert stale, report["findings"]
    assert all("site-packages" not in (f["file"] or "") for f in stale), stale
    (grouped,) = [f for f in stale if f["line"] == 1]
    assert grouped["file"] == str(app)
    assert grouped["detail"]["imported_at"] == f"{app}:1"
    members = grouped["detail"]["grouped"]
    assert members and all("site-packages" in m["file"] for m in members)
    assert {m["module"].partition(".")[0] for m in members} == {"urllib3"}


def test_get_original_called_only_from_real_threads_is_not_reported(tmp_path: Path) -> None:
    write(tmp_path / "bg.py", BACKGROUND)
    app = write(
        tmp_path / "app.py",
        """
        import gevent.monkey
        gevent.monkey.patch_all()
        import gevent
        import bg
        bg.start()
        gevent.sleep(0.3)
        assert len(bg.calls) == 5, bg.calls
        """,
    )
    report = _audit(app)
    assert report["outcome"]["status"] == "completed"
    assert report["findings"] == []


def test_get_original_called_on_the_hub_is_reported_at_the_call(tmp_path: Path) -> None:
    write(tmp_path / "bg.py", BACKGROUND)
    app = write(
        tmp_path / "app.py",
        HUB_GAP
        + """
import gevent.monkey
gevent.monkey.patch_all()
import bg
result = hub_gap(bg.thread_sleep, 0.3)
assert result["gap"] >= 0.25, result
""",
    )
    report = _audit(app)
    assert report["outcome"]["status"] == "completed", report["outcome"]
    codes = {f["code"] for f in report["findings"]}
    assert "PK102" not in codes
    assert "PK301" in codes, report["findings"]


def test_a_librarys_prepatch_bookkeeping_lock_is_not_reported(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    app = write(
        tmp_path / "app.py",
        HUB_GAP
        + """
import sqlalchemy.util  # before patching: sqlalchemy's symbol._lock is a real lock
import gevent.monkey
gevent.monkey.patch_all()
import gevent

def make_symbols():  # every symbol() takes symbol._lock; greenlets contend for it
    gevent.joinall([gevent.spawn(sqlalchemy.util.symbol, f"s{i}") for i in range(200)])

result = hub_gap(make_symbols)
assert result["error"] is None and result["gap"] < 0.1, result
""",
    )
    report = _audit(app)
    assert report["outcome"]["status"] == "completed", report["outcome"]
    pk105 = [f for f in report["findings"] if f["code"] == "PK105"]
    assert pk105 == [], pk105


def test_the_users_own_prepatch_lock_is_still_reported(tmp_path: Path) -> None:
    write(tmp_path / "stats.py", "import threading\nLOCK = threading.Lock()\n")
    app = write(
        tmp_path / "app.py",
        """
        import stats
        import gevent.monkey
        gevent.monkey.patch_all()
        """,
    )
    report = _audit(app)
    objects = [f["object"] for f in report["findings"] if f["code"] == "PK105"]
    assert objects == ["threading.Lock"], report["findings"]
