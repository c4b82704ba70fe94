"""A backtracking regex moved to gevent's threadpool: its thread holds the GIL, the hub stops."""

from gevent import monkey

monkey.patch_all()

import re  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from lag_harness import backtracking_length, emit, run  # noqa: E402

N = backtracking_length(0.3)


def match_in_pool():
    t0 = time.perf_counter()
    re.match(r"(a+)+$", "a" * N + "b")  # REGEX LINE
    return time.perf_counter() - t0


def work():
    return gevent.get_hub().threadpool.apply(match_in_pool)


emit(run(work)[1])
