"""SDKs that send from background threads: does the thread still deliver, do greenlets stall?

One wait: the app records one item (a Sentry event, an OpenTelemetry span), the SDK's own
background worker sends it to a local stub that answers 0.2 s later, and the app waits until the
stub confirms the item arrived (a long-poll GET, compat_tests/peers/_recorder.py). The item is
checked by its id, so a worker that never delivers under a profile fails the wait: broken. The
heartbeat shows whether the worker (a greenlet under ``full``, a real thread otherwise) held the
hub.

The ``+flush`` rows add what apps call before exiting or at the end of a task: the SDK's
flush, whose own way of waiting decides whether greenlets stall.

Each of the N waits has its own SDK client and so its own worker: one worker sends its queue one
request after another by design, so N items through one client take N x 0.2 s in any profile and
would measure the SDK's queue, not gevent.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable
from urllib.parse import urlsplit

from compat_tests.cases import Context, case


def _confirmations(url: str, n: int) -> Callable[[int, str], None]:
    """``confirm(i, item_id)``: returns once the stub received ``item_id``, raises if it never
    did. One keep-alive connection per wait, opened here so a wait is only the long poll."""
    parts = urlsplit(url)
    connections = [http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                   for _ in range(n)]  # fmt: skip

    def confirm(i: int, item_id: str) -> None:
        connections[i].request("GET", f"/seen/{item_id}")
        response = connections[i].getresponse()
        response.read()
        assert response.status == 200, f"{item_id} never reached the stub (the worker is stuck)"

    return confirm


def _sentry_clients(ctx: Context) -> list:
    import sentry_sdk

    return [sentry_sdk.Client(dsn=ctx.peers["sentry"]["dsn"]) for _ in range(ctx.n)]


def _capture(client, i: int) -> str:
    event_id = client.capture_event({"message": f"wait {i}", "level": "info"})
    assert event_id, "the client dropped the event"
    return event_id


@case(
    "sentry-sdk",
    "event sent by the transport's worker, confirmed 0.2 s later",
    dists=("sentry-sdk",),
    modules=("sentry_sdk",),
    peers=("sentry",),
    fix="Patch before `sentry_sdk.init()` so the transport's sockets are gevent's; its worker "
    "thread delivers under every profile. Mind `flush()`: see sentry-sdk+flush.",
)
def sentry_event(ctx: Context):
    clients = _sentry_clients(ctx)
    confirm = _confirmations(ctx.peers["sentry"]["url"], ctx.n)

    def wait(i: int) -> None:
        confirm(i, _capture(clients[i], i))

    return wait


@case(
    "sentry-sdk+flush",
    "capture_event + flush() of the transport's worker (0.2 s), delivery confirmed",
    dists=("sentry-sdk",),
    modules=("sentry_sdk",),
    peers=("sentry",),
    fix="`flush()` waits for the worker thread on a threading Condition: under `nothread` and "
    "`network` that is a real lock, and every greenlet stops until the queue is sent. Use "
    "`full`, or do not flush in request handlers (flush once at shutdown).",
)
def sentry_flush(ctx: Context):
    clients = _sentry_clients(ctx)
    confirm = _confirmations(ctx.peers["sentry"]["url"], ctx.n)

    def wait(i: int) -> None:
        event_id = _capture(clients[i], i)
        clients[i].flush(timeout=10)
        confirm(i, event_id)  # flush() returns after its timeout even if nothing was sent

    return wait


def _otel_tracers(ctx: Context, batch: int | None) -> list:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    providers = []
    for _ in range(ctx.n):
        provider = TracerProvider()
        exporter = OTLPSpanExporter(endpoint=ctx.peers["otlp"]["endpoint"], timeout=30)
        provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=batch))
        providers.append(provider)
    return providers


def _end_span(provider, i: int) -> str:
    with provider.get_tracer("patchkit.compat").start_as_current_span(f"wait {i}") as span:
        return format(span.get_span_context().trace_id, "032x")


@case(
    "opentelemetry-sdk",
    "span exported by BatchSpanProcessor's worker (OTLP/HTTP), confirmed 0.2 s later",
    dists=("opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http"),
    modules=("opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http"),
    peers=("otlp",),
    fix="Patch before the TracerProvider is created so the exporter's sockets are gevent's; the "
    "processor's worker thread delivers under every profile.",
)
def otel_span(ctx: Context):
    # A batch of one wakes the worker as each span ends instead of after its 5 s schedule.
    providers = _otel_tracers(ctx, batch=1)
    confirm = _confirmations(ctx.peers["otlp"]["url"], ctx.n)

    def wait(i: int) -> None:
        confirm(i, _end_span(providers[i], i))

    return wait


@case(
    "opentelemetry-sdk+force_flush",
    "span + TracerProvider.force_flush() (OTLP/HTTP, 0.2 s), delivery confirmed",
    dists=("opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http"),
    modules=("opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http"),
    peers=("otlp",),
    fix="`force_flush()` exports in the calling greenlet (not the worker thread), so it is as "
    "cooperative as the exporter's socket: patch `socket` (every profile but `none`).",
)
def otel_force_flush(ctx: Context):
    providers = _otel_tracers(ctx, batch=None)  # the default: the worker waits up to 5 s
    confirm = _confirmations(ctx.peers["otlp"]["url"], ctx.n)

    def wait(i: int) -> None:
        trace_id = _end_span(providers[i], i)
        assert providers[i].force_flush(timeout_millis=10_000), "force_flush() timed out"
        confirm(i, trace_id)

    return wait
