"""Benchmark: the deep PK105 walk against the floor, a bare identity walk over every module.

Same module set as ``tools/bench/scan.py`` (requests, redis, urllib3 imported before
``patch_all()``), plus state an app makes at start-up: a warmed ``requests.Session`` (local
server), a SQLAlchemy engine holding a PyMySQL connection (MariaDB on 127.0.0.1:3306, skipped
when absent) and a ``ThreadPoolExecutor``.

    python tools/bench/deep.py [--runs 31]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
warnings.simplefilter("ignore")

import redis  # noqa: E402,F401
import requests  # noqa: E402
import urllib3  # noqa: E402,F401
from _floor import floor, saved_ids, timed  # noqa: E402  -- tools/bench is sys.path[0]
from gevent import monkey  # noqa: E402

import patchkit  # noqa: E402,F401
from patchkit.detect.deep import prepatch_objects  # noqa: E402


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _app_state() -> dict[str, object]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    session = requests.Session()
    session.get(f"http://127.0.0.1:{server.server_address[1]}/")
    state: dict[str, object] = {"session": session, "executor": ThreadPoolExecutor(4)}
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine("mysql+pymysql://root@127.0.0.1:3306/test")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        state["engine"] = engine
    except Exception as exc:  # noqa: BLE001 -- a benchmark without MariaDB still runs
        print(f"(no SQLAlchemy engine: {type(exc).__name__})")
    return state


APP = _app_state()
globals().update(APP)  # this script is __main__: its globals are the app's
monkey.patch_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    options = parser.parse_args(argv)
    targets = saved_ids()
    findings = prepatch_objects()
    deep_ms = statistics.median(timed(prepatch_objects, options.runs)) * 1000
    floor_ms = statistics.median(timed(lambda: floor(targets), options.runs)) * 1000
    print(f"modules loaded: {len(sys.modules)}; deep findings: {len(findings)}")
    for finding in findings:
        print(f"  {finding.object} ({finding.detail['kind']}, {finding.detail['count']})")
    print(f"floor (identity walk) median: {floor_ms:.2f} ms")
    print(f"deep walk median:             {deep_ms:.2f} ms")
    print(f"ratio: {deep_ms / floor_ms:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
