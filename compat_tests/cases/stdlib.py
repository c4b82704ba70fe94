"""Standard-library I/O: sockets, TLS, HTTP, subprocesses, sleeping and name resolution."""

from __future__ import annotations

import shutil

from compat_tests.cases import Context, case


def _connect(port: int):
    import socket

    return socket.create_connection(("127.0.0.1", port), timeout=30)


@case(
    "socket",
    "recv of a line echoed 0.2 s later",
    peers=("tcp",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def socket_recv(ctx: Context):
    conns = [_connect(ctx.peers["tcp"]["port"]).makefile("rwb") for _ in range(ctx.n)]
    return _line_wait(conns)


@case(
    "ssl",
    "TLS recv of a line echoed 0.2 s later",
    peers=("tls",),
    fix="Patch `socket` and `ssl` (every profile but `none`) before `ssl` is imported.",
)
def ssl_recv(ctx: Context):
    import ssl

    context = ssl.create_default_context(cafile=ctx.peers["tls"]["cafile"])
    conns = []
    for _ in range(ctx.n):
        sock = context.wrap_socket(_connect(ctx.peers["tls"]["port"]), server_hostname="localhost")
        conns.append(sock.makefile("rwb"))
    return _line_wait(conns)


def _line_wait(conns: list):
    def wait(i: int) -> None:
        conns[i].write(b"ping\n")
        conns[i].flush()
        assert conns[i].readline() == b"ping\n"

    return wait


@case(
    "http.client",
    "GET answered in 0.2 s",
    peers=("http",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def http_client(ctx: Context):
    import http.client

    port = ctx.peers["http"]["port"]
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(ctx.n)]

    def wait(i: int) -> None:
        conns[i].request("GET", "/wait")
        response = conns[i].getresponse()
        assert response.status == 200 and response.read() == b"ok\n"

    return wait


@case(
    "urllib.request",
    "urlopen answered in 0.2 s",
    peers=("http",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def urllib_request(ctx: Context):
    import urllib.request

    url = ctx.peers["http"]["url"] + "wait"

    def wait(i: int) -> None:
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.read() == b"ok\n"

    return wait


@case(
    "subprocess",
    "subprocess.run(['sleep', '0.2'])",
    fix="Patch `subprocess` (`full`, `nothread`), or use `gevent.subprocess`.",
)
def subprocess_run(ctx: Context):
    import subprocess

    sleep = shutil.which("sleep")
    assert sleep, "no sleep(1) executable on PATH"

    def wait(i: int) -> None:
        subprocess.run([sleep, str(ctx.wait_s)], check=True, timeout=30)

    return wait


@case(
    "time.sleep",
    "time.sleep(0.2)",
    fix="Patch `time` (`full`, `nothread`), or call `gevent.sleep`.",
)
def time_sleep(ctx: Context):
    import time

    return lambda i: time.sleep(ctx.wait_s)


@case(
    "socket.getaddrinfo",
    "getaddrinfo('localhost', 80)",
    mode="yield",
    fix="Patch `dns` (every profile but `none`): gevent resolves in its thread pool.",
)
def getaddrinfo(ctx: Context):
    # Resolving localhost takes microseconds, too fast to time and the suite must not query
    # outside DNS: the measurement is whether the call yields to the hub while it waits, which
    # is what decides whether a slow DNS server would stall every greenlet (see _measure).
    import socket

    def wait(i: int) -> None:
        assert socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)

    return wait
