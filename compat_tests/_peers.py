"""The other side of every wait: small servers that answer after WAIT_S, in another process.

``python -m compat_tests._peers KIND`` starts one peer, prints ``READY {json}`` (where to reach
it) and serves until its stdin closes, so a peer never outlives the suite that started it. Peers
run unpatched, answer each request on its own timer or thread (waits can overlap) and only ever
listen on 127.0.0.1.
"""

from __future__ import annotations

import heapq
import json
import os
import shutil
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from compat_tests import WAIT_S
from compat_tests.services import service

HOST = "127.0.0.1"


class _DelayedEcho(socketserver.StreamRequestHandler):
    """Each line comes back WAIT_S after it arrived."""

    def handle(self) -> None:
        for line in self.rfile:
            time.sleep(WAIT_S)
            self.wfile.write(line)
            self.wfile.flush()


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def tcp() -> dict:
    server = _TCPServer((HOST, 0), _DelayedEcho)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return {"port": server.server_address[1]}


def tls() -> dict:
    from compat_tests._tls import make_cert

    cert, key = make_cert(Path(tempfile.mkdtemp(prefix="patchkit-tls-")))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    class Server(_TCPServer):
        def get_request(self):  # handshake in the handler thread, not the accept loop
            sock, addr = super().get_request()
            return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    server = Server((HOST, 0), _DelayedEcho)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return {"port": server.server_address[1], "cafile": str(cert)}


class _SlowHTTP(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like real clients' pools

    def do_GET(self) -> None:
        time.sleep(WAIT_S)
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the listen() backlog: 10 simultaneous connects must not overflow it


def http() -> dict:
    server = _HTTPServer((HOST, 0), _SlowHTTP)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return {"port": server.server_address[1], "url": f"http://{HOST}:{server.server_address[1]}/"}


def _dns_answer(query: bytes) -> bytes:
    """An A record 127.0.0.1 for whatever single question was asked (RFC 1035 wire format)."""
    end = 12
    while query[end]:
        end += query[end] + 1
    question = query[12 : end + 5]
    header = query[:2] + b"\x81\x80" + b"\x00\x01\x00\x01\x00\x00\x00\x00"
    answer = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + socket.inet_aton(HOST)
    return header + question + answer


def dns() -> dict:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 0))

    def serve() -> None:
        while True:
            data, addr = sock.recvfrom(4096)
            reply = _dns_answer(data)
            threading.Timer(WAIT_S, sock.sendto, (reply, addr)).start()

    threading.Thread(target=serve, daemon=True).start()
    return {"port": sock.getsockname()[1]}


def zmq() -> dict:
    import zmq as zmq_

    router = zmq_.Context.instance().socket(zmq_.ROUTER)
    port = router.bind_to_random_port(f"tcp://{HOST}")

    def serve() -> None:
        pending: list[tuple[float, int, list[bytes]]] = []
        seq = 0
        while True:
            timeout = max(0, int((pending[0][0] - time.monotonic()) * 1000)) if pending else 1000
            if router.poll(timeout):
                seq += 1
                heapq.heappush(pending, (time.monotonic() + WAIT_S, seq, router.recv_multipart()))
            while pending and pending[0][0] <= time.monotonic():
                router.send_multipart(heapq.heappop(pending)[2])

    threading.Thread(target=serve, daemon=True).start()
    return {"port": port}


GRPC_METHOD = "/patchkit.compat.Waiter/Wait"


def grpc() -> dict:
    from concurrent.futures import ThreadPoolExecutor

    import grpc as grpc_

    def wait(request: bytes, context: object) -> bytes:
        time.sleep(WAIT_S)
        return request

    handler = grpc_.method_handlers_generic_handler(
        "patchkit.compat.Waiter", {"Wait": grpc_.unary_unary_rpc_method_handler(wait)}
    )
    server = grpc_.server(ThreadPoolExecutor(max_workers=32), handlers=(handler,))
    port = server.add_insecure_port(f"{HOST}:0")
    server.start()
    return {"port": port, "method": GRPC_METHOD, "_keep": server}


def amqp() -> dict:
    """Replies to each request on its reply_to queue WAIT_S after it arrived."""
    import pika

    svc = service("amqp")
    creds = svc.creds
    params = pika.ConnectionParameters(
        svc.host, svc.port, credentials=pika.PlainCredentials(creds["user"], creds["password"])
    )
    queue = f"patchkit.compat.requests.{os.getpid()}"
    ready = threading.Event()

    def serve() -> None:
        connection = pika.BlockingConnection(params)
        channel = connection.channel()
        channel.queue_declare(queue, auto_delete=True)

        def on_request(ch, method, props, body) -> None:
            reply = pika.BasicProperties(correlation_id=props.correlation_id)
            connection.call_later(WAIT_S, lambda: ch.basic_publish("", props.reply_to, body, reply))
            ch.basic_ack(method.delivery_tag)

        channel.basic_consume(queue, on_request)
        ready.set()
        channel.start_consuming()

    threading.Thread(target=serve, daemon=True).start()
    if not ready.wait(30):
        raise RuntimeError("the AMQP peer could not start consuming")
    return {"queue": queue}


def mqtt() -> dict:
    """Answers ``<prefix>/req/<id>`` on ``<prefix>/rep/<id>`` WAIT_S later."""
    import paho.mqtt.client as paho

    svc = service("mqtt")
    prefix = f"patchkit/compat/{os.getpid()}"
    ready = threading.Event()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)

    def on_connect(c, userdata, flags, reason, props) -> None:
        c.subscribe(f"{prefix}/req/+", qos=0)

    def on_message(c, userdata, msg) -> None:
        topic = msg.topic.replace("/req/", "/rep/")
        threading.Timer(WAIT_S, c.publish, (topic, msg.payload)).start()

    client.on_connect = on_connect
    client.on_subscribe = lambda *args: ready.set()
    client.on_message = on_message
    client.connect(svc.host, svc.port)
    client.loop_start()
    if not ready.wait(30):
        raise RuntimeError("the MQTT peer could not subscribe")
    return {"prefix": prefix}


PEERS = {f.__name__: f for f in (tcp, tls, http, dns, zmq, grpc, amqp, mqtt)}


def start(kind: str) -> dict:
    """Start the peer ``kind``: one of PEERS, or ``compat_tests/peers/<kind>.py``'s ``start()``.

    New peers go in their own module under ``compat_tests/peers/`` (a server binary started on a
    free port in a temporary directory, or a small Python server), so adding one touches no
    shared file.
    """
    if kind in PEERS:
        return PEERS[kind]()
    import importlib

    return importlib.import_module(f"compat_tests.peers.{kind}").start()


SCRATCH_PREFIX = "patchkit-peer-"


def _scratch(kind: str) -> str:
    """A temporary directory for everything this peer and its servers write, removed at exit.

    Peers make key files, databases and work directories with ``tempfile``; pointing
    ``tempfile`` and ``TMPDIR`` (for the servers they start) here lets one ``rmtree`` take it
    all. A peer killed outright cannot clean up: the next peer removes scratch directories
    whose peer process is gone.
    """
    root = tempfile.gettempdir()
    for old in Path(root).glob(f"{SCRATCH_PREFIX}*"):
        pid = old.name.rsplit("-", 2)[-2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    scratch = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{kind}-{os.getpid()}-", dir=root)
    tempfile.tempdir = scratch
    os.environ["TMPDIR"] = scratch
    return scratch


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(kind: str) -> None:
    scratch = _scratch(kind)
    status = 0
    try:
        info = start(kind)
    except RuntimeError as exc:  # a missing server binary: the message is the skip reason
        print(exc, file=sys.stderr, flush=True)
        status = 1
    else:
        public = {k: v for k, v in info.items() if not k.startswith("_")}
        print("READY " + json.dumps(public), flush=True)
        sys.stdin.read()  # returns when the suite closes our stdin or dies
    shutil.rmtree(scratch, ignore_errors=True)
    os._exit(status)  # servers and threads tied to this process end with it


if __name__ == "__main__":
    main(sys.argv[1])
