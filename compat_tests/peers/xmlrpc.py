"""An XML-RPC server (the stdlib's, one thread per request) whose ``wait()`` takes WAIT_S."""

from __future__ import annotations

import socketserver
import threading
import time
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

from compat_tests import WAIT_S


class _Server(socketserver.ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True
    request_queue_size = 128


class _Handler(SimpleXMLRPCRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: xmlrpc.client reuses its connection

    def log_message(self, *args: object) -> None:
        pass


def _wait() -> bool:
    time.sleep(WAIT_S)
    return True


def start() -> dict:
    server = _Server(("127.0.0.1", 0), _Handler, logRequests=False, allow_none=True)
    server.register_function(_wait, "wait")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return {"url": f"http://127.0.0.1:{server.server_address[1]}/RPC2"}
