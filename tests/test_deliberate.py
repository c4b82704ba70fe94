"""A name bound on purpose with gevent.monkey.get_original is not a stale-original finding."""

from __future__ import annotations

from pathlib import Path

from patchkit.detect.deliberate import without_deliberate
from patchkit.findings import Finding

SOURCE = """\
from gevent.monkey import get_original
import gevent.monkey
from time import sleep

thread_sleep = get_original("time", "sleep")
wrapped = (
    gevent.monkey.get_original(
        "time", "sleep")
)


def worker(pause=get_original("time", "sleep")):
    return pause


def body_only():
    return get_original("time", "sleep")
"""


def _pk(code: str, path: Path, line: int) -> Finding:
    return Finding(code, "stale", module="bg", file=str(path), line=line, object="time.sleep")


def test_bindings_made_with_get_original_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bg.py"
    path.write_text(SOURCE)
    assignment, multiline, default = (
        _pk("PK102", path, 5),
        _pk("PK102", path, 6),
        _pk("PK103", path, 12),
    )
    assert without_deliberate([assignment, multiline, default]) == []


def test_an_ordinary_stale_binding_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "bg.py"
    path.write_text(SOURCE)
    stale = _pk("PK102", path, 3)  # from time import sleep
    in_body = _pk("PK103", path, 16)  # the def line of a function that only calls it inside
    assert without_deliberate([stale, in_body]) == [stale, in_body]


def test_other_codes_and_unreadable_files_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "bg.py"
    path.write_text(SOURCE)
    runtime = Finding("PK301", "called on the hub", file=str(path), line=5)
    missing = _pk("PK102", tmp_path / "gone.py", 5)
    assert without_deliberate([runtime, missing]) == [runtime, missing]
