"""A slow HTTP server that records what it received: the ground truth for background senders.

Observability SDKs send from a background thread; whether that thread still delivers under a
profile only the receiving side can tell. Each POST is answered WAIT_S after it arrived and the
ids it carried are recorded. ``GET /seen/<id>`` answers 200 as soon as ``<id>`` has arrived, or
404 if it did not within SEEN_TIMEOUT_S: a long poll, so a case waits for delivery with one
ordinary HTTP request instead of a polling loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from compat_tests import WAIT_S

HOST = "127.0.0.1"
SEEN_TIMEOUT_S = 5.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # 10 simultaneous connects must not overflow the listen() backlog


def serve(
    accepts: Callable[[str], bool],
    ids: Callable[[bytes, dict[str, str]], Iterable[str]],
    reply: tuple[str, bytes] = ("application/json", b"{}"),
) -> dict:
    """Start the server: POSTs to a path ``accepts`` takes are parsed by ``ids(body, headers)``."""
    seen: set[str] = set()
    arrived = threading.Condition()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the libraries' pools

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if not accepts(self.path):
                self._answer(404, "text/plain", b"no such endpoint\n")
                return
            received = set(ids(body, {k.lower(): v for k, v in self.headers.items()}))
            time.sleep(WAIT_S)
            with arrived:
                seen.update(received)
                arrived.notify_all()
            self._answer(200, *reply)

        def do_GET(self) -> None:
            wanted = self.path.removeprefix("/seen/")
            with arrived:
                found = arrived.wait_for(lambda: wanted in seen, SEEN_TIMEOUT_S)
            self._answer(200 if found else 404, "text/plain", b"seen\n" if found else b"not seen\n")

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = _Server((HOST, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    return {"port": port, "url": f"http://{HOST}:{port}/"}
