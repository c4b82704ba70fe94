"""The monitoring modes the benchmarks compare, each switched on and off inside a running server.

Switching in one process (rather than one process per mode) lets ``watch.py`` alternate the
modes every fraction of a second on the same server, under the same load, so the machine's
drift hits them all alike. Every mode is what a user would run:

- ``none``: nothing; ``none-again`` is the same, measured as if it were a mode (an A/A control:
  how far two identical modes differ is the benchmark's own resolution);
- ``monitor``: gevent's monitor thread, as ``GEVENT_MONITOR_THREAD_ENABLE=1`` starts it (its
  Cython greenlet tracer and its thread waking every ``max_blocking_time``);
- ``watch``: ``patchkit.detect.watch.Watch(threshold)`` with the C extension (tracer, and the
  watchdog's wait without the GIL) and its loop-lag probe: the shipped configuration;
- ``watch-python``: the same without the C extension (what ``PATCHKIT_NO_SPEEDUPS=1`` gives: the
  pure-Python tracer, and a watchdog that takes the GIL at every wake-up);
- ``watch-noprobe``: ``Watch(threshold, probe=False)``, C tracer;
- ``tracer``: an empty Python ``greenlet.settrace`` lambda (what any Python tracer pays at least);
- ``tracer-c``: ``sys.audit`` as the tracer, a C builtin returning ``None`` at once while no audit
  hook is installed: an empty C tracer, the floor of any ``settrace`` watch;
- ``switchtimer``: the watch's C tracer alone, without its watchdog thread or probe (what the
  per-switch timing costs by itself);
- ``thread``: a real thread that wakes every ``threshold / 2`` and does nothing (what a watchdog
  costs by waking up and taking the GIL, before doing any work).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable

MODES = (
    "none",
    "none-again",
    "monitor",
    "watch",
    "watch-python",
    "watch-noprobe",
    "tracer",
    "tracer-c",
    "switchtimer",
    "thread",
)
WATCHES = ("watch", "watch-python", "watch-noprobe")


def switch_on(mode: str, threshold: float = 0.1) -> Callable[[], None]:
    """Start ``mode`` on this thread's hub (patched process); returns what switches it off."""
    import gevent
    import greenlet

    hub = gevent.get_hub()
    if mode in WATCHES:
        from patchkit.detect import speedups
        from patchkit.detect import watch as watch_module

        fast = (watch_module._SwitchTimer, speedups.Heartbeat)

        def restore() -> None:
            watch_module._SwitchTimer, speedups.Heartbeat = fast

        if mode == "watch-python":  # what PATCHKIT_NO_SPEEDUPS=1 gives, until switched off
            watch_module._SwitchTimer = speedups.Heartbeat = None
        watch = watch_module.Watch(threshold, probe=mode != "watch-noprobe").start()
        if watch.accelerated != (mode != "watch-python"):  # a wrong tracer would pass for this one
            watch.stop()
            restore()
            sys.exit(f"{mode}: the {'C' if watch.accelerated else 'Python'} tracer is in use")

        def switch_off() -> None:
            watch.stop()
            restore()

        return switch_off
    if mode == "monitor":
        from gevent._monitor import PeriodicMonitoringThread

        gevent.config.max_blocking_time = threshold
        monitor = PeriodicMonitoringThread(hub)
        if hub.main_hub:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "install psutil": memory is then not watched
                monitor.install_monitor_memory_usage()
        return monitor.kill
    if mode in ("tracer", "tracer-c"):
        previous = greenlet.settrace((lambda event, args: None) if mode == "tracer" else sys.audit)
        return lambda: greenlet.settrace(previous)
    if mode == "switchtimer":
        from patchkit.detect._switchtimer import SwitchTimer

        timer = SwitchTimer(threshold, lambda origin, start: None, lambda pair: None)
        timer[0], timer[1], timer[2] = None, None, hub
        previous = greenlet.settrace(timer)
        return lambda: greenlet.settrace(previous)
    if mode == "thread":
        from patchkit import _real

        running = [True]

        def wake() -> None:
            while running[0]:
                _real.sleep(threshold / 2)

        _real.start_new_thread(wake, ())
        return lambda: running.__setitem__(0, False)
    if mode in ("none", "none-again"):
        return lambda: None
    raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
