"""The hub watch: how long the event loop really stood still, and what held it (PK302).

``greenlet.settrace`` sees every switch on the watched thread. The time from the moment the hub
switches out until something switches back into it is exactly how long the loop did not run,
including time inside C calls that hold the GIL (a backtracking regex), which a sampling monitor
cannot see. The stack comes from a watchdog on a real OS thread that samples the hub thread's
frame once a run passes half the threshold (exact for stalls that release the GIL: sleeps, locks,
I/O, hashing), or else from the frame the greenlet switched out from.

The tracer runs on every switch, so it is in C where the optional extension ``_switchtimer`` was
built (``setup.py``), and in Python otherwise (or with ``PATCHKIT_NO_SPEEDUPS=1``): both keep
the same three slots and call back the same methods, so they find the same stalls. With the
extension the watchdog also waits in C without the GIL (``Heartbeat``), taking it only when a run
passes half the threshold: each wake-up that takes the GIL takes it from a busy hub.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
from dataclasses import dataclass
from typing import Any

from patchkit import _real
from patchkit._frames import (
    Entry,
    entries_location,
    frame_entries,
    greenlet_label,
    is_patchkit_file,
)
from patchkit.detect import speedups, tripwires
from patchkit.detect.lag import REFRESH_S, LagProbe, lag_findings, merge, stack_lines
from patchkit.findings import Finding

_clock = _real.perf_counter
_SwitchTimer = speedups.SwitchTimer  # None: the Python tracer, same findings
SPEEDUPS = _SwitchTimer is not None
MAX_STALLS = 1000  # stored; later stalls are only counted, so memory stays bounded
TOP_PLACES = 20  # PK302 findings per report; the rest become one summary finding


@dataclass(frozen=True)
class Stall:
    """One period during which the hub did not run, with what held it."""

    duration: float
    greenlet: str
    stack: tuple[str, ...] = ()
    file: str | None = None
    line: int | None = None
    ongoing: bool = False  # still blocked when it was collected (a hang or a deadlock)
    end: float | None = None  # perf_counter() when the hub ran again (to match lag stalls)


class Watch:
    """Times every hub stall on the thread that starts it; use as a context manager."""

    def __init__(self, threshold: float = 0.1, probe: bool = True) -> None:
        self.threshold = float(threshold)
        self.stalls: list[Stall] = []
        self.unstored = (0, 0.0)  # stalls past MAX_STALLS: how many, how long in all
        # Called with (Stall, the greenlet that held the hub) soon after each stall, in a
        # greenlet of its own, never inside a switch (logs, metrics, gevent's event).
        self.on_stall: list[Any] = []
        self._pending: list[tuple[Stall, Any]] = []
        self._interval = min(max(self.threshold / 2, 0.005), 0.1)
        self._active = False
        self._callback: Any = None
        self._prev: Any = None
        self._hub_type: Any = None
        self._hub_ident: int | None = None
        # What the per-switch tracer reads and writes: [start of the run holding the hub or None,
        # that greenlet, the hub]; a list for the Python tracer (an index is cheaper than an
        # attribute), the C tracer itself otherwise (start() makes it).
        self._st: Any = [None, None, None]
        self._generation = 0  # a restarted watch must not leave its old watchdog running
        self._sample: tuple[float, list[Entry]] | None = None  # (run start, its stack)
        self._sampled: float | None = None  # the run start last sampled (once per run)
        self._since: dict[tuple[str, str, int], int] = {}
        # The loop-lag probe sees stalls no greenlet caused (another thread holding the GIL).
        # It needs a hub; started with the first switch into one, never creating one itself.
        self._use_probe = probe
        self._probe: Any = None
        self._heart: Any = None  # the watchdog's GIL-free wait (C), None in Python
        self._probe_armed = False

    # The audit's fork handling (patchkit.audit.follow) resets these two by name.
    @property
    def _run_start(self) -> float | None:
        return self._st[0]

    @_run_start.setter
    def _run_start(self, value: float | None) -> None:
        self._st[0] = value

    @property
    def _running(self) -> Any:
        return self._st[1]

    @_running.setter
    def _running(self, value: Any) -> None:
        self._st[1] = value

    def __enter__(self) -> Watch:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Watch:
        import greenlet
        from gevent._hub_local import get_hub_if_exists
        from gevent.hub import Hub

        if self._active:
            return self
        self._hub_type = Hub
        tripwires.warm_up()  # path tables now, not in the watchdog while a stall is sampled
        self._hub_ident = _real.get_ident()
        self._since = tripwires.counts()
        hub = get_hub_if_exists()
        # A greenlet other than the hub that is running now already holds the loop.
        current = greenlet.getcurrent()
        holding = hub is not None and current is not hub
        self._prev = greenlet.settrace(None)
        self._st, self._callback = self._make_tracer(self._prev)
        _set(self._st, _clock() if holding else None, current if holding else None, hub)
        self._active = True
        if hub is not None:
            self._arm_probe(hub)
        greenlet.settrace(self._callback)
        started = _real.allocate_lock()
        started.acquire()
        self._generation += 1
        _real.start_new_thread(self._watchdog, (started, self._generation))
        # Wait until the watchdog runs: a stall that starts at once must still be sampled.
        started.acquire()
        return self

    def stop(self) -> None:
        """Stop watching; a stall still in progress is counted up to now."""
        import greenlet
        from gevent._hub_local import get_hub_if_exists

        if not self._active:
            return
        start = self._st[0]
        if start is not None and get_hub_if_exists() is not None:
            self._record(greenlet.getcurrent(), start)
        self.deliver()
        self._active = False
        if self._heart is not None:
            self._heart.stop()  # the watchdog returns at its next wake, not after REFRESH_S
        if self._probe is not None and _real.get_ident() == self._hub_ident:
            self._probe.stop()
        if greenlet.gettrace() is self._callback:
            greenlet.settrace(self._prev)
            _set(self._st, None, None, None)
        else:
            # Someone chained a tracer on top of ours: it stays, passing every switch through
            # (no switch matches the hub, and the run never ends).
            _set(self._st, 0.0, None, _NEVER)

    def after_fork(self) -> None:
        """In a forked child: drop the parent's stalls and watchdog, watch this process anew.

        The greenlet tracer survives a fork but the watchdog thread does not; this starts a new
        one (and a new lag probe) so the child is watched like the parent, with nothing left over.
        """
        import greenlet

        was_active = self._active
        if greenlet.gettrace() is self._callback:
            greenlet.settrace(self._prev)
        self._active = False
        self._generation += 1
        _set(self._st, None, None, None)
        self._sample = None
        self._probe, self._probe_armed = None, False  # its timer belongs to the parent's hub
        self.stalls, self.unstored = [], (0, 0.0)
        if was_active:
            self.start()

    def ongoing(self) -> Stall | None:
        """The stall in progress right now, if past the threshold (call from another thread)."""
        start, running = self._st[0], self._st[1]
        if start is None or not self._active:
            return None
        duration = _clock() - start
        if duration < self.threshold:
            return None
        label = greenlet_label(running) if running is not None else "the hub's thread"
        frame = sys._current_frames().get(self._hub_ident or 0)
        return _stall(duration, label, frame_entries(frame) if frame else [], ongoing=True)

    def findings(self, include_ongoing: bool = False) -> list[Finding]:
        """PK302 per place that held the hub, plus PK301 from tripwires called while watching."""
        stalls = list(self.stalls)
        current = self.ongoing() if include_ongoing else None
        if current is not None:
            stalls.append(current)
        lagged = self._probe.stalls if self._probe is not None else []
        stalls, lagged = merge(stalls, lagged)
        # A greenlet-kind lag the switch watch did not see: no one greenlet ran long, they took
        # turns without letting the loop poll (sleep(0) loops).
        lagged = [
            dataclasses.replace(s, kind="starved") if s.kind == "greenlet" else s for s in lagged
        ]
        found = stall_findings(stalls, self.threshold, self.unstored)
        found += lag_findings(lagged, self.threshold)
        return found + tripwires.findings(self._since)

    def _arm_probe(self, hub: Any) -> None:
        """Start the lag probe from the hub's loop (never from inside a switch)."""
        if self._probe_armed:
            return
        self._probe_armed = True
        with contextlib.suppress(Exception):  # a closed or foreign loop: the switch watch stays
            hub.loop.run_callback(self._start_probe, hub)

    def _start_probe(self, hub: Any) -> None:
        if self._active and self._probe is None and self._use_probe:
            run = self._st if self.accelerated else None
            probe = LagProbe(self.threshold, hub, on_wake=self._look, run=run, sampled=self._seen)
            self._probe = probe.start()

    @property
    def accelerated(self) -> bool:
        """The per-switch tracer in use is the C one."""
        return _SwitchTimer is not None and isinstance(self._st, _SwitchTimer)

    def _make_tracer(self, prev: Any) -> tuple[Any, Any]:
        """(the three slots the tracer keeps, the tracer to install)."""
        if _SwitchTimer is not None:
            tracer = _SwitchTimer(self.threshold, self._record, self._slow_switch, prev)
            return tracer, tracer
        st: list[Any] = [None, None, None]
        return st, self._make_callback(st, prev)

    def _make_callback(self, st: list[Any], prev: Any) -> Any:
        # Runs on every switch, so it does as little as possible: no allocation, no attribute,
        # no dict; the clock is read only where a run starts or ends. A switch between two
        # greenlets while one holds the hub (rare in gevent) and the first hub go the slow way.
        clock, threshold, record, slow = _clock, self.threshold, self._record, self._slow_switch

        def trace(event: str, args: Any) -> None:
            if args[1] is st[2]:  # into the hub: the run that held it ends
                start = st[0]
                if start is not None:
                    st[0] = None
                    if clock() - start >= threshold:
                        record(args[0], start)
            elif st[0] is None and args[0] is st[2]:  # the hub hands over: a run starts
                st[0] = clock()
                st[1] = args[1]
            else:
                slow(args)

        if prev is None:
            return trace

        def chained(event: str, args: Any) -> None:
            trace(event, args)
            prev(event, args)

        return chained

    def _slow_switch(self, args: Any) -> None:
        if not self._active:
            return
        origin, target = args
        st = self._st
        if isinstance(target, self._hub_type):  # the first hub, or a new one after destroy()
            if target is not st[2]:
                st[2] = target
                self._probe_armed = False
                self._arm_probe(target)
            start = st[0]
            st[0] = None
            if start is not None and _clock() - start >= self.threshold:
                self._record(origin, start)
        elif st[0] is None and st[2] is not None:
            st[0], st[1] = _clock(), target  # no run yet: the first switch once the hub exists
        else:
            st[1] = target

    def _record(self, origin: Any, start: float) -> None:
        # Called from the tracer: an error escaping here would break the switch itself.
        end = _clock()
        if end - start < self.threshold:
            return
        with contextlib.suppress(Exception):
            stall = self._record_stall(origin, start, end)
            if self.on_stall:
                self._pending.append((stall, origin))
                if len(self._pending) == 1:
                    # Not from inside a switch: a handler may take a lock or write to a socket.
                    self._st[2].loop.run_callback(self._spawn_delivery)

    def _spawn_delivery(self) -> None:
        import gevent

        gevent.spawn(self.deliver)

    def deliver(self) -> None:
        """Pass the stalls recorded since the last call to ``on_stall`` (from a greenlet)."""
        pending, self._pending = self._pending, []
        for stall, origin in pending:
            for callback in list(self.on_stall):
                with contextlib.suppress(Exception):  # a broken handler must not stop the others
                    callback(stall, origin)

    def _record_stall(self, origin: Any, start: float, end: float) -> Stall:
        duration = end - start
        sample = self._sample
        if sample is not None and sample[0] == start:
            entries = sample[1]
        else:
            frame = getattr(origin, "gr_frame", None)
            if origin is not None and frame is None and not getattr(origin, "dead", True):
                frame = _caller()  # the greenlet that is still running: us
            entries = frame_entries(frame) if frame is not None else []
        label = greenlet_label(origin)
        if not any(not is_patchkit_file(e[0]) for e in entries):
            # No frame of its own (gevent.spawn(time.sleep, 0.3)): where it was spawned.
            spawned = frame_entries(getattr(origin, "spawning_stack", None))
            if spawned:
                entries, label = spawned, f"{label} (no Python frame seen; spawned here)"
        stall = dataclasses.replace(_stall(duration, label, entries), end=end)
        if len(self.stalls) >= MAX_STALLS:
            count, total = self.unstored
            self.unstored = (count + 1, total + duration)
        else:
            self.stalls.append(stall)
        return stall

    def _seen(self) -> float:
        """The start of the run whose stack was sampled last (-1: none), for the C wait."""
        return -1.0 if self._sampled is None else self._sampled

    def _watchdog(self, started: Any, generation: int) -> None:
        heart = speedups.Heartbeat() if self.accelerated and speedups.Heartbeat else None
        self._heart = heart
        started.release()
        while self._active and self._generation == generation:
            if heart is None:
                _real.sleep(self._interval)
            else:  # without the GIL until a run passes half the threshold (or REFRESH_S)
                heart.wait(
                    self._interval,
                    REFRESH_S,
                    math.inf,
                    self._st,
                    self.threshold / 2,
                    self._seen(),
                    (),
                )
            probe = self._probe
            if probe is not None and probe.running and probe.on_wake == self._look:
                return  # the lag probe's thread looks for us now: one thread waking, not two
            self._look()

    def _look(self) -> None:
        """From a watchdog thread: keep the stack of a run that passed half the threshold."""
        st = self._st
        start = st[0]
        if not self._active or start is None or start == self._sampled:
            return
        if _clock() - start < self.threshold / 2:
            return
        frame = sys._current_frames().get(self._hub_ident or 0)
        if frame is None:
            return
        entries = frame_entries(frame)  # first, before the hub thread runs on
        del frame
        if st[0] == start:
            self._sample = (start, entries)
            self._sampled = start


_NEVER = object()  # a stopped watch's "hub": no switch goes into it


def _set(st: Any, start: float | None, running: Any, hub: Any) -> None:
    # By index: the C tracer's slots are a sequence of three, not a list.
    st[0], st[1], st[2] = start, running, hub


def _caller() -> Any:
    """The innermost frame outside this module: where the running greenlet switched."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    return frame


def _stall(duration: float, label: str, entries: list[Entry], ongoing: bool = False) -> Stall:
    # A stall never points at patchkit (a tripwire a greenlet was spawned on directly).
    file, line = entries_location([e for e in entries if not is_patchkit_file(e[0])])
    # Deep inside a library, the innermost frames and the user's outermost one are what matter.
    return Stall(duration, label, tuple(stack_lines(entries)), file, line, ongoing)


def stall_findings(
    stalls: list[Stall], threshold: float, unstored: tuple[int, float] = (0, 0.0)
) -> list[Finding]:
    """One PK302 per place that held the hub, with the longest duration and how often.

    At most ``TOP_PLACES`` places, by total time; one more finding sums up the rest, together
    with the ``unstored`` stalls (count, seconds) that were only counted.
    """
    groups: dict[tuple[Any, ...], list[Stall]] = {}
    for stall in stalls:
        key = (stall.file, stall.line) if stall.file else (stall.greenlet,)
        groups.setdefault(key, []).append(stall)
    ranked = sorted(groups.values(), key=lambda g: -sum(s.duration for s in g))
    out = [_place_finding(group, threshold) for group in ranked[:TOP_PLACES]]
    rest = ranked[TOP_PLACES:]
    count = sum(len(g) for g in rest) + unstored[0]
    if count:
        seconds = sum(s.duration for g in rest for s in g) + unstored[1]
        total = sum(s.duration for s in stalls) + unstored[1]
        places = f"{len(rest)} more places" + (" and stalls not stored" if unstored[0] else "")
        out.append(
            Finding(
                "PK302",
                f"and {places}: the hub stood still {count} more times, {seconds:.2f} s "
                f"({len(stalls) + unstored[0]} stalls, {total:.2f} s in all)",
                detail={
                    "more_places": len(rest),
                    "more_stalls": count,
                    "more_s": round(seconds, 4),
                    "total_stalls": len(stalls) + unstored[0],
                    "total_s": round(total, 4),
                    "threshold_s": threshold,
                },
            )
        )
    return out


def _place_finding(group: list[Stall], threshold: float) -> Finding:
    worst = max(group, key=lambda s: s.duration)
    total = sum(s.duration for s in group)
    where = f" at {worst.file}:{worst.line}" if worst.file else ""
    still = " and was still blocked when collected" if worst.ongoing else ""
    times = "" if len(group) == 1 else f" ({len(group)} times, {total:.2f} s in all)"
    return Finding(
        "PK302",
        f"the hub did not run for {worst.duration:.2f} s{times}{still}: "
        f"{worst.greenlet} held it{where}",
        file=worst.file,
        line=worst.line,
        stack=worst.stack,
        detail={
            "duration_s": round(worst.duration, 4),
            "count": len(group),
            "total_s": round(total, 4),
            "threshold_s": threshold,
            "ongoing": worst.ongoing,
        },
    )


def watch(threshold: float = 0.1) -> Watch:
    """``with patchkit.watch(0.1) as w: ...`` then ``w.findings()`` / ``w.stalls``.

    ``threshold`` is in seconds. Watches the calling thread's hub; PK301 findings are included
    when tripwires are installed (the audit installs them before the program imports anything).
    """
    return Watch(threshold)
