"""tools/bench/watch.py: the statistics behind its verdicts, and one short real run of every mode.

The benchmark's figures are not asserted (speed is not a unit test); what is asserted is that its
arithmetic is right and that every mode really switches on and off inside a serving process.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "tools" / "bench"


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module("watch")


def test_median_interval_takes_the_binomial_ranks(bench):
    # n = 100: the 95 % ranks are 50 -/+ 1.96 * sqrt(100) / 2 = 40.2 .. 59.8, widened to 40 .. 60.
    median, low, high = bench.median_interval([float(v) for v in reversed(range(100))])
    assert (median, low, high) == (49.5, 40.0, 60.0)


def test_median_interval_narrows_with_more_cycles(bench):
    def width(n: int) -> float:
        values = [float(v % 10) for v in range(n)]  # the same spread, more of it
        _, low, high = bench.median_interval(values)
        return high - low

    assert width(40) > width(4000)
    assert bench.median_interval([3.0] * 7) == (3.0, 3.0, 3.0)


def test_changes_pairs_each_cycle_with_its_own_baseline(bench):
    rows = [
        # (requests, seconds, CPU seconds, start): 10 000 req/s and 100 us a request as baseline
        {"none": [1000, 0.1, 0.1, 0.0], "watch": [980, 0.1, 0.1, 0.2]},
        # a slower cycle: the machine drifted, the mode's loss against it is the same 2 %
        {"none": [500, 0.1, 0.05, 1.0], "watch": [490, 0.1, 0.05, 1.2]},
    ]
    lost, added = bench.changes(rows, "watch")
    assert lost == pytest.approx([2.0, 2.0])
    assert added == pytest.approx([100 / 98 * 100 - 100] * 2)  # same CPU over 2 % fewer requests


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(0.5, 1.9, "met"), (0.5, 2.0, "met"), (2.1, 3.0, "NOT met"), (1.5, 2.5, "unresolved")],
)
def test_verdict_needs_the_whole_interval_on_one_side(bench, low, high, expected):
    assert bench.verdict(low, high, 2.0) == expected


def test_every_mode_switches_on_and_off_in_a_serving_process(bench, tmp_path):
    modes = importlib.import_module("_modes").MODES
    saved = tmp_path / "windows.json"
    run = subprocess.run(
        [sys.executable, str(BENCH / "watch.py"), "--modes", ",".join(modes), "--cycles", "5"]
        + ["--window", "0.05", "--settle", "0.01", "--clients", "5", "--save", str(saved)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    cycles = json.loads(saved.read_text())["cycles"]
    assert len(cycles) == 5
    for row in cycles:
        assert set(row) == set(modes)
        assert all(window[0] > 0 for window in row.values())  # every mode served requests
    for mode in modes:
        assert any(line.startswith(f"{mode} ") for line in run.stdout.splitlines()), mode
    assert "watch          loss <= 2 %:" in run.stdout
