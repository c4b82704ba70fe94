"""Cost of ``patchkit.apply("full")`` against gevent's own ``patch_all()``, in fresh interpreters.

Each sample is one whole interpreter (start-up, imports, patching), because that is what a user
pays. The two commands alternate so machine-load drift hits both alike; the result is the ratio
of the medians. Goal: at most 1.10.

    python tools/bench/apply.py [-n 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "gevent patch_all()": "from gevent import monkey; monkey.patch_all()",
    'patchkit.apply("full")': 'import patchkit; patchkit.apply("full")',
}
GOAL = 1.10


def sample(code: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PATCHKIT_", "GEVENT_"))}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30, help="samples per command (default 30)")
    options = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for name, code in COMMANDS.items():
        sample(code)  # warm the file cache and bytecode
        times[name].clear()
    for _ in range(options.n):
        for name, code in COMMANDS.items():
            times[name].append(sample(code))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"{name:<24} median {median * 1000:7.1f} ms  (n={options.n})")
    baseline, ours = medians.values()
    ratio = ours / baseline
    print(f"ratio of medians         {ratio:.3f}  (goal <= {GOAL:.2f})")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
