"""Caches, directories and coordination: memcached, LDAP and ZooKeeper clients.

Each server is a real local binary (compat_tests/peers/memcached.py, slapd.py, zookeeper.py)
behind a proxy that forwards every request 0.2 s after it arrived: these servers answer at
once and have no "sleep" request. Data the waits read is written first over ``direct_port``,
which skips the proxy, so setup does not pay the delay.
"""

from __future__ import annotations

import os

from compat_tests.cases import Context, case

HOST = "127.0.0.1"
TIMEOUT_S = 10
KEY = f"patchkit-compat-{os.getpid()}"


def _address(ctx: Context, kind: str, which: str = "port") -> str:
    return f"{HOST}:{ctx.peers[kind][which]}"


# --- memcached: each wait is a GET of a key set beforehand ---------------------------------


def _memcached_wait(clients: list, value) -> object:
    def wait(i: int) -> None:
        got = clients[i].get(KEY)
        assert got == value, f"memcached returned {got!r}, not {value!r}"

    return wait


@case(
    "pymemcache",
    "memcached GET answered in 0.2 s",
    dists=("pymemcache",),
    modules=("pymemcache",),
    peers=("memcached",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def pymemcache_get(ctx: Context):
    from pymemcache.client.base import Client

    def client(which: str) -> Client:
        port = ctx.peers["memcached"][which]
        return Client((HOST, port), connect_timeout=TIMEOUT_S, timeout=TIMEOUT_S)

    client("direct_port").set(KEY, b"ok")
    return _memcached_wait([client("port") for _ in range(ctx.n)], b"ok")


@case(
    "python-memcached",
    "memcached GET answered in 0.2 s",
    dists=("python-memcached",),
    modules=("memcache",),
    peers=("memcached",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def python_memcached_get(ctx: Context):
    import memcache

    # One Client per wait: a Client is a threading.local, so with `thread` unpatched every
    # greenlet would share one socket.
    memcache.Client([_address(ctx, "memcached", "direct_port")]).set(KEY, "ok")
    clients = [
        memcache.Client([_address(ctx, "memcached")], socket_timeout=TIMEOUT_S)
        for _ in range(ctx.n)
    ]
    return _memcached_wait(clients, "ok")


@case(
    "pylibmc",
    "memcached GET answered in 0.2 s",
    dists=("pylibmc",),
    modules=("pylibmc",),
    peers=("memcached",),
    fix=(
        "pylibmc does its I/O in C (libmemcached): switch to pymemcache, or run its calls in "
        "`gevent.get_hub().threadpool`."
    ),
)
def pylibmc_get(ctx: Context):
    import pylibmc

    ms = TIMEOUT_S * 1000
    behaviors = {"connect_timeout": ms, "receive_timeout": ms * 1000, "send_timeout": ms * 1000}
    pylibmc.Client([_address(ctx, "memcached", "direct_port")]).set(KEY, b"ok")
    clients = [
        pylibmc.Client([_address(ctx, "memcached")], behaviors=behaviors) for _ in range(ctx.n)
    ]
    return _memcached_wait(clients, b"ok")


# --- LDAP: each wait is a base-scope search on a connection bound beforehand ----------------


@case(
    "python-ldap",
    "LDAP search on slapd answered in 0.2 s",
    dists=("python-ldap",),
    modules=("ldap",),
    peers=("slapd",),
    fix=(
        "python-ldap waits inside libldap (C): use ldap3, or run its calls in "
        "`gevent.get_hub().threadpool`."
    ),
)
def python_ldap_search(ctx: Context):
    import ldap

    slapd = ctx.peers["slapd"]
    conns = []
    for _ in range(ctx.n):
        conn = ldap.initialize(f"ldap://{_address(ctx, 'slapd')}")
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, TIMEOUT_S)
        conn.simple_bind_s(slapd["bind_dn"], slapd["password"])
        conns.append(conn)

    def wait(i: int) -> None:
        found = conns[i].search_st(
            slapd["base"], ldap.SCOPE_BASE, "(objectClass=*)", timeout=TIMEOUT_S
        )
        assert [dn for dn, _ in found] == [slapd["base"]], found

    return wait


@case(
    "ldap3",
    "LDAP search on slapd answered in 0.2 s",
    dists=("ldap3",),
    modules=("ldap3",),
    peers=("slapd",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def ldap3_search(ctx: Context):
    import ldap3

    slapd = ctx.peers["slapd"]
    server = ldap3.Server(HOST, port=slapd["port"], get_info=ldap3.NONE, connect_timeout=TIMEOUT_S)
    conns = [
        ldap3.Connection(
            server, slapd["bind_dn"], slapd["password"], auto_bind=True, receive_timeout=TIMEOUT_S
        )  # fmt: skip
        for _ in range(ctx.n)
    ]

    def wait(i: int) -> None:
        assert conns[i].search(slapd["base"], "(objectClass=*)", search_scope=ldap3.BASE)
        assert [e.entry_dn for e in conns[i].entries] == [slapd["base"]]

    return wait


# --- ZooKeeper: each wait is a GET of a znode created beforehand ----------------------------


def _kazoo_wait(ctx: Context, handler_factory=None):
    from kazoo.client import KazooClient

    def client(which: str) -> KazooClient:
        kwargs = {"handler": handler_factory()} if handler_factory else {}
        zk = KazooClient(hosts=_address(ctx, "zookeeper", which), timeout=TIMEOUT_S, **kwargs)
        zk.start(timeout=TIMEOUT_S)
        return zk

    path = f"/{KEY}"
    client("direct_port").create(path, b"ok", ephemeral=True)  # lives as long as the probe
    clients = [client("port") for _ in range(ctx.n)]

    def wait(i: int) -> None:
        data, _ = clients[i].get(path)
        assert data == b"ok", data

    return wait


@case(
    "kazoo",
    "ZooKeeper get answered in 0.2 s (threading handler)",
    dists=("kazoo",),
    modules=("kazoo",),
    peers=("zookeeper",),
    timeout_s=40.0,
    fix=(
        "Use kazoo's gevent handler (`KazooClient(handler=SequentialGeventHandler())`), or patch "
        "`thread` as well (the `full` profile): its callers wait on a `threading.Condition`."
    ),
)
def kazoo_threading(ctx: Context):
    return _kazoo_wait(ctx)


@case(
    "kazoo (gevent handler)",
    "ZooKeeper get answered in 0.2 s (SequentialGeventHandler)",
    dists=("kazoo",),
    modules=("kazoo", "gevent"),
    peers=("zookeeper",),
    timeout_s=40.0,
    fix="Nothing: kazoo's gevent handler waits through gevent itself.",
)
def kazoo_gevent(ctx: Context):
    from kazoo.handlers.gevent import SequentialGeventHandler

    return _kazoo_wait(ctx, SequentialGeventHandler)
