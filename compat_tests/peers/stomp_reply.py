"""Replies over RabbitMQ's STOMP plugin: each request answered on its reply-to WAIT_S later.

Needs ``rabbitmq-plugins enable rabbitmq_stomp`` (tools/ci_services.sh does it); without the
plugin nothing listens on 61613 and the case skips saying so.
"""

from __future__ import annotations

import os
import threading

from compat_tests import WAIT_S
from compat_tests.services import service

STOMP_PORT = 61613


def where() -> tuple[str, int]:
    """The broker's STOMP listener: RabbitMQ's host, port PATCHKIT_COMPAT_STOMP_PORT or 61613."""
    return service("amqp").host, int(os.environ.get("PATCHKIT_COMPAT_STOMP_PORT", STOMP_PORT))


def start() -> dict:
    import stomp

    host, port = where()
    creds = service("amqp").creds
    name = f"patchkit.compat.stomp.{os.getpid()}"
    conn = stomp.Connection([(host, port)], reconnect_attempts_max=1)

    class Replier(stomp.ConnectionListener):
        def on_message(self, frame) -> None:
            reply_to = frame.headers.get("reply-to")
            if reply_to:
                threading.Timer(WAIT_S, conn.send, (reply_to, frame.body)).start()

    conn.set_listener("replier", Replier())
    try:
        conn.connect(creds["user"], creds["password"], wait=True)
    except stomp.exception.ConnectFailedException as exc:
        raise RuntimeError(
            f"no STOMP listener at {host}:{port} ({exc}): enable RabbitMQ's plugin with "
            "`rabbitmq-plugins enable rabbitmq_stomp`"
        ) from exc
    # auto-delete: the queue goes with this peer; clients send to /amq/queue/ (no redeclare).
    conn.subscribe(f"/queue/{name}", id="1", ack="auto",
                   headers={"auto-delete": "true", "durable": "false"})  # fmt: skip
    return {"host": host, "port": port, "destination": f"/amq/queue/{name}", "_conn": conn}
