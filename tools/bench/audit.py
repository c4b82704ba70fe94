"""Wall time of ``patchkit audit examples/leaky_app.py`` next to ``python examples/leaky_app.py``.

The audit adds a child interpreter, the detectors, the module scan and the report; the goal is
at most the program's own time plus 0.5 s. Runs are interleaved; prints the medians.

    python tools/bench/audit.py [--runs 5] [SCRIPT]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def timed(cmd: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEVENT_", "PATCHKIT_"))}
    started = time.perf_counter()
    subprocess.run(
        cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - started


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("script", nargs="?", default="examples/leaky_app.py")
    args = p.parse_args()
    plain_cmd = [sys.executable, args.script]
    audit_cmd = [sys.executable, "-m", "patchkit", "audit", "--format", "json", args.script]
    plain, audited = [], []
    for _ in range(args.runs):
        plain.append(timed(plain_cmd))
        audited.append(timed(audit_cmd))
    own, total = statistics.median(plain), statistics.median(audited)
    print(f"python {args.script}:                 {own:.2f} s (median of {args.runs})")
    print(f"python -m patchkit audit {args.script}: {total:.2f} s (median of {args.runs})")
    verdict = "within" if total - own <= 0.5 else "OVER"
    print(f"audit overhead: {total - own:+.2f} s ({verdict} the 0.5 s goal)")


if __name__ == "__main__":
    main()
