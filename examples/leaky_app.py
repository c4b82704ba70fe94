"""A small gevent service with the classic monkey-patching mistakes.

Run it with ``python -m patchkit audit examples/leaky_app.py`` to see each one reported with
the line to fix; ``examples/clean_app.py`` is the same service done right.
"""

import threading
import time
from time import sleep  # bound before patching: stays the blocking original

import retry  # imported before patching, and it binds ``sleep`` too

STATS_LOCK = threading.Lock()  # a real OS lock, made before patching

from gevent import monkey  # noqa: E402  -- too late: everything above is already loaded

monkey.patch_all()

import gevent  # noqa: E402


class Flaky:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls < 2:
            raise ConnectionError("backend not ready")
        return "ok"


def handle(request_id: int) -> str:
    with STATS_LOCK:
        pass
    sleep(0.05)  # meant to let other requests run; blocks every greenlet instead
    return retry.with_retries(Flaky())


def heartbeat(ticks: list[float]) -> None:
    while True:
        ticks.append(time.perf_counter())
        gevent.sleep(0.01)


def main() -> None:
    ticks: list[float] = []
    beat = gevent.spawn(heartbeat, ticks)
    jobs = [gevent.spawn(handle, n) for n in range(4)]
    gevent.joinall(jobs)
    beat.kill()
    ticks.append(time.perf_counter())
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    print(f"served {len(jobs)} requests; longest heartbeat gap {max(gaps, default=0):.2f} s")


if __name__ == "__main__":
    main()
