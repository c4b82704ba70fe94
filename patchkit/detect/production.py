"""The hub watch left on in production: started from the config, logged, counted, exported.

``[tool.patchkit] watch = 100`` (or ``PATCHKIT_WATCH=100``, milliseconds) makes
``import patchkit.auto``, ``patchkit run`` and the gunicorn worker call ``start_from_config()``:
one watch per process, each stall to the ``patchkit.watch`` logger (aggregated per site), to
``patchkit.watch_stats()``, to Prometheus / OpenTelemetry when installed, and to gevent's
``EventLoopBlocked`` subscribers. A forked child gets a fresh watch of its own.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from patchkit.detect.watch import Watch
from patchkit.detect.watchlog import SUMMARY_EVERY, StallLog, site
from patchkit.detect.watchmetrics import sinks
from patchkit.watchstats import STATS

_current: Watch | None = None
_log: StallLog | None = None
_fork_hook = False


def configured_threshold() -> float | None:
    """The configured threshold in seconds, or None when the production watch is off."""
    from patchkit.config import load_config

    ms = load_config().watch
    return ms / 1000 if ms else None


def start_from_config() -> Watch | None:
    """Start this process's watch if the config asks for one (idempotent); returns it."""
    threshold = configured_threshold()
    return start(threshold) if threshold else None


def start(threshold: float, every: float = SUMMARY_EVERY) -> Watch:
    """Start (or return) this process's production watch on the calling thread."""
    global _current, _log, _fork_hook
    if _current is not None and _current._active:
        return _current
    watch = Watch(threshold)
    _log = StallLog(every)
    exporters = sinks()

    def on_stall(stall: Any, greenlet: Any) -> None:
        label = STATS.add(site(stall), stall.duration)
        if _log is not None:
            _log(stall)
        for sink in exporters:
            with contextlib.suppress(Exception):
                sink(stall, greenlet, label)

    watch.on_stall.append(on_stall)
    _current = watch.start()
    _start_flusher(watch, every)
    if not _fork_hook and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork)
        _fork_hook = True
    return watch


def stop() -> None:
    """Stop the production watch and log the pending summaries."""
    global _current
    if _current is not None:
        _current.stop()
        _current = None
    if _log is not None:
        _log.flush()


def current() -> Watch | None:
    """The running production watch of this process, if any."""
    return _current


def _start_flusher(watch: Watch, every: float) -> None:
    # Summaries of sites that went quiet: a greenlet, so handlers run outside any switch.
    import gevent

    def flush_forever() -> None:
        while _current is watch:
            gevent.sleep(every)
            if _log is not None:
                _log.flush()

    gevent.spawn(flush_forever)


def _after_fork() -> None:
    # The child has the parent's tracer but not its watchdog thread: watch it anew, own counts.
    if _current is not None:
        STATS.reset()
        if _log is not None:
            _log._sites.clear()
        with contextlib.suppress(Exception):
            _current.after_fork()
