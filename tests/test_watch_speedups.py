"""The watch's C tracer and its pure-Python fallback find the same stalls.

Both run the same program in a fresh interpreter (``PATCHKIT_NO_SPEEDUPS=1`` forces the Python
tracer): real stalls measured by the real hub, each one timed inside its greenlet too. Only
bounds that hold on a loaded machine are asserted: every stall at least the threshold and at
least what the greenlet itself measured, never much more.
"""

from __future__ import annotations

import pytest

from tests.helpers import clean_env, json_from_stdout, run_python

PROGRAM = """
import json, time
import gevent, greenlet
import patchkit

measured = {}

def timed(name, work):
    t0 = time.perf_counter()
    work()
    measured[name] = time.perf_counter() - t0

def sleeper():
    timed("sleep", lambda: time.sleep(0.3))  # SLEEP LINE (gevent does not patch it here)

def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:  # BUSY LINE
        pass

def busy():
    timed("busy", lambda: spin(0.3))

def hands_over():
    # A switch between two greenlets while one holds the hub: the tracer's slow path.
    timed("raw", lambda: greenlet.greenlet(lambda: spin(0.3)).switch())  # RAW LINE

with patchkit.watch(0.1) as w:
    for work in (sleeper, busy, hands_over):
        gevent.spawn(work).join()
        gevent.sleep(0.05)
print(json.dumps({
    "accelerated": w.accelerated,
    "measured": measured,
    "stalls": [[s.duration, s.greenlet, s.line] for s in w.stalls],
    "findings": sorted((f.code, f.line) for f in w.findings()),
}))
"""


def line_of(marker: str) -> int:
    return next(n for n, text in enumerate(PROGRAM.splitlines(), 1) if marker in text)


def run(python_only: bool) -> dict:
    env = clean_env(PATCHKIT_NO_SPEEDUPS="1") if python_only else clean_env()
    return json_from_stdout(run_python(PROGRAM, env=env))


@pytest.fixture(scope="module")
def both() -> tuple[dict, dict]:
    return run(python_only=False), run(python_only=True)


def test_c_tracer_is_built_and_used_unless_turned_off(both: tuple[dict, dict]) -> None:
    c, python = both
    assert c["accelerated"] is True, (
        "patchkit/detect/_switchtimer.c was not built (pip install -e .)"
    )
    assert python["accelerated"] is False


def test_c_and_python_tracers_report_the_same_real_stalls(both: tuple[dict, dict]) -> None:
    # The raw switch's spin is one stall of the greenlet that switched (its run goes on).
    lines = [line_of("# SLEEP LINE"), line_of("# BUSY LINE"), line_of("# BUSY LINE")]
    found = []
    for data in both:
        stalls = data["stalls"]
        assert [line for _, _, line in stalls] == lines, data
        for (duration, _, _), name in zip(stalls, ("sleep", "busy", "raw"), strict=True):
            assert duration >= 0.1, data
            assert duration >= data["measured"][name] - 0.005, data
            assert duration <= data["measured"][name] * 1.5 + 0.1, data
        found.append(([(label, line) for _, label, line in stalls], data["findings"]))
    assert found[0] == found[1]
