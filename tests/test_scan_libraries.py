"""Real libraries imported before or after patching: what is reported and what really blocks."""

from __future__ import annotations

import pytest

from tests.scan_helpers import QUIET, STALL, of, require_port, run_scan

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=5"
PG_SLEEP = f"""
import psycopg2
conn = psycopg2.connect({PG_DSN!r})  # connected first: only the query is measured
def query():
    conn.cursor().execute("SELECT pg_sleep(0.4)")
out["harm"] = hub_gap(query)
conn.close()
"""


def test_urllib3_sslcontext_imported_before_patching_is_reported_and_recurses() -> None:
    result = run_scan(
        before="import requests",
        harm="""
        import urllib3.util.ssl_
        out["harm"] = hub_gap(urllib3.util.ssl_.create_urllib3_context)
        """,
    )
    [finding] = of(result, "PK102", "urllib3.util.ssl_")
    assert finding["object"] == "ssl.SSLContext"
    assert not of(result, "PK102", "urllib3.util")  # the package's re-export is not repeated
    # urllib3's pools keep queue.LifoQueue from before patching: measured harmless, not reported
    assert not [f for f in result["findings"] if "Queue" in (f["object"] or "")]
    assert result["harm"]["error"] == "RecursionError"


def test_requests_imported_after_patching_is_clean() -> None:
    result = run_scan(
        after="import requests, urllib3.util.ssl_",
        harm='out["harm"] = hub_gap(urllib3.util.ssl_.create_urllib3_context)',
    )
    assert not [f for f in result["findings"] if f["module"].startswith(("urllib3", "requests"))]
    assert result["harm"]["error"] is None


def test_redis_retry_sleep_is_reported_and_its_backoff_blocks_the_hub() -> None:
    result = run_scan(
        before="import redis",
        harm="""
        from redis.backoff import ConstantBackoff
        from redis.retry import Retry
        def flaky():
            raise ConnectionError("down")
        def retry():
            Retry(ConstantBackoff(0.3), 1, supported_errors=(ConnectionError,)).call_with_retry(
                flaky, lambda error: None
            )
        out["harm"] = hub_gap(retry)
        """,
    )
    [finding] = of(result, "PK102", "redis.retry")
    assert finding["object"] == "time.sleep" and finding["line"] == 3
    assert result["harm"]["gap"] >= STALL


def test_psycopg2_without_wait_callback_is_reported_and_blocks_the_hub() -> None:
    require_port(5432, "PostgreSQL")
    result = run_scan(after="import psycopg2", harm=PG_SLEEP)
    [finding] = of(result, "PK201")
    assert finding["object"] == "psycopg2" and "psycogreen" in finding["fix"]
    assert result["harm"]["error"] is None, result["harm"]
    assert result["harm"]["gap"] >= STALL


def test_psycopg2_with_psycogreen_is_not_reported_and_cooperates() -> None:
    require_port(5432, "PostgreSQL")
    result = run_scan(
        after="import psycopg2, psycogreen.gevent\npsycogreen.gevent.patch_psycopg()",
        harm=PG_SLEEP,
    )
    assert not of(result, "PK201")
    assert result["harm"]["error"] is None, result["harm"]
    assert result["harm"]["gap"] < QUIET


def test_pymysql_is_never_reported_and_cooperates() -> None:
    require_port(3306, "MariaDB")
    result = run_scan(
        after="import pymysql",
        harm="""
        conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="",
                               database="test", connect_timeout=5)
        def query():
            conn.cursor().execute("SELECT SLEEP(0.4)")
        out["harm"] = hub_gap(query)
        conn.close()
        """,
    )
    assert not of(result, "PK201")
    assert result["harm"]["error"] is None, result["harm"]
    assert result["harm"]["gap"] < QUIET


def test_grpc_without_init_gevent_is_reported() -> None:
    result = run_scan(after="import grpc")
    assert [f["object"] for f in of(result, "PK201")] == ["grpcio"]


def test_grpc_after_init_gevent_is_not_reported() -> None:
    result = run_scan(
        after="import grpc, grpc.experimental.gevent\ngrpc.experimental.gevent.init_gevent()"
    )
    assert not of(result, "PK201")


ZMQ_RECV = """
def receive():
    sock = ctx.socket(zmq.PULL)
    sock.bind("inproc://scan-test")
    try:
        sock.poll(400)  # nothing arrives: plain zmq waits in C, zmq.green on the hub
    finally:
        sock.close(linger=0)
out["harm"] = hub_gap(receive)
"""


def test_plain_zmq_is_reported_where_it_is_held_and_blocks_the_hub() -> None:
    result = run_scan(
        after="""
        import sys, types, zmq
        app = types.ModuleType("scan_zmq_app")
        exec("import zmq\\n", app.__dict__)
        sys.modules["scan_zmq_app"] = app
        ctx = zmq.Context()
        """,
        harm=ZMQ_RECV,
    )
    assert "scan_zmq_app" in [f["module"] for f in of(result, "PK201")]
    assert result["harm"]["gap"] >= STALL


def test_zmq_green_is_not_reported_and_cooperates() -> None:
    result = run_scan(
        after="""
        import sys, types
        import zmq.green as zmq
        app = types.ModuleType("scan_zmq_app")
        exec("import zmq.green as zmq\\n", app.__dict__)
        sys.modules["scan_zmq_app"] = app
        ctx = zmq.Context()
        """,
        harm=ZMQ_RECV,
    )
    assert not of(result, "PK201")
    assert result["harm"]["gap"] < QUIET


@pytest.mark.parametrize("gevent_in_use", ["None", "False"])
def test_native_clients_are_not_reported_where_gevent_is_not_in_use(gevent_in_use: str) -> None:
    result = run_scan(patch="", after="import grpc", scan_args=f"gevent_in_use={gevent_in_use}")
    assert not of(result, "PK201")


def test_native_clients_are_reported_when_the_audit_says_gevent_runs_unpatched() -> None:
    result = run_scan(patch="", after="import grpc", scan_args="gevent_in_use=True")
    assert [f["object"] for f in of(result, "PK201")] == ["grpcio"]
