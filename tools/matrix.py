"""Measure the compatibility matrix for each Python x gevent combination, then render docs/.

    python tools/matrix.py                         # every Python 3.10-3.13 found x 2 gevents
    python tools/matrix.py --pythons 3.12 --gevents 26.9.0         # one combination
    python tools/matrix.py --gevents auto          # the gevent pair picked from PyPI's dates
    python tools/matrix.py --render-only --results compat-results   # re-render (merges any DIR
                                                                    # tree, darwin artifacts too)

Each combination gets its own venv (tools/matrix_venvs.py) and results directory,
``compat-results/py312-gevent26.9.0/P.jsonl`` (+ ``P.log`` and ``combination.json``, its wall
time). A profile runs ``PATCHKIT_COMPAT_PROFILE=P python -m pytest compat_tests -n W`` with that
venv's python: W pytest-xdist workers measure W libraries at once, and ``--jobs`` profiles run at
once (docs/compat-matrix.md, "How parallel runs are checked"). The pytest processes stay
unpatched in parallel mode: xdist's controller talks to its workers from real threads, which
`nothread`'s patched subprocess turns into LoopExit; every probe applies the profile itself
first, so the measurement is the same. ``--workers 1`` runs ``python -m patchkit run --profile
P -m pytest compat_tests``, as before. A combination whose venv
cannot be built is reported and skipped. Exit status: 0 when every run passed (all cells as
expected), 1 otherwise; docs/ is written either way.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
    load_results,
    render_json,
    render_markdown,
)
from tools.matrix_venvs import (  # noqa: E402
    DEFAULT_GEVENTS,
    MINORS,
    Combination,
    VenvError,
    ensure_venv,
    find_pythons,
    gevents_from_pypi,
)

COMBINATION_FILE = "combination.json"
# 4 profiles x 2 workers = 8 probes at once on 2 cores: most of a probe's life is waiting on a
# server or on a hung probe's 20 s timeout, and docs/compat-matrix.md shows the serial and
# parallel measurements agree at this level.
DEFAULT_JOBS = 4
DEFAULT_WORKERS = 2


def _pytest_summary(log: Path) -> str:
    """pytest's closing line ("30 passed, 1 skipped in 81.20s"), shortened for progress."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no log"
    for line in reversed(lines):
        found = re.search(r"(\d+ (passed|failed|skipped|error|errors)\b.*?) in [\d.]+s", line)
        if found:
            return found.group(1)
    return "no pytest summary (see the log)"


def run_profile(
    profile: str, python: str, results: Path, workers: int
) -> tuple[str, int, float, str]:
    """Run the suite under ``profile``; return (profile, pytest status, seconds, summary)."""
    out = results / f"{profile}.jsonl"
    out.unlink(missing_ok=True)
    env = dict(os.environ, PATCHKIT_COMPAT_RESULTS=str(out), PATCHKIT_COMPAT_PROFILE=profile)
    env.pop("VIRTUAL_ENV", None)
    cmd = [python, "-m", "pytest", "compat_tests", "-q", "-p", "no:cacheprovider"]
    if workers > 1:
        cmd += ["-n", str(workers)]  # unpatched controller: see the module docstring
    else:
        cmd[1:1] = ["-m", "patchkit", "run", "--profile", profile]
    start = time.perf_counter()
    log = results / f"{profile}.log"
    with open(log, "w", encoding="utf-8") as stream:
        status = subprocess.call(cmd, cwd=ROOT, env=env, stdout=stream, stderr=subprocess.STDOUT)
    return profile, status, time.perf_counter() - start, _pytest_summary(log)


class Progress:
    """One line per profile start and end, and per combination: what `make matrix` shows."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0

    def say(self, combo: Combination, text: str) -> None:
        print(f"[py{combo.python} gevent {combo.gevent}] {text} ({self.done}/{self.total} combos)",
              flush=True)  # fmt: skip


def run_combination(
    combo: Combination, profiles: list[str], args: argparse.Namespace, progress: Progress
) -> list[tuple[str, int, float, str]] | None:
    """Build or reuse the venv, run every profile, write combination.json; None when skipped."""
    results = args.results / combo.name
    results.mkdir(parents=True, exist_ok=True)
    progress.say(combo, f"venv {combo.venv.relative_to(ROOT)}")
    start = time.perf_counter()
    try:
        reused, missing = ensure_venv(combo, results / "venv.log")
    except (VenvError, OSError, subprocess.SubprocessError) as exc:
        progress.done += 1
        progress.say(combo, f"SKIPPED: the venv could not be built: {exc}")
        return None
    built = time.perf_counter() - start
    note = f"; not installed: {', '.join(missing)}" if missing else ""
    progress.say(combo, f"venv {'reused' if reused else 'built'} in {built:.0f} s{note}")

    def one(profile: str) -> tuple[str, int, float, str]:
        progress.say(combo, f"{profile}: started")
        run = run_profile(profile, str(combo.venv_python), results, args.workers)
        progress.say(combo, f"{profile}: {run[3]} in {run[2]:.0f} s")
        return run

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        runs = list(pool.map(one, profiles))
    wall = time.perf_counter() - start
    profile_runs = {p: {"status": s, "seconds": round(t, 1)} for p, s, t, _ in runs}
    record = {"python": combo.python, "gevent": combo.gevent, "platform": sys.platform,
              "wall_s": round(wall, 1), "venv_s": round(built, 1), "workers": args.workers,
              "jobs": args.jobs, "profiles": profile_runs}  # fmt: skip
    (results / COMBINATION_FILE).write_text(json.dumps(record, indent=1) + "\n")
    progress.done += 1
    progress.say(combo, f"all profiles in {wall:.0f} s")
    return runs


def load_combinations(results: Path) -> list[dict]:
    """Every combination.json under ``results`` (matrix.py's runs; CI artifacts merged in)."""
    return [json.loads(p.read_text()) for p in sorted(results.rglob(COMBINATION_FILE))]


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


def summary(doc: dict) -> list[str]:
    lines = []
    for combo in doc["combinations"]:
        per = ", ".join(f"{n} {o}" for o, n in combo["counts"].items())
        wall = "-" if combo.get("wall_s") is None else f"{combo['wall_s']:.0f} s"
        lines.append(f"py{combo['python']} gevent {combo['gevent']} {combo['platform']}: "
                     f"{wall}, {per}")  # fmt: skip
    lines.extend(f"MISMATCH {m}" for m in compare(doc))
    return lines


def _combinations(args: argparse.Namespace) -> list[Combination]:
    pythons = find_pythons(args.pythons.split(",") if args.pythons else MINORS)
    if args.pythons:
        for minor in set(args.pythons.split(",")) - set(pythons):
            print(f"[py{minor}] SKIPPED: no python{minor} found (pyenv, PATH)", flush=True)
    gevents = gevents_from_pypi() if args.gevents == "auto" else args.gevents.split(",")
    return [Combination(minor, interpreter, g)
            for minor, interpreter in pythons.items() for g in gevents if g]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pythons", help="minor versions, e.g. 3.12,3.13 (default: all found)")
    parser.add_argument("--gevents", default=",".join(DEFAULT_GEVENTS),
                        help="gevent versions, or `auto` (default: %(default)s)")  # fmt: skip
    parser.add_argument("--profiles", default=",".join(PROFILES))
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help="profiles run at once")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                        help="pytest-xdist workers per profile (1: serial)")  # fmt: skip
    parser.add_argument("--results", type=Path, default=ROOT / "compat-results")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument("--no-render", action="store_true", help="measure only (CI's jobs)")
    args = parser.parse_args(argv)
    profiles = [p for p in args.profiles.split(",") if p]
    args.results.mkdir(parents=True, exist_ok=True)
    ok = True
    if not args.render_only:
        combos = _combinations(args)
        progress = Progress(len(combos))
        for combo in combos:
            runs = run_combination(combo, profiles, args, progress)
            ok = ok and runs is not None and all(run[1] == 0 for run in runs)
        if not combos:
            print("no Python 3.10-3.13 found to measure", file=sys.stderr)
            return 1
    if args.no_render:
        return 0 if ok else 1
    doc = build_document(load_results(args.results.rglob("*.jsonl")),
                         load_combinations(args.results))  # fmt: skip
    if not doc["cells"]:
        print(f"no results in {args.results}", file=sys.stderr)
        return 1
    for path in write_docs(doc, args.out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print("\n".join(summary(doc)))
    return 0 if ok and not compare(doc) else 1


if __name__ == "__main__":
    sys.exit(main())
