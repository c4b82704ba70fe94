"""The loop-lag probe: every hub stall whatever held it, and which kind it was (PK302).

The switch-timing watch (``watch.py``) sees a greenlet that holds the hub. It cannot see the hub
stopped by another thread: a regex moved to ``gevent.get_hub().threadpool`` holds the interpreter
lock (GIL) for its whole C call, no greenlet runs, yet no greenlet "held" the hub. So:

- a repeating timer on the hub's loop notes how late it ran: lateness over the threshold is a stall,
  whatever the cause (the callback runs inside the hub, so it adds no greenlet switch);
- a watchdog on a real OS thread wakes every few ms and reads every thread's CPU clock. When it
  wakes late, someone kept the GIL from it: the thread whose CPU time grew by about the gap is the
  holder, and its stack is read as soon as the watchdog gets the GIL back (the holder gives it up at
  the first bytecode after its C call, so it is still at the caller's line). While the hub is late
  and the GIL is free, it samples the hub thread's stack instead.

The kinds: ``greenlet`` (a greenlet held the hub), ``gil`` (another thread held the GIL), ``hub``
(a callback the hub ran itself), ``unknown`` (no thread of the process ran: the machine or a
debugger stopped it; not reported, since nothing in the program can fix it).
"""

from __future__ import annotations

import sys
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from patchkit import _real
from patchkit._frames import Entry, frame_entries

KINDS = ("greenlet", "gil", "hub", "unknown")
MAX_STALLS = 1000
_HISTORY = 256  # watchdog records kept to attribute hub stalls (a few seconds of busy history)
_thread_cpu = getattr(time, "pthread_getcpuclockid", None)


@dataclass(frozen=True)
class LagStall:
    """One period during which the hub's loop ran late, with what held it."""

    duration: float  # how late the hub's timer ran, seconds
    kind: str  # one of KINDS
    thread: str  # the thread that ran: "the hub's thread" or the GIL holder's name
    entries: tuple[Entry, ...] = ()  # its stack, innermost first
    cpu: float = 0.0  # CPU time that thread used during the stall
    start: float = 0.0  # perf_counter() when the hub last ran before the stall
    end: float = 0.0  # perf_counter() when it ran again

    @property
    def holds_gil(self) -> bool:
        """The work kept the CPU (and so the GIL) rather than waiting in a call that released it."""
        return self.cpu >= 0.5 * self.duration


@dataclass(frozen=True)
class _Gap:
    """The watchdog woke late: someone held the GIL from ``start`` to ``end``."""

    start: float
    end: float
    holder: int
    cpu: float
    entries: tuple[Entry, ...]


class LagProbe:
    """Measures how late the hub's loop runs; start and stop it on the hub's thread."""

    def __init__(self, threshold: float = 0.1, hub: Any = None) -> None:
        self.threshold = float(threshold)
        self.interval = min(max(self.threshold / 4, 0.005), 0.05)
        self._hub = hub
        self._timer: Any = None
        self._active = False
        self._generation = 0
        self._hub_ident = 0
        self._last: float | None = None  # perf_counter() of the hub's last tick
        self._last_cpu = 0.0  # the hub thread's CPU time at that tick
        self._late: list[tuple[float, float, float]] = []  # (start, end, hub thread CPU)
        self._gaps: deque[_Gap] = deque(maxlen=_HISTORY)
        self._samples: deque[tuple[float, tuple[Entry, ...]]] = deque(maxlen=_HISTORY)
        self._seen: deque[tuple[float, dict[int, tuple[Entry, ...]]]] = deque(maxlen=_HISTORY)
        self.ticks = 0  # hub timer callbacks so far
        self.wakeups = 0  # watchdog wake-ups so far

    def __enter__(self) -> LagProbe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LagProbe:
        """Start the hub timer and the watchdog thread (idempotent)."""
        if self._active:
            return self
        if self._hub is None:
            import gevent

            self._hub = gevent.get_hub()
        self._hub_ident = _real.get_ident()
        # Before the loop first runs (imports, set-up in the main greenlet) nothing waits on it.
        self._last = _real.perf_counter() if self._hub else None
        self._last_cpu = time.thread_time()
        self._timer = self._hub.loop.timer(self.interval, self.interval, ref=False)
        self._timer.start(self._tick)
        self._active = True
        self._generation += 1
        started = _real.allocate_lock()
        started.acquire()
        _real.start_new_thread(self._watchdog, (started, self._generation))
        started.acquire()  # a stall that starts at once must already be watched
        return self

    def stop(self) -> None:
        """Stop; a stall still in progress on the calling greenlet is counted up to now."""
        if not self._active:
            return
        self._tick()
        self._active = False
        self._timer.stop()
        self._timer.close()
        self._timer = None

    @property
    def stalls(self) -> list[LagStall]:
        """Every stall seen so far, each with its kind (attributed now, from the watchdog's notes)."""
        gaps, samples, seen = list(self._gaps), list(self._samples), dict(self._seen)
        return [self._attribute(s, e, cpu, gaps, samples, seen) for s, e, cpu in list(self._late)]

    def _tick(self) -> None:
        # The hub timer's callback: runs on the hub greenlet, so it must stay tiny and never raise.
        now, cpu = _real.perf_counter(), time.thread_time()
        self.ticks += 1
        last, self._last = self._last, now
        last_cpu, self._last_cpu = self._last_cpu, cpu
        if last is not None and now - last - self.interval >= self.threshold:
            if len(self._late) < MAX_STALLS:
                self._late.append((last, now, cpu - last_cpu))
                # The hub may get the GIL back before the watchdog does: read the other threads'
                # stacks now too, before the one that held the GIL runs on.
                self._seen.append((now, _other_stacks(sys._current_frames(), self._hub_ident)))

    def _watchdog(self, started: Any, generation: int) -> None:
        sleep, clock = _real.sleep, _real.perf_counter
        clocks: dict[int, Any] = {}
        own = _real.get_ident()
        before = _cpu_times(sys._current_frames(), clocks, own)
        prev = clock()
        started.release()
        while self._active and self._generation == generation:
            sleep(self.interval)
            now = clock()
            frames = sys._current_frames()  # first: the holder must not move on
            self.wakeups += 1
            cpu = _cpu_times(frames, clocks, own)
            if now - prev - self.interval >= self.threshold / 2:
                self._note_gap(prev, now, frames, before, cpu)
            else:
                self._note_hub(now, frames)
            del frames
            before, prev = cpu, now

    def _note_gap(
        self,
        start: float,
        end: float,
        frames: dict[int, Any],
        before: dict[int, float],
        after: dict[int, float],
    ) -> None:
        # A thread that started since the last wake-up used all its CPU time inside the gap.
        used = {ident: after[ident] - before.get(ident, 0.0) for ident in after}
        holder = max(used, key=used.__getitem__, default=0)
        entries = tuple(frame_entries(frames.get(holder)))
        self._gaps.append(_Gap(start, end, holder, used.get(holder, 0.0), entries))

    def _note_hub(self, now: float, frames: dict[int, Any]) -> None:
        # The GIL is free but the hub is late: a greenlet or callback waits in a blocking call.
        last = self._last
        if last is None or now - last - self.interval < self.threshold / 2:
            return
        if self._samples and self._samples[-1][0] > last:
            return  # one sample per stall: the first is where it blocked
        self._samples.append((now, tuple(frame_entries(frames.get(self._hub_ident)))))

    def _attribute(
        self,
        start: float,
        end: float,
        hub_cpu: float,
        gaps: list[_Gap],
        samples: list[tuple[float, tuple[Entry, ...]]],
        seen: dict[float, dict[int, tuple[Entry, ...]]],
    ) -> LagStall:
        late = end - start - self.interval
        inside = [g for g in gaps if g.start < end and g.end > start]
        gap = max(inside, key=lambda g: g.end - g.start, default=None)
        if gap is not None and _held_gil(gap, self._hub_ident, hub_cpu, late):
            # Whichever of the hub and the watchdog got the GIL first saw the holder where it was.
            entries = gap.entries
            if end < gap.end and seen.get(end, {}).get(gap.holder):
                entries = seen[end][gap.holder]
            name = thread_name(gap.holder, entries)
            return LagStall(late, "gil", name, entries, gap.cpu, start, end)
        entries: tuple[Entry, ...] = ()
        if gap is not None and gap.holder == self._hub_ident:
            entries = gap.entries
        else:
            entries = next((e for t, e in samples if start < t <= end), ())
        kind = hub_kind(entries, hub_cpu, late)
        return LagStall(late, kind, "the hub's thread", entries, hub_cpu, start, end)


def _held_gil(gap: _Gap, hub_ident: int, hub_cpu: float, late: float) -> bool:
    # A loaded machine gives the holder less CPU than wall time: ask for a quarter, and more than
    # the hub's thread used (a greenlet's own CPU-bound run is the "greenlet" kind).
    return gap.holder != hub_ident and gap.cpu >= max(0.25 * late, 2 * hub_cpu)


def _other_stacks(frames: dict[int, Any], hub_ident: int) -> dict[int, tuple[Entry, ...]]:
    return {i: tuple(frame_entries(f)) for i, f in frames.items() if i != hub_ident}


def _cpu_times(frames: dict[int, Any], clocks: dict[int, Any], own: int) -> dict[int, float]:
    """CPU seconds used so far by each Python thread but the watchdog (empty where unsupported)."""
    if _thread_cpu is None:
        return {}
    for ident in [i for i in clocks if i not in frames]:
        del clocks[ident]  # an ident can be reused by a new thread: never keep a dead one's clock
    out = {}
    for ident in frames:
        if ident == own:
            continue
        try:
            if ident not in clocks:
                clocks[ident] = _thread_cpu(ident)
            out[ident] = time.clock_gettime(clocks[ident])
        except (OSError, OverflowError):
            clocks.pop(ident, None)
    return out


def hub_kind(entries: tuple[Entry, ...] | list[Entry], hub_cpu: float, late: float) -> str:
    """Which code ran on the hub's thread: a greenlet, the hub's own callback, or nothing."""
    if not entries:
        return "unknown"
    outermost_file, _, outermost_func = entries[-1]
    if not (_is_hub_file(outermost_file) and outermost_func == "run"):
        return "greenlet"  # a greenlet's stack ends at its own function, the hub's at Hub.run
    if len(entries) > 1 or hub_cpu >= 0.5 * late:
        return "hub"  # a callback frame above Hub.run, or the loop itself busy in C
    return "unknown"  # the hub sat idle in its loop: the process did not get the CPU


def _is_hub_file(filename: str) -> bool:
    return filename.replace("\\", "/").endswith("/gevent/hub.py")


def thread_name(ident: int, entries: tuple[Entry, ...] | list[Entry] = ()) -> str:
    """``thread 'name' (ident)``, or what it is when threading never heard of it."""
    threading = sys.modules.get("threading")
    known = getattr(threading, "_active", {}).get(ident) if threading else None
    name = getattr(known, "name", None)
    dummy = type(known).__name__ == "_DummyThread"
    if any(file.replace("\\", "/").endswith("/gevent/threadpool.py") for file, _, _ in entries):
        return f"a gevent threadpool worker (thread {ident:#x})"
    if name and not dummy:
        return f"thread {name!r} ({ident:#x})"
    return f"thread {ident:#x}"
