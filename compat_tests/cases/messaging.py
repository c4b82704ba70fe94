"""Message brokers: each wait is a request whose reply a peer process publishes 0.2 s later.

The reply is only sent once the request arrives, so waits that serialise cannot hide behind
replies that were already queued.
"""

from __future__ import annotations

import contextlib
import os
import time

from compat_tests.cases import Context, case
from compat_tests.services import service

DEADLINE_S = 30


def _until(done: dict, step) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not done.get("reply"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no reply within {DEADLINE_S} s")
        step()


@case(
    "pika",
    "BlockingConnection RPC answered in 0.2 s",
    dists=("pika",),
    modules=("pika",),
    services=("amqp",),
    peers=("amqp",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def pika_rpc(ctx: Context):
    import pika

    svc, c = service("amqp"), service("amqp").creds
    params = pika.ConnectionParameters(
        svc.host, svc.port, credentials=pika.PlainCredentials(c["user"], c["password"])
    )
    clients = []
    for _ in range(ctx.n):
        conn = pika.BlockingConnection(params)
        ch = conn.channel()
        reply = ch.queue_declare("", exclusive=True).method.queue
        done: dict = {}
        ch.basic_consume(reply, lambda *a, d=done: d.update(reply=True), auto_ack=True)
        clients.append((conn, ch, reply, done))

    def wait(i: int) -> None:
        conn, ch, reply, done = clients[i]
        done.clear()
        ch.basic_publish(
            "", ctx.peers["amqp"]["queue"], b"ping", pika.BasicProperties(reply_to=reply)
        )
        _until(done, lambda: conn.process_data_events(time_limit=1))

    return wait


@case(
    "kombu",
    "Producer.publish + drain_events answered in 0.2 s",
    dists=("kombu", "amqp"),
    modules=("kombu",),
    services=("amqp",),
    peers=("amqp",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def kombu_rpc(ctx: Context):
    import kombu

    svc, c = service("amqp"), service("amqp").creds
    url = f"amqp://{c['user']}:{c['password']}@{svc.host}:{svc.port}//"
    clients = []
    for i in range(ctx.n):
        conn = kombu.Connection(url, connect_timeout=10)
        name = f"patchkit.compat.reply.{os.getpid()}.{i}"
        queue = kombu.Queue(name, exclusive=True, auto_delete=True)
        done: dict = {}
        consumer = conn.Consumer(queue, on_message=lambda m, d=done: d.update(reply=True))
        consumer.consume()
        clients.append((conn, conn.Producer(), name, done, consumer))

    def wait(i: int) -> None:
        conn, producer, name, done, _ = clients[i]
        done.clear()
        producer.publish(b"ping", routing_key=ctx.peers["amqp"]["queue"], reply_to=name)
        _until(done, lambda: _drain(conn))

    return wait


def _drain(conn) -> None:
    with contextlib.suppress(TimeoutError):
        conn.drain_events(timeout=1)


@case(
    "paho-mqtt",
    "publish + loop() until the reply published 0.2 s later",
    dists=("paho-mqtt",),
    modules=("paho",),
    services=("mqtt",),
    peers=("mqtt",),
    fix="Patch `socket` and `select` (every profile but `none`).",
)
def paho_rpc(ctx: Context):
    import paho.mqtt.client as paho

    svc, prefix = service("mqtt"), ctx.peers["mqtt"]["prefix"]
    clients = []
    for i in range(ctx.n):
        done: dict = {}
        client = paho.Client(paho.CallbackAPIVersion.VERSION2)
        client.on_message = lambda c, u, m, d=done: d.update(reply=True)
        client.on_subscribe = lambda *a, d=done: d.update(subscribed=True)
        client.connect(svc.host, svc.port)
        client.subscribe(f"{prefix}/rep/{os.getpid()}-{i}")
        deadline = time.monotonic() + DEADLINE_S
        while not done.get("subscribed") and time.monotonic() < deadline:
            client.loop(timeout=0.1)
        clients.append((client, done))

    def wait(i: int) -> None:
        client, done = clients[i]
        done.pop("reply", None)
        client.publish(f"{prefix}/req/{os.getpid()}-{i}", b"ping")
        _until(done, lambda: client.loop(timeout=0.05))

    return wait
