"""Soak: the production watch left on under load, with a 150 ms stall injected every second.

The pywsgi hello-world of ``tools/bench/watch.py`` runs with ``patchkit.detect.production``
(threshold 0.1 s) for ``--seconds`` under 50 keep-alive clients, while a greenlet busy-loops
150 ms once a second. Prints the resident memory after the first minute (or a sixth of the run
when shorter) and at the end, the stalls injected and the stalls counted (``watch_stats()``), and
the throughput after the first minute (requests the server counted). Goal (issue 13): memory at
the end within 5 MB of that after 1 minute, every injected stall counted.

    python tools/bench/soak.py [--seconds 600] [--clients 50]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def serve(seconds: float) -> None:
    from gevent import monkey

    monkey.patch_all()
    import time

    import gevent
    from watch import hello, serve_app  # type: ignore[import-not-found]

    import patchkit
    from patchkit.detect import production

    logging.basicConfig(stream=open(os.devnull, "w"))  # noqa: SIM115 - the logs are not the point
    production.start(0.1, every=10)
    served = [0]

    def counting(environ: dict, start_response: object) -> list[bytes]:
        served[0] += 1
        return hello(environ, start_response)

    server = serve_app(counting)
    injected = [0]

    def inject() -> None:
        while True:
            gevent.sleep(1.0)
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < 0.15:
                pass
            injected[0] += 1

    def report() -> None:
        early = min(60.0, seconds / 6)
        gevent.sleep(early)
        at_early = rss_mb()
        began, served_early = time.perf_counter(), served[0]
        gevent.sleep(seconds - early)
        rate = (served[0] - served_early) / (time.perf_counter() - began)
        stats = patchkit.watch_stats()
        print(
            json.dumps(
                {
                    "early_s": early,
                    "rss_early_mb": round(at_early, 2),
                    "rss_end_mb": round(rss_mb(), 2),
                    "injected": injected[0],
                    "counted": stats["count"],
                    "max_s": stats["max_s"],
                    "sites": len(stats["sites"]),
                    "req_per_s": round(rate),
                }
            ),
            flush=True,
        )
        server.stop()

    gevent.spawn(inject)
    gevent.spawn(report)
    print(server.server_port, flush=True)
    server.serve_forever()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=600.0)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--serve", type=float, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        return serve(args.serve)
    here = os.path.dirname(os.path.abspath(__file__))
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(args.seconds)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    port = int(server.stdout.readline())
    # The load runs until the server stops (watch.py's client); the rate is the server's count.
    client = subprocess.Popen(
        [sys.executable, os.path.join(here, "watch.py"), "--client", str(port), str(args.clients)]
    )
    try:
        result = json.loads(server.stdout.readline())
        server.wait(timeout=30)
    finally:
        client.kill()
        client.wait()
    result["rss_growth_mb"] = round(result["rss_end_mb"] - result["rss_early_mb"], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
