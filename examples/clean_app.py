"""The leaky app's service done right: patch first, look blocking functions up at call time."""

import patchkit.auto  # noqa: F401  -- first line: applies the configured profile (default: full)

import time  # noqa: E402

import gevent  # noqa: E402
from gevent.lock import Semaphore  # noqa: E402

STATS_LOCK = Semaphore()


def handle(request_id: int) -> str:
    with STATS_LOCK:
        pass
    time.sleep(0.05)  # patched: yields to the other requests
    return "ok"


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
