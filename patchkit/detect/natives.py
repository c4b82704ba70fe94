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
class Integration:
    """A built-in integration: the library's own hook, run after patching (``integrations``)."""

    name: str  # what a profile lists in ``integrations = [...]``
    requires: tuple[str, ...]  # modules that must import for it to work
    extra: str  # pip install patchkit[extra]
    target: str  # "module:function" to call after patching
    summary: str


@dataclass(frozen=True)
class NativeClient:
    """One C client: how to see it in use, whether it was made cooperative, and the fix."""

    library: str  # the name users install
    module: str  # the package users import (where scan finds who imported it)
    extensions: tuple[str, ...]  # its C extension modules: any loaded means the C part is in use
    cooperative: Callable[[], bool | None]  # True: made cooperative; None: cannot tell
    how: str  # how patchkit tells
    remedy: str  # the fix, without the integration (added by ``fix``)
    # Objects whose presence in an application module's globals means the plain client is in
    # use (pyzmq: the plain module and classes, not zmq.green's); reported per holding module.
    held: tuple[str, ...] = ()
    integration: Integration | None = None  # the built-in integration that makes it cooperative

    @property
    def loaded(self) -> bool:
        return any(name in sys.modules for name in self.extensions)

    @property
    def fix(self) -> str:
        """What to do, ending with the integration that does it when there is one."""
        if self.integration is None:
            return self.remedy
        return f'{self.remedy}, or add `integrations = ["{self.integration.name}"]` to the profile.'


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


PSYCOPG2 = Integration(
    "psycopg2",
    ("psycopg2", "psycogreen"),
    "psycopg2",
    "psycogreen.gevent:patch_psycopg",
    "psycogreen's wait callback: psycopg2 waits on the hub instead of blocking in libpq",
)
GRPC = Integration(
    "grpc",
    ("grpc",),
    "grpc",
    "grpc.experimental.gevent:init_gevent",
    "grpc.experimental.gevent.init_gevent(): gRPC's C core polls through gevent",
)

# Each row's extension modules are checked against the real package by
# tests/test_natives_installed.py wherever the library installs.
NATIVE_CLIENTS: tuple[NativeClient, ...] = (
    NativeClient(
        "psycopg2",
        "psycopg2",
        ("psycopg2._psycopg",),
        _psycopg2,
        "psycopg2.extensions.get_wait_callback() is set",
        "Install psycogreen's wait callback after patching (`psycogreen.gevent.patch_psycopg()`)",
        integration=PSYCOPG2,
    ),
    NativeClient(
        "mysqlclient",
        "MySQLdb",
        ("MySQLdb._mysql",),
        _never,
        "libmysqlclient has no hook for an event loop",
        "Use PyMySQL (pure Python, cooperative once patched), or run queries in "
        "`gevent.get_hub().threadpool`.",
    ),
    NativeClient(
        "grpcio",
        "grpc",
        ("grpc._cython.cygrpc",),
        _grpc,
        "grpc._cython.cygrpc.g_gevent_activated is true",
        "Call `grpc.experimental.gevent.init_gevent()` right after patching, before any channel "
        "or server is made",
        integration=GRPC,
    ),
    NativeClient(
        "pyzmq",
        "zmq",
        ("zmq.backend.cython._zmq", "zmq.backend.cython.socket"),  # pyzmq >= 26; older
        _never,
        "a module holds plain zmq (or its Context/Socket) instead of zmq.green",
        "Use `import zmq.green as zmq`: its sockets wait on zmq.FD with gevent.",
        held=("zmq", "zmq.Context", "zmq.Socket"),
    ),
    NativeClient(
        "confluent-kafka",
        "confluent_kafka",
        ("confluent_kafka.cimpl",),
        _never,
        "librdkafka waits in C (confluent-kafka-python#612, wontfix)",
        "Call `poll(0)`/`flush(0)` in a loop with `gevent.sleep()`, or run the client in "
        "`gevent.get_hub().threadpool`.",
    ),
    NativeClient(
        "pylibmc",
        "pylibmc",
        ("_pylibmc",),  # top-level, not pylibmc._pylibmc
        _never,
        "libmemcached waits in C",
        "Use pymemcache (pure Python), or run calls in `gevent.get_hub().threadpool`.",
    ),
    NativeClient(
        "pyodbc",
        "pyodbc",
        ("pyodbc",),  # the module is the extension
        _never,
        "the ODBC driver waits in C",
        "Run queries in `gevent.get_hub().threadpool`.",
    ),
    NativeClient(
        "pymssql",
        "pymssql",
        ("pymssql._mssql", "pymssql._pymssql"),
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
        ("cx_Oracle",),
        _never,
        "OCI waits in C",
        "Use python-oracledb in thin mode (pure Python), or run queries in "
        "`gevent.get_hub().threadpool`.",
    ),
    NativeClient(
        "oracledb",
        "oracledb",
        ("oracledb.base_impl", "oracledb.thin_impl"),
        _oracledb,
        "oracledb.is_thin_mode() is true",
        "Stay in thin mode (do not call `oracledb.init_oracle_client()`), or run queries in "
        "`gevent.get_hub().threadpool`.",
    ),
    NativeClient(
        "psycopg",
        "psycopg",
        ("psycopg_binary._psycopg", "psycopg_c._psycopg"),  # the C wait; absent in pure Python
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
        if not row.held and row.loaded and row.cooperative() is not True
    ]


def held_objects() -> dict[int, NativeClient]:
    """``id(object) -> row`` for the loaded objects that show a plain native client in use."""
    out: dict[int, NativeClient] = {}
    for row in NATIVE_CLIENTS:
        if not row.loaded:
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


INTEGRATIONS: dict[str, Integration] = {
    row.integration.name: row.integration for row in NATIVE_CLIENTS if row.integration
}


def integration_active(name: str) -> bool | None:
    """Whether a built-in integration is in effect (None when it cannot be told or not loaded)."""
    for row in NATIVE_CLIENTS:
        if row.integration is not None and row.integration.name == name and row.loaded:
            return row.cooperative()
    return None
