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


@case(
    "amqp",
    "basic_publish + drain_events answered in 0.2 s",
    dists=("amqp",),
    modules=("amqp",),
    services=("amqp",),
    peers=("amqp",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def py_amqp_rpc(ctx: Context):
    import amqp

    svc, c = service("amqp"), service("amqp").creds
    clients = []
    for _ in range(ctx.n):
        conn = amqp.Connection(
            f"{svc.host}:{svc.port}", userid=c["user"], password=c["password"], connect_timeout=10
        )
        conn.connect()
        ch = conn.channel()
        reply = ch.queue_declare("", exclusive=True).queue
        done: dict = {}
        ch.basic_consume(reply, callback=lambda m, d=done: d.update(reply=True), no_ack=True)
        clients.append((conn, ch, reply, done))

    def wait(i: int) -> None:
        conn, ch, reply, done = clients[i]
        done.clear()
        ch.basic_publish(
            amqp.Message(b"ping", reply_to=reply), routing_key=ctx.peers["amqp"]["queue"]
        )
        _until(done, lambda: _drain(conn))

    return wait


def _celery_round_trip(ctx: Context, pool: str):
    """``wait(i)``: send the peer's task to the ``pool`` worker, block on its result."""
    from celery import Celery

    peer = ctx.peers["celery_worker"]
    app = Celery("patchkit_compat_client", broker=peer["broker"], backend=peer["backend"])
    app.conf.broker_pool_limit = ctx.n  # one producer connection per concurrent wait
    queue = peer["queues"][pool]
    # Open the pool's broker connections and the result subscription before the clock starts:
    # ten first publishes would otherwise each connect to RabbitMQ inside the measurement.
    producers = [app.producer_pool.acquire(block=True, timeout=DEADLINE_S) for _ in range(ctx.n)]
    for producer in producers:
        producer.connection.default_channel  # noqa: B018 - connects: acquire() alone is lazy
        producer.release()
    app.send_task(peer["task"], queue=queue).get(timeout=DEADLINE_S)

    def wait(i: int) -> None:
        if app.send_task(peer["task"], queue=queue).get(timeout=DEADLINE_S) is not True:
            raise RuntimeError("the task returned something else than True")

    return wait


@case(
    "celery (publish)",
    "send_task + AsyncResult.get() (Redis results) of a 0.2 s task on a -P threads worker",
    dists=("celery", "kombu", "redis"),
    modules=("celery", "redis"),
    services=("amqp", "redis"),
    peers=("celery_worker",),
    fix="Use the `full` profile. Once `socket` is patched celery drains results in a greenlet "
    "that waits on redis-py's `threading.Event`: unpatched (`nothread`, `network`) it holds the "
    "hub and `AsyncResult.get()` hangs.",
)
def celery_publish(ctx: Context):
    return _celery_round_trip(ctx, "threads")


@case(
    "celery (-P gevent worker)",
    "send_task + get() of a 0.2 s time.sleep task on a real `celery worker -P gevent -c 20`: "
    "the client under the profile AND whether the worker runs the 10 tasks at once "
    "(a worker that serialises them takes ~2 s: blocks)",
    dists=("celery", "gevent"),
    modules=("celery", "redis"),
    services=("amqp", "redis"),
    peers=("celery_worker",),
    fix="Run the worker with `-P gevent` (it runs the burst's tasks at once; "
    "`python -m patchkit.celery` picks its profile) and give the client the `full` profile: "
    "see `celery (publish)`.",
)
def celery_gevent_worker(ctx: Context):
    return _celery_round_trip(ctx, "gevent")


@case(
    "stomp.py",
    "send with reply-to + a listener's threading.Event, answered in 0.2 s (RabbitMQ STOMP)",
    dists=("stomp.py",),
    modules=("stomp",),
    services=("amqp",),
    peers=("stomp_reply",),
    fix="Use the `full` profile: stomp.py's receiver thread reads the socket the caller's thread "
    "opened; with `socket` patched and `thread` not, that gevent socket fails in the other OS "
    "thread (EBADF) and connect() raises.",
)
def stomp_rpc(ctx: Context):
    import threading

    import stomp

    peer = ctx.peers["stomp_reply"]
    c = service("amqp").creds

    class Replied(stomp.ConnectionListener):
        def __init__(self) -> None:
            self.event = threading.Event()  # set on stomp.py's receiver thread

        def on_message(self, frame) -> None:
            self.event.set()

    clients = []
    for i in range(ctx.n):
        listener = Replied()
        replied = listener.event
        conn = stomp.Connection([(peer["host"], peer["port"])], reconnect_attempts_max=1)
        conn.set_listener("reply", listener)
        conn.connect(c["user"], c["password"], wait=True)
        clients.append((conn, replied, f"/temp-queue/patchkit-{i}"))

    def wait(i: int) -> None:
        conn, replied, reply_to = clients[i]
        replied.clear()
        conn.send(peer["destination"], "ping", headers={"reply-to": reply_to})
        if not replied.wait(DEADLINE_S):
            raise TimeoutError(f"no STOMP reply within {DEADLINE_S} s")

    return wait
