"""Shared by the lag_* apps: a heartbeat greenlet, the loop-lag probe, one JSON line out."""

import json
import re
import sys
import time

import gevent

from patchkit.detect.lag import LagProbe, cause, lag_findings

THRESHOLD = 0.1


def backtracking_length(target_s):
    # Calibrated here, in CPU time (a loaded machine stretches wall time, not CPU time): each
    # extra "a" doubles the time, so this lands between target and twice it.
    n = 16
    while True:
        t0 = time.thread_time()
        re.match(r"(a+)+$", "a" * n + "b")
        if time.thread_time() - t0 >= target_s:
            return n
        n += 1


def run(work, *extra_watches):
    """Run ``work()`` in a greenlet with the probe on; print the heartbeat gap and the stalls."""
    ticks = []

    def beat():
        while True:
            ticks.append(time.perf_counter())
            gevent.sleep(0.01)

    probe = LagProbe(THRESHOLD).start()
    for w in extra_watches:
        w.start()
    started = time.perf_counter()
    b = gevent.spawn(beat)
    gevent.sleep(0.1)
    measured = gevent.spawn(work).get(timeout=30)
    gevent.sleep(0.1)
    b.kill()
    for w in extra_watches:
        w.stop()
    probe.stop()
    elapsed = time.perf_counter() - started
    stalls = probe.stalls
    out = {
        "gap": max(y - x for x, y in zip(ticks, ticks[1:], strict=False)),
        "measured": measured,
        "elapsed": elapsed,
        "interval": probe.interval,
        "wake_every": probe.wake_every,
        "ticks": probe.ticks,
        "wakeups": probe.wakeups,
        "looks": probe.looks,
        "stalls": [
            {
                "duration": s.duration,
                "kind": s.kind,
                "cause": cause(s),
                "thread": s.thread,
                "cpu": s.cpu,
                "stack": [f"{f}:{ln} in {fn}" for f, ln, fn in s.entries],
            }
            for s in stalls
        ],
        "findings": [f.as_dict() for f in lag_findings(stalls, THRESHOLD)],
    }
    return probe, out


def emit(out):
    sys.stdout.write(json.dumps(out) + "\n")
