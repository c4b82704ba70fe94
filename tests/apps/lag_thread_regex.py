"""The same regex in a plain threading.Thread (not patched: a real OS thread) next to the hub.

``monkey.get_original("threading", "Thread")`` would not do: after patching, the original class
starts its thread through the patched ``threading._start_new_thread``, i.e. as a greenlet.
"""

import re
import threading
import time

import gevent
from lag_harness import backtracking_length, emit, run

N = backtracking_length(0.3)
result = []


def match_in_thread():
    t0 = time.perf_counter()
    re.match(r"(a+)+$", "a" * N + "b")  # REGEX LINE
    result.append(time.perf_counter() - t0)
    # Stay alive a moment, as a worker waiting for its next task would: a thread that ends at once
    # can be gone before anything gets the GIL to look (docs/stall-kinds.md, Limits).
    time.sleep(0.3)


def work():
    threading.Thread(target=match_in_thread, name="regex-worker", daemon=True).start()
    while not result:
        gevent.sleep(0.01)
    return result[0]


emit(run(work)[1])
