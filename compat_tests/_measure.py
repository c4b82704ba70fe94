"""One measurement, inside the probe process: N concurrent waits in greenlets and a heartbeat.

The verdict rules (documented in docs/compat-matrix.md):
- **cooperative**: the N waits, started STAGGER_S apart, overlap (``factor`` = the N waits
  together, less the staggering, / one wait alone is below ``COOPERATIVE_FACTOR``) and the
  heartbeat greenlet never went longer than ``MAX_GAP_S`` without running;
- **blocks**: every wait succeeded but they serialised or the heartbeat stalled;
- **broken**: a wait raised (gevent's ``LoopExit`` included) or did not finish in ``HANG_S``;
  a probe whose hub never comes back is killed by the suite and recorded as broken too.

The thresholds are deliberately far from both outcomes so a loaded 2-core machine does not
flip them: cooperative runs measure a factor of ~1.0-1.5 and gaps of a few ms, blocking runs
a factor near N and gaps of at least one wait (0.2 s).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from compat_tests import N_WAITS, WAIT_S

COOPERATIVE_FACTOR = N_WAITS / 3
MAX_GAP_S = 0.15
HANG_S = 10.0
TICK_S = 0.005
STAGGER_S = 0.005


class Heartbeat:
    """A greenlet that ticks every TICK_S; the longest gap is how long the hub was held."""

    def __init__(self) -> None:
        import gevent

        self._gevent = gevent
        self.max_gap = 0.0
        self._running = True
        self._greenlet = gevent.spawn(self._beat)

    def _beat(self) -> None:
        last = time.perf_counter()
        while self._running:
            self._gevent.sleep(TICK_S)
            now = time.perf_counter()
            self.max_gap = max(self.max_gap, now - last)
            last = now

    def stop(self) -> float:
        self._running = False
        self._greenlet.join(timeout=1)
        return self.max_gap


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _yield_tracker(wait: Callable[[int], Any]) -> tuple[Callable[[int], bool], Callable[[], None]]:
    """Wrap ``wait`` to return whether its greenlet switched into the hub during the call."""
    import greenlet
    from gevent import get_hub

    hub = get_hub()
    switches: dict[Any, int] = {}

    def trace(event: str, args: tuple[Any, Any]) -> None:
        if event in ("switch", "throw") and args[1] is hub:
            switches[args[0]] = switches.get(args[0], 0) + 1

    def tracked(i: int) -> bool:
        me = greenlet.getcurrent()
        before = switches.get(me, 0)
        wait(i)
        return switches.get(me, 0) > before

    previous = greenlet.settrace(trace)
    return tracked, lambda: greenlet.settrace(previous)


def _freeze_heap() -> None:
    """Move what setup allocated out of the collector's reach before anything is timed.

    A library that imports a lot (boto3, sentry-sdk, Django) leaves ~100k objects; a full
    collection of them during the measurement held the hub for 0.10-0.16 s on a loaded machine
    and read as a stall the library did not cause.
    """
    import gc

    gc.collect()
    gc.freeze()


def _run_concurrently(wait: Callable[[int], Any]) -> tuple[float, float, list[Any]]:
    import gevent

    heartbeat = Heartbeat()
    gevent.sleep(0.05)  # let the heartbeat settle before the clock starts
    start = time.perf_counter()
    # Starts 5 ms apart, like requests arriving: ten CPU-bound starts (fork, TLS handshakes)
    # in one loop turn would otherwise show as a hub stall although no wait blocks.
    greenlets = [gevent.spawn_later(i * STAGGER_S, wait, i) for i in range(N_WAITS)]
    gevent.joinall(greenlets, timeout=HANG_S)
    elapsed = time.perf_counter() - start
    max_gap = heartbeat.stop()
    return elapsed, max_gap, greenlets


def _timed(wait: Callable[[int], Any]) -> float:
    start = time.perf_counter()
    wait(0)
    return time.perf_counter() - start


def measure(wait: Callable[[int], Any], what: str, mode: str = "timing") -> dict[str, Any]:
    """Time one wait alone, then N at once; return outcome, factor, max_stall_s and detail."""
    _freeze_heap()
    if mode == "yield":
        return _measure_yield(wait, what)
    alone = min(_timed(wait), _timed(wait))  # the first one also warms caches and pools
    elapsed, max_gap, greenlets = _run_concurrently(wait)
    failed = [g for g in greenlets if g.dead and not g.successful()]
    unfinished = [g for g in greenlets if not g.dead]
    # The staggered starts are not waiting: without them, ten overlapping waits make a factor of 1.
    factor = (elapsed - (N_WAITS - 1) * STAGGER_S) / max(alone, WAIT_S / 2)
    detail = (
        f"{N_WAITS} x {what} together took {elapsed:.2f} s, one alone {alone:.2f} s; "
        f"heartbeat's longest gap {max_gap:.3f} s"
    )
    if failed or unfinished:
        why = describe(failed[0].exception) if failed else f"did not finish in {HANG_S:.0f} s"
        return _result("broken", None, max_gap, f"{len(failed) + len(unfinished)}/{N_WAITS} "
                       f"waits failed ({why}); {detail}")  # fmt: skip
    cooperative = factor < COOPERATIVE_FACTOR and max_gap < MAX_GAP_S
    return _result("cooperative" if cooperative else "blocks", factor, max_gap, detail)


def _measure_yield(wait: Callable[[int], Any], what: str) -> dict[str, Any]:
    """For calls too fast to time (resolving localhost): does each call yield to the hub?

    A call that hands its wait to the hub (gevent's resolver runs it in a thread pool) switches
    into the hub at least once; one that does not would hold the hub for as long as a slow DNS
    server takes to answer.
    """
    wait(0)
    tracked, stop = _yield_tracker(wait)
    try:
        elapsed, max_gap, greenlets = _run_concurrently(tracked)
    finally:
        stop()
    failed = [g for g in greenlets if not (g.dead and g.successful())]
    yielded = sum(1 for g in greenlets if g.dead and g.successful() and g.value)
    detail = (
        f"{N_WAITS} x {what} took {elapsed:.3f} s; {yielded}/{N_WAITS} calls yielded to the hub "
        "while they waited"
    )
    if failed:
        why = describe(failed[0].exception) if failed[0].dead else "did not finish"
        return _result("broken", None, max_gap, f"{why}; {detail}")
    outcome = "cooperative" if yielded == N_WAITS and max_gap < MAX_GAP_S else "blocks"
    return _result(outcome, None, max_gap, detail)


def _result(outcome: str, factor: float | None, max_gap: float, detail: str) -> dict[str, Any]:
    return {
        "outcome": outcome,
        "factor": None if factor is None else round(factor, 2),
        "max_stall_s": round(max_gap, 3),
        "detail": detail,
    }
