"""A WebSocket server that echoes each message 0.2 s after it arrived.

``websockets``' synchronous server runs each connection in its own thread, so the waits of
concurrent clients overlap on this side.
"""

from __future__ import annotations

import threading
import time

from compat_tests import WAIT_S


def start() -> dict:
    from websockets.sync.server import serve

    def echo(connection) -> None:
        for message in connection:
            time.sleep(WAIT_S)
            connection.send(message)

    server = serve(echo, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.socket.getsockname()[1]
    return {"port": port, "url": f"ws://127.0.0.1:{port}/", "_keep": server}
