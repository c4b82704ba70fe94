"""Benchmark: ``patchkit.scan()`` against the floor, a bare identity walk over every module.

requests, redis and urllib3 are imported before ``patch_all()`` so there is something to find.
The floor is what any detector must pay: one ``id()`` lookup per value of every module's
``__dict__`` in ``sys.modules``. The goal is ``scan()`` within 3x of it.

    python tools/bench/scan.py [--runs 31]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

warnings.simplefilter("ignore")  # gevent's MonkeyPatchWarning is the point of the exercise

import redis  # noqa: E402,F401
import requests  # noqa: E402,F401
import urllib3  # noqa: E402,F401
from _floor import floor, saved_ids, timed  # noqa: E402  -- tools/bench is sys.path[0]
from gevent import monkey  # noqa: E402

import patchkit  # noqa: E402  -- before patch_all(), so the ledger sees it
import patchkit.detect.scan  # noqa: E402

monkey.patch_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    options = parser.parse_args(argv)
    targets = saved_ids()
    start = time.perf_counter()
    report = patchkit.scan()
    first_ms = (time.perf_counter() - start) * 1000
    scan_times = timed(patchkit.scan, options.runs)
    floor_times = timed(lambda: floor(targets), options.runs)
    scan_ms = statistics.median(scan_times) * 1000
    floor_ms = statistics.median(floor_times) * 1000
    print(f"modules loaded: {len(sys.modules)}; findings: {len(report.findings)}")
    print(f"floor (identity walk) median: {floor_ms:.2f} ms")
    print(f"scan() first run:             {first_ms:.2f} ms (no type or class verdicts cached)")
    print(f"scan() median:                {scan_ms:.2f} ms")
    print(f"ratio: {scan_ms / floor_ms:.1f}x (goal <= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
