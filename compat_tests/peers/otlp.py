"""An OpenTelemetry collector stub: accepts OTLP/HTTP protobuf at ``/v1/traces`` 0.2 s later.

It records the trace id (hex) of every span it receives so the case can check that the
BatchSpanProcessor's worker thread really exported the span (see compat_tests.peers._recorder).
"""

from __future__ import annotations

import gzip

from compat_tests.peers._recorder import serve


def _trace_ids(body: bytes, headers: dict[str, str]) -> list[str]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    request = ExportTraceServiceRequest.FromString(body)
    return [
        span.trace_id.hex()
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]


def start() -> dict:
    # An empty ExportTraceServiceResponse serialises to zero bytes: full success.
    info = serve(lambda p: p == "/v1/traces", _trace_ids, ("application/x-protobuf", b""))
    info["endpoint"] = info["url"] + "v1/traces"
    return info
