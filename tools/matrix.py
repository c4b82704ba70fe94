"""Measure the compatibility matrix: the compat suite once per profile, then render docs/.

    python tools/matrix.py                  # all four profiles, 2 at a time, write docs/
    python tools/matrix.py --jobs 1         # one profile at a time
    python tools/matrix.py --render-only --results .tox/compat-results   # re-render only

Each profile runs ``python -m patchkit run --profile P -m pytest compat_tests`` in its own
process with PATCHKIT_COMPAT_RESULTS pointing at compat-results/P.jsonl. Exit status: 0 when
every run passed (all cells as expected), 1 otherwise; docs/ is written either way.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.matrix_html import render_html  # noqa: E402
from tools.matrix_render import (  # noqa: E402
    PROFILES,
    build_document,
    compare,
    counts,
    load_results,
    render_json,
    render_markdown,
)


def run_profile(profile: str, python: str, results: Path) -> tuple[str, int, float]:
    """Run the suite under ``profile``; return (profile, pytest exit status, seconds)."""
    out = results / f"{profile}.jsonl"
    out.unlink(missing_ok=True)
    env = dict(os.environ, PATCHKIT_COMPAT_RESULTS=str(out), PATCHKIT_COMPAT_PROFILE=profile)
    cmd = [python, "-m", "patchkit", "run", "--profile", profile, "-m", "pytest", "compat_tests",
           "-q", "-p", "no:cacheprovider"]  # fmt: skip
    start = time.perf_counter()
    with open(results / f"{profile}.log", "w", encoding="utf-8") as log:
        status = subprocess.call(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return profile, status, time.perf_counter() - start


def write_docs(doc: dict, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("compat-matrix.json", render_json(doc)),
        ("compat-matrix.md", render_markdown(doc)),
        ("compat-matrix.html", render_html(doc)),
    ):
        (out_dir / name).write_text(text, encoding="utf-8")
        written.append(out_dir / name)
    return written


def summary(doc: dict, runs: list[tuple[str, int, float]], wall: float | None) -> list[str]:
    lines = []
    for profile, per in counts(doc).items():
        lines.append(f"{profile:<9} " + ", ".join(f"{n} {o}" for o, n in per.items()))
    for profile, status, seconds in runs:
        verdict = "passed" if status == 0 else f"FAILED (pytest exit {status})"
        lines.append(f"{profile:<9} {seconds:6.1f} s  {verdict}")
    if wall is not None:
        lines.append(f"wall time {wall:.1f} s")
    lines.extend(f"MISMATCH {m}" for m in compare(doc))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default=",".join(PROFILES))
    parser.add_argument("--jobs", type=int, default=2, help="profiles measured at once")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--results", type=Path, default=ROOT / "compat-results")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args(argv)
    profiles = [p for p in args.profiles.split(",") if p]
    args.results.mkdir(parents=True, exist_ok=True)
    runs: list[tuple[str, int, float]] = []
    wall = None
    if not args.render_only:
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            runs = list(pool.map(lambda p: run_profile(p, args.python, args.results), profiles))
        wall = time.perf_counter() - start
    if args.render_only:  # whatever the runs left there: P.jsonl here, py312-P.jsonl from tox
        files = sorted(args.results.glob("*.jsonl"))
    else:
        files = [args.results / f"{p}.jsonl" for p in profiles]
    doc = build_document(load_results(f for f in files if f.exists()))
    if not doc["cells"]:
        print(f"no results in {args.results}", file=sys.stderr)
        return 1
    for path in write_docs(doc, args.out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print("\n".join(summary(doc, runs, wall)))
    return 0 if all(status == 0 for _, status, _ in runs) and not compare(doc) else 1


if __name__ == "__main__":
    sys.exit(main())
