"""The twin: the pool thread runs work that releases the GIL, so the hub keeps running."""

from gevent import monkey

monkey.patch_all()

import hashlib  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from lag_harness import emit, run  # noqa: E402

real_sleep = monkey.get_original("time", "sleep")


def release_gil():
    t0 = time.perf_counter()
    real_sleep(0.3)
    hashlib.pbkdf2_hmac("sha256", b"pw", b"salt", 200_000)
    return time.perf_counter() - t0


def work():
    return gevent.get_hub().threadpool.apply(release_gil)


emit(run(work)[1])
