"""The native-client table: C-extension clients that do their I/O in C, below gevent's reach.

Patching swaps Python's socket; a client whose network code is C (libpq, libmysqlclient, gRPC
core, libzmq, librdkafka, libmemcached, ODBC, FreeTDS, OCI) never touches it, so each query or
call holds the hub for its whole duration. Each row says how to tell that the client has been
made cooperative (``None`` from ``cooperative`` when it cannot be), and the fix.

Pure-Python clients (PyMySQL, redis-py, requests, urllib3, pymemcache, psycopg 3's Python wait
loop) use the patched socket and are never reported; the ``hiredis`` parser is C but does no I/O.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class NativeClient:
    library: str  # the name users install
    module: str  # loaded when the C part is in use
    cooperative: Callable[[], bool | None]  # True: made cooperative; None: cannot tell
    how: str  # how patchkit tells
    fix: str
    # Objects whose presence in an application module's globals means the plain client is in
    # use (pyzmq: the plain module and classes, not zmq.green's); reported per holding module.
    held: tuple[str, ...] = ()


def _never() -> bool:
    return False


def _unknown() -> None:
    return None


def _psycopg2() -> bool:
    extensions = sys.modules.get("psycopg2.extensions")
    return extensions is not None and extensions.get_wait_callback() is not None


def _grpc() -> bool:
    cygrpc = sys.modules.get("grpc._cython.cygrpc")
    return bool(getattr(cygrpc, "g_gevent_activated", False))


def _oracledb() -> bool:
    oracledb = sys.modules.get("oracledb")
    is_thin = getattr(oracledb, "is_thin_mode", None)
    return bool(is_thin()) if is_thin else True


def _psycopg3() -> bool:
    """psycopg 3.1.5-3.1.13 waited in C (``wait_c``) without gevent; 3.1.14 fixed it (#688)."""
    psycopg = sys.modules.get("psycopg")
    version = tuple(
        int(p) for p in getattr(psycopg, "__version__", "0").split(".")[:3] if p.isdigit()
    )
    if not (3, 1, 5) <= version < (3, 1, 14):
        return True
    pq = sys.modules.get("psycopg.pq")
    return getattr(pq, "__impl__", "python") == "python"


NATIVE_CLIENTS: tuple[NativeClient, ...] = (
    NativeClient(
        "psycopg2",
        "psycopg2._psycopg",
        _psycopg2,
        "psycopg2.extensions.get_wait_callback() is set",
        "Install psycogreen's wait callback after patching (`psycogreen.gevent.patch_psycopg()`), "
        'or add `integrations = ["psycopg2"]` to the profile.',
    ),
    NativeClient(
        "mysqlclient",
        "MySQLdb._mysql",
        _never,
        "libmysqlclient has no hook for an event loop",
        "Use PyMySQL (pure Python, cooperative once patched), or run queries in "
        "`gevent.get_hub().threadpool`.",
    ),
    NativeClient(
        "grpcio",
        "grpc._cython.cygrpc",
        _grpc,
        "grpc._cython.cygrpc.g_gevent_activated is true",
        "Call `grpc.experimental.gevent.init_gevent()` right after patching, before any channel "
        'or server is made, or add `integrations = ["grpc"]` to the profile.',
    ),
    NativeClient(
        "pyzmq",
        "zmq",
        _never,
        "a module holds plain zmq (or its Context/Socket) instead of zmq.green",
        "Use `import zmq.green as zmq`: its sockets wait on zmq.FD with gevent.",
        held=("zmq", "zmq.Context", "zmq.Socket"),
    ),
    NativeClient(
        "confluent-kafka",
        "confluent_kafka.cimpl",
        _never,
        "librdkafka waits in C (confluent-kafka-python#612, wontfix)",
        "Call `poll(0)`/`flush(0)` in a loop with `gevent.sleep()`, or run the client in "
        "`gevent.get_hub().threadpool`.",
    ),
    NativeClient(
        "pylibmc",
        "pylibmc._pylibmc",
        _never,
        "libmemcached waits in C",
        "Use pymemcache (pure Python), or run calls in `gevent.get_hub().threadpool`.",
    ),
    NativeClient(
        "pyodbc",
        "pyodbc",
        _never,
        "the ODBC driver waits in C",
        "Run queries in `gevent.get_hub().threadpool`.",
    ),
    NativeClient(
        "pymssql",
        "pymssql._mssql",
        _unknown,
        "FreeTDS waits in C unless `pymssql.set_wait_callback()` installed a gevent waiter, "
        "which patchkit cannot see",
        "Install a gevent wait callback (`pymssql.set_wait_callback(...)` with "
        "`gevent.socket.wait_read`), or run queries in `gevent.get_hub().threadpool`; then "
        "suppress with `# patchkit: ignore[PK201]`.",
    ),
    NativeClient(
        "cx_Oracle",
        "cx_Oracle",
        _never,
        "OCI waits in C",
        "Use python-oracledb in thin mode (pure Python), or run queries in "
        "`gevent.get_hub().threadpool`.",
    ),
    NativeClient(
        "oracledb",
        "oracledb",
        _oracledb,
        "oracledb.is_thin_mode() is true",
        "Stay in thin mode (do not call `oracledb.init_oracle_client()`), or run queries in "
        "`gevent.get_hub().threadpool`.",
    ),
    NativeClient(
        "psycopg",
        "psycopg",
        _psycopg3,
        "psycopg older than 3.1.5 or newer than 3.1.13, or the Python implementation",
        "Upgrade to psycopg >= 3.1.14 (psycopg#688), or set `PSYCOPG_IMPL=python`.",
    ),
)


def blocking_clients() -> list[NativeClient]:
    """Loaded rows without ``held`` that are not made cooperative (``None`` counts as blocking)."""
    return [
        row
        for row in NATIVE_CLIENTS
        if not row.held and row.module in sys.modules and row.cooperative() is not True
    ]


def held_objects() -> dict[int, NativeClient]:
    """``id(object) -> row`` for the loaded objects that show a plain native client in use."""
    out: dict[int, NativeClient] = {}
    for row in NATIVE_CLIENTS:
        if row.module not in sys.modules:
            continue
        for dotted in row.held:
            module, _, attr = dotted.rpartition(".")
            obj = (
                sys.modules.get(dotted)
                if not module
                else getattr(sys.modules.get(module), attr, None)
            )
            if obj is not None:
                out[id(obj)] = row
    return out
