"""A Sentry ingestion stub: accepts envelopes at ``/api/<project>/envelope/`` 0.2 s later.

It records each envelope's ``event_id`` so the case can check that the SDK's background
transport really delivered the event (see compat_tests.peers._recorder).
"""

from __future__ import annotations

import gzip
import json
import re

from compat_tests.peers._recorder import serve

PROJECT = "1"
KEY = "patchkit"


def _decode(body: bytes, headers: dict[str, str]) -> bytes:
    encoding = headers.get("content-encoding", "")
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        import brotli  # the SDK only compresses with brotli when it is installed here too

        return brotli.decompress(body)
    return body


def _event_ids(body: bytes, headers: dict[str, str]) -> list[str]:
    envelope_header = json.loads(_decode(body, headers).split(b"\n", 1)[0] or b"{}")
    return [envelope_header["event_id"]] if "event_id" in envelope_header else []


def start() -> dict:
    path = re.compile(rf"^/api/{PROJECT}/envelope/(\?.*)?$")
    info = serve(lambda p: bool(path.match(p)), _event_ids)
    info["dsn"] = f"http://{KEY}@127.0.0.1:{info['port']}/{PROJECT}"
    return info
