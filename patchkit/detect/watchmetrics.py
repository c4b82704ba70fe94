"""Hub stalls as metrics and as gevent's own event, each only when its package is there.

- ``prometheus_client``: ``patchkit_hub_stall_seconds`` (histogram) and
  ``patchkit_hub_stalls_total{site=...}`` (counter; sites bounded by ``watchstats.MAX_SITES``).
- ``opentelemetry`` (the API): the same two instruments on the ``patchkit`` meter.
- ``gevent.events.EventLoopBlocked``, sent with ``zope.event.notify`` like gevent's monitor
  thread does, so existing subscribers see patchkit's exact stalls too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from patchkit.watchstats import BUCKETS

Sink = Callable[[Any, Any, str], None]  # (stall, greenlet, bounded site label)
_prometheus: tuple[Any, Any] | None = None


def prometheus_sink() -> Sink | None:
    """Record into prometheus_client's default registry (created once per process)."""
    global _prometheus
    try:
        import prometheus_client
    except ImportError:
        return None
    if _prometheus is None:
        histogram = prometheus_client.Histogram(
            "patchkit_hub_stall_seconds",
            "How long the gevent hub did not run, per stall (patchkit's watch).",
            buckets=BUCKETS,
        )
        counter = prometheus_client.Counter(
            "patchkit_hub_stalls",
            "Hub stalls by the application line (or greenlet) that held the hub.",
            ["site"],
        )
        _prometheus = (histogram, counter)
    histogram, counter = _prometheus

    def record(stall: Any, greenlet: Any, site: str) -> None:
        histogram.observe(stall.duration)
        counter.labels(site=site).inc()

    return record


def otel_sink() -> Sink | None:
    """Record with the OpenTelemetry metrics API, when installed (a no-op without an SDK)."""
    try:
        from opentelemetry import metrics
    except ImportError:
        return None
    meter = metrics.get_meter("patchkit")
    histogram = meter.create_histogram(
        "patchkit.hub.stall", unit="s", description="How long the gevent hub did not run."
    )
    counter = meter.create_counter("patchkit.hub.stalls", description="Hub stalls by site.")

    def record(stall: Any, greenlet: Any, site: str) -> None:
        histogram.record(stall.duration)
        counter.add(1, {"site": site})

    return record


def gevent_event_sink() -> Sink | None:
    """Notify ``gevent.events.EventLoopBlocked`` subscribers (zope.event), as gevent's monitor."""
    try:
        from gevent import events
        from gevent._hub_local import get_hub_if_exists
    except ImportError:
        return None

    def record(stall: Any, greenlet: Any, site: str) -> None:
        info = [f"hub stalled {stall.duration:.3f} s at {site}", *stall.stack]
        with contextlib.suppress(TypeError):  # gevent before 20.x took no ``hub``
            events.notify(
                events.EventLoopBlocked(greenlet, stall.duration, info, hub=get_hub_if_exists())
            )
            return
        events.notify(events.EventLoopBlocked(greenlet, stall.duration, info))

    return record


def sinks() -> list[Sink]:
    """Every sink whose package is installed."""
    found = (prometheus_sink(), otel_sink(), gevent_event_sink())
    return [sink for sink in found if sink is not None]
