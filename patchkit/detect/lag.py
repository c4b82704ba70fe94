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
  and the GIL is free, it samples the hub thread's stack instead. With the C extension it waits
  without the GIL (``Heartbeat.wait``) and takes it only when the hub's tick is late, the watch's
  run needs sampling, or every ``REFRESH_S``; the holder is then the thread whose CPU time grew
  most since the last wake at which the hub had ticked on time.

The kinds: ``greenlet`` (a greenlet held the hub), ``gil`` (another thread held the GIL), ``hub``
(a callback the hub ran itself), ``unknown`` (no thread of the process ran: the machine or a
debugger stopped it; not reported, since nothing in the program can fix it).
"""

from __future__ import annotations

import contextlib
import linecache
import os
import re
import sys
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from patchkit import _real
from patchkit._frames import Entry, entries_location, frame_entries, is_app_file, is_patchkit_file
from patchkit.detect import speedups
from patchkit.findings import Finding

KINDS = ("greenlet", "gil", "hub", "starved", "unknown")  # starved: set by the watch (merge)
MAX_STALLS = 1000
_HISTORY = 256  # watchdog records kept to attribute hub stalls (a few seconds of busy history)
# With the C extension the watchdog waits without the GIL and takes it only when something needs
# a look, or this often (to learn of new threads and keep its CPU baselines fresh).
REFRESH_S = 1.0
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
        return self.cpu >= 0.2 * self.duration  # waiting uses ~0; a loaded machine gives less


@dataclass(frozen=True)
class _Gap:
    """The watchdog woke late: someone held the GIL from ``start`` to ``end``."""

    start: float
    end: float
    holder: int
    cpu: float
    entries: tuple[Entry, ...]
    name: str  # taken at once: the thread may be gone when stalls are read
    before: dict[int, float] = field(default_factory=dict)  # each thread's CPU at ``start``
    measured: frozenset[int] = frozenset()  # the threads whose CPU the watchdog read at ``end``


class LagProbe:
    """Measures how late the hub's loop runs; start and stop it on the hub's thread."""

    def __init__(
        self,
        threshold: float = 0.1,
        hub: Any = None,
        on_wake: Any = None,
        run: Any = None,
        sampled: Any = None,
    ) -> None:
        self.threshold = float(threshold)
        # Called on the watchdog thread at each wake-up: the hub watch samples stacks from here
        # rather than waking a thread of its own (each wake-up costs the server the GIL).
        self.on_wake = on_wake
        # The hub watch's C tracer and the run start it sampled last (a callable): the GIL-free
        # wait also returns when that run passes half the threshold, so on_wake can sample it.
        self._run = run
        self._run_sampled = sampled or (lambda: -1.0)
        self._heart: Any = None  # the C wait's state, new at each start()
        self.looks = 0  # wake-ups that took the GIL (all of them without the C extension)
        self.interval = min(max(self.threshold / 4, 0.005), 0.05)
        # The watchdog wakes half as often as the hub ticks: a busy hub runs its timer for almost
        # nothing, but each wake-up of a thread takes the GIL from it. Holding the GIL for the
        # threshold still makes it wake threshold / 2 late, which is all a gap needs.
        self.wake_every = min(max(self.threshold / 2, 0.005), 0.1)
        self._hub = hub
        self._timer: Any = None
        self._active = False
        self._generation = 0
        self._hub_ident = 0
        self._pid = 0
        self._last: float | None = None  # perf_counter() of the hub's last tick
        self._last_cpu = 0.0  # the hub thread's CPU time at that tick
        self._late: list[tuple[float, float, float]] = []  # (start, end, hub thread CPU)
        self._gaps: deque[_Gap] = deque(maxlen=_HISTORY)
        self._samples: deque[tuple[float, tuple[Entry, ...]]] = deque(maxlen=_HISTORY)
        self._seen: deque[tuple[float, dict[int, tuple[Entry, ...]]]] = deque(maxlen=_HISTORY)
        # What the late tick read of the other threads' CPU clocks, and their names, by tick time.
        self._seen_cpu: deque[tuple[float, dict[int, float], dict[int, str]]] = deque(
            maxlen=_HISTORY
        )
        self.ticks = 0  # hub timer callbacks so far

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
        self._pid = os.getpid()
        # Before the loop first runs (imports, set-up in the main greenlet) nothing waits on it.
        self._last = _real.perf_counter() if self._hub else None
        self._last_cpu = time.thread_time()
        if speedups.Heartbeat is not None:
            self._heart = speedups.Heartbeat()  # a stopped one would return at once, forever
            self._heart.beat(self._last if self._last is not None else _real.perf_counter())
        self._timer = self._hub.loop.timer(self.interval, self.interval, ref=False)
        self._timer.start(self._tick)
        self._active = True
        self._generation += 1
        started = _real.allocate_lock()
        started.acquire()
        _real.start_new_thread(self._watchdog, (started, self._generation))
        started.acquire()  # a stall that starts at once must already be watched
        return self

    @property
    def wakeups(self) -> int:
        """How often the watchdog thread woke up so far (with or without taking the GIL)."""
        return self._heart.wakes if self._heart is not None else self.looks

    @property
    def running(self) -> bool:
        """Started and not stopped, in this process (a forked child has no watchdog thread)."""
        return self._active and self._pid == os.getpid()

    def stop(self) -> None:
        """Stop; a stall still in progress on the calling greenlet is counted up to now."""
        if not self._active:
            return
        self._tick()
        self._active = False
        if self._heart is not None:
            self._heart.stop()
        self._timer.stop()
        self._timer.close()
        self._timer = None

    @property
    def stalls(self) -> list[LagStall]:
        """Every stall so far, each with its kind (attributed now, from the watchdog's notes)."""
        gaps, samples, seen = list(self._gaps), list(self._samples), dict(self._seen)
        seen_cpu = {t: (cpu, names) for t, cpu, names in list(self._seen_cpu)}
        return [
            self._attribute(s, e, cpu, gaps, samples, seen, seen_cpu.get(e))
            for s, e, cpu in list(self._late)
        ]

    def _tick(self) -> None:
        # The hub timer's callback: runs on the hub greenlet, so it must stay tiny and never raise.
        now, cpu = _real.perf_counter(), time.thread_time()
        self.ticks += 1
        if self._heart is not None:
            self._heart.beat(now)
        last, self._last = self._last, now
        last_cpu, self._last_cpu = self._last_cpu, cpu
        late = last is not None and now - last - self.interval >= self.threshold
        if late and len(self._late) < MAX_STALLS:
            self._late.append((last, now, cpu - last_cpu))
            # The hub may get the GIL back before the watchdog does: read the other threads'
            # stacks now too, before the one that held the GIL runs on.
            frames = sys._current_frames()
            stacks = _other_stacks(frames, self._hub_ident)
            self._seen.append((now, stacks))
            # And their CPU clocks: a holder that ends right after its C call may be gone by the
            # time the watchdog gets the GIL, and only this look saw how much CPU it used.
            cpus = _cpu_times(frames, {}, self._hub_ident)
            names = {i: thread_name(i, stacks.get(i, ())) for i in cpus}
            self._seen_cpu.append((now, cpus, names))

    def _watchdog(self, started: Any, generation: int) -> None:
        if self._heart is not None:
            return self._watchdog_without_gil(started, generation)
        sleep, clock = _real.sleep, _real.perf_counter
        clocks: dict[int, Any] = {}
        own = _real.get_ident()
        before = _cpu_times(sys._current_frames(), clocks, own)
        prev = clock()
        started.release()
        while self._active and self._generation == generation:
            sleep(self.wake_every)
            now = clock()
            frames = sys._current_frames()  # first: the holder must not move on
            self.looks += 1
            cpu = _cpu_times(frames, clocks, own)
            if now - prev - self.wake_every >= self.threshold / 2:
                self._note_gap(prev, now, frames, before, cpu)
            else:
                self._note_hub(now, frames)
            del frames
            before, prev = cpu, now
            self._call_on_wake()

    def _watchdog_without_gil(self, started: Any, generation: int) -> None:
        """The same watchdog, waiting in C without the GIL while the hub ticks on time.

        ``Heartbeat.wait`` wakes every ``wake_every`` and reads every thread's CPU clock there,
        keeping those of the last wake at which the hub had ticked on time: when the hub falls
        late, the stall started after that baseline, so the thread whose CPU time grew most since
        then is the one that held the GIL (or the hub's own, if a greenlet held it).
        """
        heart, clock = self._heart, _real.perf_counter
        clocks: dict[int, Any] = {}
        own = _real.get_ident()
        cpu = _cpu_times(sys._current_frames(), clocks, own)
        late_after = self.interval + self.threshold / 4
        started.release()
        while self._active and self._generation == generation:
            idents = list(cpu)
            reason, since, baseline, woke = heart.wait(
                self.wake_every,
                REFRESH_S,
                late_after,
                self._run,
                self.threshold / 2,
                self._run_sampled(),
                [clocks[i] for i in idents],
            )
            now = clock()
            frames = sys._current_frames()  # first: the holder must not move on
            self.looks += 1
            cpu = _cpu_times(frames, clocks, own)
            # Late, or it waited for the GIL after deciding to look (a refresh that fell at the
            # start of a stall, before the hub's tick was late): either way the hub stood still.
            if reason == "late" or now - woke >= self.threshold / 4:
                before = {i: c for i, c in zip(idents, baseline, strict=True) if c >= 0}
                self._note_gap(since, now, frames, before, cpu)
                self._note_hub(now, frames)
            del frames
            self._call_on_wake()

    def _call_on_wake(self) -> None:
        if self.on_wake is not None:
            with contextlib.suppress(Exception):  # a broken hook must not stop the probe
                self.on_wake()

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
        name = thread_name(holder, entries)
        gap = _Gap(
            start, end, holder, used.get(holder, 0.0), entries, name, dict(before), frozenset(after)
        )
        self._gaps.append(gap)

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
        late_look: tuple[dict[int, float], dict[int, str]] | None = None,
    ) -> LagStall:
        late = end - start - self.interval
        inside = [g for g in gaps if g.start < end and g.end > start]
        gap = max(inside, key=lambda g: g.end - g.start, default=None)
        if gap is not None and late_look is not None:
            gap = _with_late_look(gap, late_look, self._hub_ident)
        if gap is not None and _held_gil(gap, self._hub_ident, hub_cpu, late):
            # Whichever of the hub and the watchdog got the GIL first saw the holder where it was;
            # by the later look it may be back in its pool's wait. Use the earlier look that still
            # shows the user's code, else no stack: a pool's idle frame would mislead.
            looks = [gap.entries, seen.get(end, {}).get(gap.holder, ())]
            if end < gap.end:
                looks.reverse()
            entries = next((e for e in looks if any(is_app_file(f) for f, _, _ in e)), ())
            return LagStall(late, "gil", gap.name, entries, gap.cpu, start, end)
        entries: tuple[Entry, ...] = ()
        if gap is not None and gap.holder == self._hub_ident:
            entries = gap.entries
        else:
            entries = next((e for t, e in samples if start < t <= end), ())
        kind = hub_kind(entries, hub_cpu, late)
        return LagStall(late, kind, "the hub's thread", entries, hub_cpu, start, end)


def _with_late_look(gap: _Gap, look: tuple[dict[int, float], dict[int, str]], hub: int) -> _Gap:
    """The gap, with its holder taken from the late tick's look if that saw a bigger one.

    A thread whose C call held the GIL can finish and end before the watchdog gets the GIL; the
    hub's late tick may have read its CPU clock first. Only such threads (gone when the watchdog
    read the clocks) are considered; their use since the gap's baseline then names the holder (a
    thread the baseline did not know started inside the gap).
    """
    cpus, names = look
    gone = (i for i in cpus if i != hub and i not in gap.measured)  # ended before the watchdog read
    used = {i: cpus[i] - gap.before.get(i, 0.0) for i in gone}
    holder = max(used, key=used.__getitem__, default=None)
    if holder is None or holder == gap.holder or used[holder] <= gap.cpu:
        return gap
    return replace(gap, holder=holder, cpu=used[holder], entries=(), name=names[holder])


def _held_gil(gap: _Gap, hub_ident: int, hub_cpu: float, late: float) -> bool:
    # A loaded machine gives the holder less CPU than wall time: ask for 15 %, and more than
    # the hub's thread used (a greenlet's own CPU-bound run is the "greenlet" kind).
    return gap.holder != hub_ident and gap.cpu >= max(0.15 * late, 2 * hub_cpu)


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


# What to do, per kind of stall: the fix must match the cause (SPEC, PK302).
FIXES = {
    "gil": (
        "That thread's work is the problem, not a greenlet's: a thread (gevent's threadpool "
        "included) only keeps the hub running while its work releases the GIL. Run this work in "
        "a process (`concurrent.futures.ProcessPoolExecutor`, `multiprocessing`) or use a call "
        "that releases the GIL."
    ),
    "cpu": (
        "The work holds the GIL (a Python loop, a regex, C code that keeps the GIL), so a thread "
        "pool does not help: run it in a process pool (`concurrent.futures.ProcessPoolExecutor`) "
        "or split it into chunks with `gevent.sleep(0.001)` between them (not `sleep(0)`: see "
        "the `starved` kind)."
    ),
    "blocking": (
        "The call waits without yielding but releases the GIL (a real sleep, socket or file I/O, "
        "a native client): use its cooperative (patched) version, or run it in "
        "`gevent.get_hub().threadpool`, where it no longer stops the hub."
    ),
    "lock": (
        "It waits on a real (pre-patch) lock, which blocks the whole thread and can deadlock the "
        "hub: create the lock after patching (patch first, e.g. `import patchkit.auto` as the "
        "first line of the program)."
    ),
    # Measured: one greenlet doing 3 ms chunks of CPU work with gevent.sleep(0) between them
    # delayed a 10 ms heartbeat timer by 0.15 s; with gevent.sleep(0.001) or gevent.idle(), 0.015 s.
    "starved": (
        "`gevent.sleep(0)` puts the greenlet straight back on the run queue, so the loop keeps "
        "running ready greenlets and does not poll for I/O or timers. Yield with "
        "`gevent.sleep(0.001)` or `gevent.idle()` inside long loops, or move the CPU-bound work "
        "to a process pool."
    ),
    "hub": (
        "A callback the hub runs itself (`loop.run_callback`, a watcher or `rawlink` callback) "
        "must be short: spawn a greenlet for the work instead."
    ),
}
_LOCK_FUNCS = {"acquire", "wait", "_wait_for_tstate_lock", "join", "get", "put"}
_LOCK_LINE = re.compile(r"\.acquire\(|\bwith\s+[\w.]*lock\b|\.join\(|\.wait\(", re.IGNORECASE)


def cause(stall: LagStall) -> str:
    """The key of ``FIXES`` for a stall: what kind of work held the hub."""
    if stall.kind in ("gil", "hub", "starved"):
        return stall.kind
    if stall.holds_gil:
        return "cpu"
    return "lock" if _waits_on_lock(stall.entries) else "blocking"


def _waits_on_lock(entries: tuple[Entry, ...]) -> bool:
    if not entries:
        return False
    file, line, func = entries[0]
    if os.path.basename(file) in ("threading.py", "queue.py") and func in _LOCK_FUNCS:
        return True
    return bool(_LOCK_LINE.search(linecache.getline(file, line)))


def stack_lines(entries: tuple[Entry, ...] | list[Entry], keep: int = 12) -> list[str]:
    """The innermost frames plus the outermost application frame, outermost first.

    A stall deep inside a library still shows the user's own line that led there.
    """
    own = [e for e in entries if not is_patchkit_file(e[0])]
    out = [f"{file}:{line} in {func}" for file, line, func in reversed(own[:keep])]
    outer = next((i for i in range(len(own) - 1, keep - 1, -1) if is_app_file(own[i][0])), None)
    if outer is not None:
        file, line, func = own[outer]
        skipped = outer - keep
        out = [
            f"{file}:{line} in {func}",
            *([f"... {skipped} frames ..."] if skipped else []),
            *out,
        ]
    return out


def _message(stall: LagStall, times: str) -> str:
    head = f"the hub did not run for {stall.duration:.2f} s{times}: "
    if stall.kind == "gil":
        return head + (
            f"{stall.thread} held the interpreter lock (GIL), using {stall.cpu:.2f} s of CPU, "
            "while the hub was ready to run"
        )
    if stall.kind == "hub":
        return head + "a callback run by the hub itself held it"
    if stall.kind == "starved":
        return (
            f"timers and I/O waited {stall.duration:.2f} s{times}: greenlets ran back to back, "
            "each yielding (no single run was long) but none waiting, so the loop never polled"
        )
    what = "holding the GIL" if stall.holds_gil else "in a call that released the GIL"
    return head + f"a greenlet held it, {what}"


def lag_findings(stalls: list[LagStall], threshold: float) -> list[Finding]:
    """One PK302 per kind and place, the longest first in each; ``unknown`` stalls are left out."""
    groups: dict[tuple[Any, ...], list[LagStall]] = {}
    for stall in stalls:
        if stall.kind != "unknown":
            file, line = entries_location(list(stall.entries))
            groups.setdefault((stall.kind, file, line), []).append(stall)
    out = []
    for (kind, file, line), group in groups.items():
        worst = max(group, key=lambda s: s.duration)
        total = sum(s.duration for s in group)
        times = "" if len(group) == 1 else f" ({len(group)} times, {total:.2f} s in all)"
        where = f" at {file}:{line}" if file else ""
        detail = {
            "kind": kind,
            "cause": cause(worst),
            "duration_s": round(worst.duration, 4),
            "cpu_s": round(worst.cpu, 4),
            "thread": worst.thread,
            "count": len(group),
            "total_s": round(total, 4),
            "threshold_s": threshold,
        }
        out.append(
            Finding(
                "PK302",
                _message(worst, times) + where,
                file=file,
                line=line,
                stack=tuple(stack_lines(worst.entries)),
                fix=FIXES[cause(worst)],
                detail=detail,
            )
        )
    return out


def merge(watch_stalls: list[Any], lag_stalls: list[LagStall]) -> tuple[list[Any], list[LagStall]]:
    """Report each stall once: ``(watch stalls kept, lag stalls kept)``.

    The switch-timing watch measures a greenlet's run exactly, so a ``greenlet`` lag stall it also
    saw is dropped. A watch stall inside a ``gil`` stall is dropped instead: that greenlet only
    waited for the GIL another thread held. Overlap is by time window when watch stalls carry
    ``end`` (perf_counter() when the hub ran again); without it only ``greenlet`` lag stalls are
    matched, to a watch stall of about their length (the probe's lateness falls short of the
    truth by at most one probe interval: within 25 % or 50 ms).
    """
    matched: set[int] = set()
    explained: set[int] = set()
    kept_lag = []
    for lag in lag_stalls:
        free = (i for i, w in enumerate(watch_stalls) if i not in matched and _same(w, lag))
        hit = next(free, None)
        if hit is None:
            kept_lag.append(lag)
            continue
        matched.add(hit)
        if lag.kind == "greenlet":
            continue
        if lag.kind == "gil":
            explained.add(hit)
        kept_lag.append(lag)
    return [w for i, w in enumerate(watch_stalls) if i not in explained], kept_lag


def _same(watch_stall: Any, lag: LagStall) -> bool:
    end = getattr(watch_stall, "end", None)
    if end is not None:
        return bool(end - watch_stall.duration < lag.end and end > lag.start)
    close = abs(watch_stall.duration - lag.duration) <= max(0.05, 0.25 * lag.duration)
    return lag.kind == "greenlet" and close
