"""What one greenlet switch costs under each monitoring mode, counted in instructions.

docs/watch.md's "Per switch, counted" table comes from here. Timing a switch on a shared box is
noise; counting the instructions the CPU executes is not. Each mode runs in a child under
``valgrind --tool=callgrind`` twice, with 10 000 and with 30 000 ``gevent.sleep(0)`` in the main
greenlet (each a round trip through the hub: two switches, both seen by any greenlet tracer);
the difference of the two totals divided by 20 000 is the cost of one ``sleep(0)``, and
start-up (interpreter, imports, patching, the mode's own set-up) cancels out.

Modes are ``_modes.py``'s, started the same way as in ``tools/bench/watch.py``: ``none``;
``monitor`` (gevent's monitor thread with its Cython greenlet tracer); ``watch`` (C tracer);
``watch-python`` (pure-Python tracer); ``watch-noprobe``; ``tracer`` (an empty Python
``greenlet.settrace`` lambda); ``tracer-c`` (an empty C tracer, the floor of any ``settrace``
watch).

Which row to read: the monitor thread and the watch's lag probe wake on wall-clock time (the
probe's hub timer every 25 ms, its thread every 50 ms), and under valgrind the program runs ~60x
slower (20 000 ``sleep(0)``: 0.03 s natively, 1.7 s here), so both wake far more often per
``sleep(0)`` than natively, and how often depends on the machine's load. ``watch-noprobe`` has
no hub timer (its watchdog thread still wakes, on its own thread and rarely): it is the
repeatable figure for the watch's per-switch tracer, to
compare with ``tracer-c`` (the floor) and ``monitor``. ``watch`` is the real thing as shipped;
its (small) excess over ``watch-noprobe`` is wake-ups inflated by valgrind, not per-switch work.
``monitor`` carries the same kind of noise (its thread), which is why it moves most between
runs. Whether the watch stays within the monitor + 1 % of a request cannot be read from a
per-switch count (``tools/bench/requestcost.py`` counts per request): this prints the counts and,
per watch mode, its difference to the monitor only.

Slow (two valgrind runs per mode, several minutes in all), so ``make bench`` does not run it:

    python tools/bench/switchcost.py [--modes none,watch,...] [--small 10000] [--large 30000]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys

from _modes import WATCHES, switch_on

MODES = ("none", "monitor", "watch", "watch-python", "watch-noprobe", "tracer", "tracer-c")
# callgrind's summary at exit, e.g. "==123== Collected : 482915612" (all threads together).
COLLECTED = re.compile(r"^==\d+== Collected : (\d+)$", re.MULTILINE)
TIMEOUT_S = 900  # per valgrind run; a normal one takes well under a minute


def start_mode(mode: str, threshold: float = 0.1) -> None:
    """Start ``mode`` in this (patched) process, for the rest of its life."""
    switch_on(mode, threshold)


def child(mode: str, iterations: int) -> None:
    """Patch, start ``mode``, then ``iterations`` x ``gevent.sleep(0)`` in the main greenlet."""
    from gevent import monkey

    monkey.patch_all()
    import gevent

    start_mode(mode)
    gevent.sleep(0)  # the hub (and the monitor thread, the probe) start here, in the constant
    for _ in range(iterations):
        gevent.sleep(0)


def child_env() -> dict[str, str]:
    """The environment a counted child runs with: no monitoring switched on from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEVENT_", "PATCHKIT_"))}
    env["PYTHONWARNINGS"] = "ignore"
    return env


def under_callgrind(args: list[str]) -> list[str]:
    return ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *args]


def collected(what: str, returncode: int, stderr: str) -> int:
    """The instruction total callgrind printed at exit, all threads together."""
    found = COLLECTED.findall(stderr)
    if returncode != 0 or len(found) != 1:
        tail = "\n".join(stderr.splitlines()[-15:])
        raise SystemExit(f"{what}: valgrind exited {returncode}\n{tail}")
    return int(found[0])


def count(mode: str, iterations: int) -> int:
    """Instructions the child executed in all, all threads, under callgrind."""
    command = under_callgrind([sys.executable, __file__, "--child", mode, str(iterations)])
    run = subprocess.run(
        command, capture_output=True, text=True, env=child_env(), timeout=TIMEOUT_S
    )
    return collected(f"{mode} x {iterations}", run.returncode, run.stderr)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--modes", default=",".join(MODES), help="comma-separated, from: %(default)s")
    p.add_argument("--small", type=int, default=10_000, help="sleep(0) count of the short run")
    p.add_argument("--large", type=int, default=30_000, help="sleep(0) count of the long run")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args.child[0], int(args.child[1]))
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown or args.large <= args.small:
        p.error(f"unknown modes {sorted(unknown)}" if unknown else "--large must exceed --small")
    if shutil.which("valgrind") is None:
        sys.exit("valgrind not found (Debian: apt-get install valgrind)")
    print(f"instructions per gevent.sleep(0) (two switches): callgrind, ({args.large} - ", end="")
    print(f"{args.small} iterations) / {args.large - args.small}\n", flush=True)
    per: dict[str, float] = {}
    for mode in modes:
        small, large = count(mode, args.small), count(mode, args.large)
        per[mode] = (large - small) / (args.large - args.small)
        over = f"{per[mode] - per['none']:+8.0f}" if "none" in per and mode != "none" else ""
        print(f"{mode:13} {per[mode]:8.0f}  over none {over or '       -'}", flush=True)
    if "monitor" in per:
        versus = [f"{m} - monitor: {per[m] - per['monitor']:+.0f}" for m in WATCHES if m in per]
        print("\n" + "; ".join(versus))


if __name__ == "__main__":
    main()
