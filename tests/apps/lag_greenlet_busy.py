"""A greenlet that loops in Python for 0.3 s without yielding: the greenlet kind, like the watch."""

import time

import gevent  # noqa: F401
from lag_harness import emit, run

import patchkit
from patchkit.detect.lag import merge


def busy():
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 0.3:  # BUSY LINE
        pass
    return time.perf_counter() - t0


watch = patchkit.watch(0.1)
probe, out = run(busy, watch)
kept_watch, kept_lag = merge(watch.stalls, probe.stalls)
out["watch"] = [s.duration for s in watch.stalls]
out["merged"] = {"watch": len(kept_watch), "lag": len(kept_lag)}
emit(out)
