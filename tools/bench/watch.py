"""What ``patchkit.watch()`` costs a busy server, next to gevent's own monitor thread.

A pywsgi hello-world on 127.0.0.1 (free port) serves 50 keep-alive clients, each a greenlet with
a raw socket in a second process. Three server modes, interleaved round by round so drift in
the machine's load hits them all alike: no monitoring, ``patchkit.watch()``, and gevent's monitor
thread (``GEVENT_MONITOR_THREAD_ENABLE=1``). Prints requests/s (median of the rounds) and the loss
of each mode against the baseline, and the server's CPU time per request, which a machine busy
with other work disturbs far less.
Goal: the watch loses at most 2 % and no more than the monitor + 1 point.
``watch-noprobe`` is the switch watch without its loop-lag probe; ``tracer`` an empty
``greenlet.settrace`` callback, the floor any switch-timing watch pays.

    python tools/bench/watch.py [--rounds 5] [--seconds 3] [--clients 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from typing import Any

MODES = ("none", "monitor", "watch", "watch-noprobe", "tracer")
REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"


def serve_app() -> Any:
    """Start the hello-world server on a free port (after patching); returns it."""
    import socket

    from gevent.pywsgi import WSGIServer

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [b"hello"]

    class Server(WSGIServer):
        def handle(self, sock, address):
            # pywsgi writes headers and body separately: without this, Nagle and delayed ACKs
            # cap every connection at ~25 requests/s and the benchmark measures only latency.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return super().handle(sock, address)

    server = Server(("127.0.0.1", 0), app, log=None, error_log=None)
    server.start()
    return server


def serve(mode: str) -> None:
    from gevent import monkey

    monkey.patch_all()
    server = serve_app()
    if mode.startswith("watch"):
        from patchkit.detect.watch import Watch

        Watch(0.1, probe=mode == "watch").start()
    elif mode == "tracer":  # the floor: the cheapest possible greenlet tracer
        import greenlet

        greenlet.settrace(lambda event, args: None)
    print(server.server_port, flush=True)
    server.serve_forever()


def client(port: int, seconds: float, clients: int) -> None:
    from gevent import monkey

    monkey.patch_all()
    import socket
    import time

    import gevent

    counts = [0] * clients
    deadline = time.perf_counter() + seconds

    def one(slot: int) -> None:
        conn = socket.create_connection(("127.0.0.1", port))
        pending = b""
        while time.perf_counter() < deadline:
            conn.sendall(REQUEST)
            while not pending.endswith(b"hello"):
                chunk = conn.recv(65536)
                if not chunk:
                    return
                pending += chunk
            pending = b""
            counts[slot] += 1
        conn.close()

    started = time.perf_counter()
    gevent.joinall([gevent.spawn(one, n) for n in range(clients)])
    print(sum(counts) / (time.perf_counter() - started), sum(counts), flush=True)


def cpu_seconds(pid: int) -> float:
    """The user + system CPU time of ``pid`` so far (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def trial(mode: str, seconds: float, clients: int) -> tuple[float, float]:
    """Requests/s, and the server's CPU microseconds per request (less noisy on a busy box)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEVENT_", "PATCHKIT_"))}
    env["PYTHONWARNINGS"] = "ignore"  # the monitor's "install psutil" warning
    if mode == "monitor":
        env["GEVENT_MONITOR_THREAD_ENABLE"] = "1"
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the monitor thread reports its own finds at length
        text=True,
        env=env,
    )
    try:
        port = int(server.stdout.readline())  # type: ignore[union-attr]
        before = cpu_seconds(server.pid)
        out = subprocess.run(
            [sys.executable, __file__, "--client", str(port), str(seconds), str(clients)],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            env=env,
            check=True,
        )
        used = cpu_seconds(server.pid) - before
        rps, total = (float(word) for word in out.stdout.split())
        return rps, used / total * 1e6
    finally:
        server.kill()
        server.wait()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--serve", choices=MODES, help=argparse.SUPPRESS)
    p.add_argument("--client", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        return serve(args.serve)
    if args.client:
        return client(int(args.client[0]), float(args.client[1]), int(args.client[2]))
    rps: dict[str, list[float]] = {mode: [] for mode in MODES}
    cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
    for n in range(args.rounds):
        k = n % len(MODES)
        order = MODES[k:] + MODES[:k]  # rotate, so no mode always runs first
        for mode in order:
            rate, per_request = trial(mode, args.seconds, args.clients)
            rps[mode].append(rate)
            cpu[mode].append(per_request)
        print(f"round {n + 1}: " + ", ".join(f"{m} {rps[m][-1]:.0f}" for m in MODES))
    print(f"\n{args.clients} keep-alive clients, {args.rounds} rounds of {args.seconds:g} s")
    base_rps, base_cpu = statistics.median(rps["none"]), statistics.median(cpu["none"])
    for mode in MODES:
        rate, per_request = statistics.median(rps[mode]), statistics.median(cpu[mode])
        # Per round against that round's baseline: the machine's drift cancels out.
        losses = [(b - r) / b * 100 for b, r in zip(rps["none"], rps[mode], strict=True)]
        lo, hi = min(losses), max(losses)
        print(
            f"{mode:13} {rate:7.0f} req/s, loss {(base_rps - rate) / base_rps * 100:+5.1f} % "
            f"(paired median {statistics.median(losses):+5.1f} %, range {lo:+.1f}..{hi:+.1f})  "
            f"server CPU {per_request:6.1f} us/request, "
            f"cost {(per_request - base_cpu) / base_cpu * 100:+5.1f} %"
        )


if __name__ == "__main__":
    main()
