"""Benchmark: ``audit --static`` against the floor, ``ast.parse`` of the same files.

The entry is tests/apps/static_flask.py (Flask + SQLAlchemy + requests + redis, patched late).
The floor is what any static reader must pay: ``python -c "import ast; [ast.parse(open(f).read())
for f in FILES]"`` over the files of its import closure. The goal is the audit within 1.5x of it;
a warm run reads facts cached by file hash, a cold one (empty cache) parses every file.

    python tools/bench/static.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from _floor import timed  # noqa: E402  -- tools/bench is sys.path[0]

from patchkit.detect.closure import Walk  # noqa: E402
from patchkit.detect.factcache import FactCache  # noqa: E402

ENTRY = ROOT / "tests" / "apps" / "static_flask.py"
FLOOR = "import ast, sys; [ast.parse(open(f).read()) for f in sys.argv[1:]]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args(argv)
    closure = Walk(FactCache(enabled=False)).closure(str(ENTRY))
    files = [m.path for m in closure.modules.values() if m.facts is not None]
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PATCHKIT_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        audit = [sys.executable, "-m", "patchkit", "audit", "--static", str(ENTRY)]
        floor = [sys.executable, "-c", FLOOR, *files]

        def run(cmd: list[str], fresh: bool = False) -> None:
            if fresh:
                for name in os.listdir(cache):
                    os.unlink(os.path.join(cache, name))
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=False)

        floor_s = statistics.median(timed(lambda: run(floor), options.runs))
        cold_s = statistics.median(timed(lambda: run(audit, fresh=True), options.runs))
        run(audit)
        warm_s = statistics.median(timed(lambda: run(audit), options.runs))
    print(f"closure: {len(closure.modules)} modules, {len(files)} source files")
    print(f"floor (ast.parse, one process): {floor_s:.2f} s")
    print(f"audit --static, cold cache:     {cold_s:.2f} s  ratio {cold_s / floor_s:.2f}x")
    print(f"audit --static, warm cache:     {warm_s:.2f} s  ratio {warm_s / floor_s:.2f}x")
    print("goal: <= 1.5x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
