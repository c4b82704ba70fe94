"""What ``patchkit.watch()`` costs a busy server, next to gevent's own monitor thread.

A pywsgi hello-world on 127.0.0.1 (free port) serves 50 keep-alive clients, each a greenlet with
a raw socket in a second process. Three server modes, interleaved round by round so drift in
the machine's load hits them all alike: no monitoring, ``patchkit.watch()``, and gevent's monitor
thread (``GEVENT_MONITOR_THREAD_ENABLE=1``). Prints requests/s (median of the rounds) and the loss
of each mode against the baseline, and the server's CPU time per request, which a machine busy
with other work disturbs far less.
Goal: the watch loses at most 2 % and no more than the monitor + 1 point, on throughput and on
CPU per request alike; the last lines say, per mode, whether it holds.
``watch`` uses the C tracer (``patchkit/detect/_switchtimer.c``) where it was built,
``watch-python`` forces the pure-Python tracer (``PATCHKIT_NO_SPEEDUPS=1``), ``watch-noprobe``
is the watch without its loop-lag probe, ``tracer`` an empty Python ``greenlet.settrace``
callback (what any Python tracer pays at least).

    python tools/bench/watch.py [--rounds 5] [--seconds 3] [--clients 50] [--pin]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from typing import Any

MODES = ("none", "monitor", "watch", "watch-python", "watch-noprobe", "tracer")
WATCHES = ("watch", "watch-python", "watch-noprobe")
GOAL_LOSS = 2.0  # per cent, and at most the monitor's + GOAL_OVER_MONITOR
GOAL_OVER_MONITOR = 1.0
REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"


def hello(environ: dict, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


def serve_app(app: Any = hello) -> Any:
    """Start the hello-world server (or ``app``) on a free port (after patching); returns it."""
    import socket

    from gevent.pywsgi import WSGIServer

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
    tracer = "-"
    if mode in WATCHES:
        from patchkit.detect.watch import Watch

        watch = Watch(0.1, probe=mode != "watch-noprobe").start()
        tracer = "c" if watch.accelerated else "python"
    elif mode == "tracer":  # the floor of a Python tracer: one empty call per switch
        import greenlet

        greenlet.settrace(lambda event, args: None)
    print(server.server_port, tracer, flush=True)
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
    """The CPU time of ``pid`` so far, all its threads (Linux /proc; 0 elsewhere).

    The scheduler's nanosecond count (``schedstat``) where there is one: ``stat``'s clock ticks
    (10 ms) are too coarse for a few seconds of load.
    """
    try:
        total = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as handle:
                total += int(handle.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pinned(cpu: int | None) -> Any:
    """A ``preexec_fn`` that keeps the child on one CPU (None: wherever the kernel puts it)."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def trial(mode: str, seconds: float, clients: int, pin: bool = False) -> tuple[float, float, str]:
    """Requests/s, the server's CPU microseconds per request (less noisy on a busy box), and
    which tracer the watch used (c, python, or - for the other modes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEVENT_", "PATCHKIT_"))}
    env["PYTHONWARNINGS"] = "ignore"  # the monitor's "install psutil" warning
    if mode == "monitor":
        env["GEVENT_MONITOR_THREAD_ENABLE"] = "1"
    if mode == "watch-python":
        env["PATCHKIT_NO_SPEEDUPS"] = "1"
    # Pinned, the server (and its monitoring threads) and the client do not take each other's
    # core turn by turn, which otherwise moves the figures by tens of per cent between rounds.
    cpus = sorted(os.sched_getaffinity(0)) if pin and hasattr(os, "sched_getaffinity") else []
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the monitor thread reports its own finds at length
        text=True,
        env=env,
        preexec_fn=pinned(server_cpu),
    )
    try:
        port_word, tracer = server.stdout.readline().split()  # type: ignore[union-attr]
        port = int(port_word)
        before = cpu_seconds(server.pid)
        out = subprocess.run(
            [sys.executable, __file__, "--client", str(port), str(seconds), str(clients)],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            env=env,
            check=True,
            preexec_fn=pinned(client_cpu),
        )
        used = cpu_seconds(server.pid) - before
        rps, total = (float(word) for word in out.stdout.split())
        return rps, used / total * 1e6, tracer
    finally:
        server.kill()
        server.wait()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--pin", action="store_true", help="pin the server and the client to a CPU each")
    p.add_argument("--serve", choices=MODES, help=argparse.SUPPRESS)
    p.add_argument("--client", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        return serve(args.serve)
    if args.client:
        return client(int(args.client[0]), float(args.client[1]), int(args.client[2]))
    rps: dict[str, list[float]] = {mode: [] for mode in MODES}
    cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
    tracers: dict[str, set[str]] = {mode: set() for mode in MODES}
    for n in range(args.rounds):
        k = n % len(MODES)
        order = MODES[k:] + MODES[:k]  # rotate, so no mode always runs first
        for mode in order:
            rate, per_request, tracer = trial(mode, args.seconds, args.clients, args.pin)
            rps[mode].append(rate)
            cpu[mode].append(per_request)
            tracers[mode].add(tracer)
        print(f"round {n + 1}: " + ", ".join(f"{m} {rps[m][-1]:.0f}" for m in MODES), flush=True)
    report(rps, cpu, tracers, args)


def paired(base: list[float], values: list[float], sign: int) -> list[float]:
    """Per round, the mode's change against that round's baseline, in per cent (drift cancels)."""
    return [sign * (v - b) / b * 100 for b, v in zip(base, values, strict=True)]


def report(
    rps: dict[str, list[float]],
    cpu: dict[str, list[float]],
    tracers: dict[str, set[str]],
    args: argparse.Namespace,
) -> None:
    med = statistics.median
    print(f"\n{args.clients} keep-alive clients, {args.rounds} rounds of {args.seconds:g} s")
    print("loss = throughput lost vs none, cost = server CPU per request added vs none;")
    print("both the median of the per-round changes (range in brackets)\n")
    loss = {m: paired(rps["none"], rps[m], -1) for m in MODES}
    cost = {m: paired(cpu["none"], cpu[m], +1) for m in MODES}
    for mode in MODES:
        used = "/".join(sorted(tracers[mode] - {"-"}))
        print(
            f"{mode:13} {med(rps[mode]):7.0f} req/s  loss {med(loss[mode]):+5.1f} % "
            f"[{min(loss[mode]):+.1f}..{max(loss[mode]):+.1f}]  "
            f"{med(cpu[mode]):6.1f} us/request  cost {med(cost[mode]):+5.1f} % "
            f"[{min(cost[mode]):+.1f}..{max(cost[mode]):+.1f}]"
            + (f"  tracer {used}" if used else "")
        )
    print(f"\ngoal: <= {GOAL_LOSS:g} % and <= monitor + {GOAL_OVER_MONITOR:g} point")
    for mode in WATCHES:
        verdicts = []
        for name, values in (("throughput", loss), ("CPU/request", cost)):
            mine, monitor = med(values[mode]), med(values["monitor"])
            limit = min(GOAL_LOSS, monitor + GOAL_OVER_MONITOR)
            verdict = "met" if mine <= limit else "NOT met"
            verdicts.append(f"{name} {mine:+.1f} % (limit {limit:+.1f}) {verdict}")
        print(f"{mode:13} " + "; ".join(verdicts))


if __name__ == "__main__":
    main()
