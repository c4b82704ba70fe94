"""Database and cache clients: each wait is a 0.2 s sleep inside the real server."""

from __future__ import annotations

import subprocess
import sys

from compat_tests.cases import Context, case
from compat_tests.services import service

PG_DISTS = ("psycopg2|psycopg2-binary",)
PG_SLEEP = "SELECT pg_sleep(0.2)"
MYSQL_SLEEP = "SELECT SLEEP(0.2)"


def _pg_dsn() -> str:
    pg = service("pg")
    c = pg.creds
    return (
        f"host={pg.host} port={pg.port} user={c['user']} dbname={c['db']} "
        f"password={c['password']} connect_timeout=10"
    )


def _mysql_kwargs() -> dict:
    my = service("mysql")
    c = my.creds
    return {"host": my.host, "port": my.port, "user": c["user"], "password": c["password"],
            "database": c["db"], "connect_timeout": 10}  # fmt: skip


def _pg_url(driver: str) -> str:
    pg, c = service("pg"), service("pg").creds
    return f"postgresql+{driver}://{c['user']}:{c['password']}@{pg.host}:{pg.port}/{c['db']}"


def _dbapi_wait(conns: list, sql: str):
    def wait(i: int) -> None:
        cursor = conns[i].cursor()
        cursor.execute(sql)
        cursor.fetchall()
        cursor.close()

    return wait


def _blpop_wait(ctx: Context, client):
    import os

    key = f"patchkit:compat:empty:{os.getpid()}"

    def wait(i: int) -> None:
        assert client.blpop([f"{key}:{i}"], timeout=ctx.wait_s) is None

    return wait


@case(
    "redis",
    "BLPOP on an empty list with a 0.2 s timeout",
    dists=("redis",),
    modules=("redis",),
    services=("redis",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def redis_blpop(ctx: Context):
    import redis

    svc = service("redis")
    return _blpop_wait(ctx, redis.Redis(host=svc.host, port=svc.port, socket_timeout=30))


@case(
    "psycopg2",
    PG_SLEEP,
    dists=PG_DISTS,
    modules=("psycopg2",),
    services=("pg",),
    fix=(
        'Add the `psycopg2` integration (`integrations = ["psycopg2"]`: psycogreen\'s wait '
        "callback)."
    ),
)
def psycopg2_plain(ctx: Context):
    import psycopg2

    return _dbapi_wait([psycopg2.connect(_pg_dsn()) for _ in range(ctx.n)], PG_SLEEP)


@case(
    "psycopg2+psycogreen",
    PG_SLEEP,
    dists=(*PG_DISTS, "psycogreen"),
    modules=("psycopg2", "psycogreen"),
    services=("pg",),
    fix="Nothing: cooperative in every profile, even unpatched.",
)
def psycopg2_psycogreen(ctx: Context):
    import psycogreen.gevent
    import psycopg2

    psycogreen.gevent.patch_psycopg()
    return _dbapi_wait([psycopg2.connect(_pg_dsn()) for _ in range(ctx.n)], PG_SLEEP)


@case(
    "psycopg",
    PG_SLEEP,
    dists=("psycopg",),
    modules=("psycopg",),
    services=("pg",),
    fix=(
        "psycopg 3 ≥ 3.1.14 waits through the patched socket: patch `socket` (every profile but "
        "`none`)."
    ),
)
def psycopg3(ctx: Context):
    import psycopg

    return _dbapi_wait([psycopg.connect(_pg_dsn()) for _ in range(ctx.n)], PG_SLEEP)


@case(
    "PyMySQL",
    MYSQL_SLEEP,
    dists=("PyMySQL",),
    modules=("pymysql",),
    services=("mysql",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def pymysql_sleep(ctx: Context):
    import pymysql

    return _dbapi_wait([pymysql.connect(**_mysql_kwargs()) for _ in range(ctx.n)], MYSQL_SLEEP)


@case(
    "mysqlclient",
    MYSQL_SLEEP,
    dists=("mysqlclient",),
    modules=("MySQLdb",),
    services=("mysql",),
    fix="Does its I/O in C: switch to PyMySQL, or run queries in `gevent.get_hub().threadpool`.",
)
def mysqlclient_sleep(ctx: Context):
    import MySQLdb

    kwargs = _mysql_kwargs()
    kwargs["db"] = kwargs.pop("database")
    return _dbapi_wait([MySQLdb.connect(**kwargs) for _ in range(ctx.n)], MYSQL_SLEEP)


def _sqlalchemy_wait(url: str, sql: str, n: int):
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, pool_size=n, max_overflow=0, pool_timeout=30)
    warm = [engine.connect() for _ in range(n)]  # fill the pool before the clock runs
    for conn in warm:
        conn.close()

    def wait(i: int) -> None:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text(sql)).fetchall()

    return wait


@case(
    "SQLAlchemy/psycopg2",
    PG_SLEEP,
    dists=("SQLAlchemy", *PG_DISTS),
    modules=("sqlalchemy", "psycopg2"),
    services=("pg",),
    fix="Add the `psycopg2` integration (psycogreen) to the profile.",
)
def sqlalchemy_psycopg2(ctx: Context):
    return _sqlalchemy_wait(_pg_url("psycopg2"), PG_SLEEP, ctx.n)


@case(
    "SQLAlchemy/PyMySQL",
    MYSQL_SLEEP,
    dists=("SQLAlchemy", "PyMySQL"),
    modules=("sqlalchemy", "pymysql"),
    services=("mysql",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def sqlalchemy_pymysql(ctx: Context):
    my, c = service("mysql"), service("mysql").creds
    url = f"mysql+pymysql://{c['user']}:{c['password']}@{my.host}:{my.port}/{c['db']}"
    return _sqlalchemy_wait(url, MYSQL_SLEEP, ctx.n)


@case(
    "SQLAlchemy/psycopg",
    PG_SLEEP,
    dists=("SQLAlchemy", "psycopg"),
    modules=("sqlalchemy", "psycopg"),
    services=("pg",),
    fix="Patch `socket` (every profile but `none`): psycopg 3 waits through the patched socket.",
)
def sqlalchemy_psycopg3(ctx: Context):
    return _sqlalchemy_wait(_pg_url("psycopg"), PG_SLEEP, ctx.n)


def _child_says(code: str) -> str | None:
    """Run ``code`` in a fresh interpreter: None when it exits 0, else its last stderr line."""
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=60)  # fmt: skip
    except subprocess.TimeoutExpired:
        return "the check did not finish in 60 s"
    lines = proc.stderr.strip().splitlines()
    return None if proc.returncode == 0 else (lines[-1] if lines else f"exit {proc.returncode}")


def _mysql_connector_kwargs() -> dict:
    kwargs = _mysql_kwargs()
    kwargs["connection_timeout"] = kwargs.pop("connect_timeout")
    return kwargs


@case(
    "mysql-connector-python (pure)",
    MYSQL_SLEEP,
    dists=("mysql-connector-python",),
    modules=("mysql.connector",),
    services=("mysql",),
    fix="Patch `socket` (every profile but `none`) and connect with `use_pure=True`.",
)
def mysql_connector_pure(ctx: Context):
    import mysql.connector

    conns = [mysql.connector.connect(use_pure=True, **_mysql_connector_kwargs())
             for _ in range(ctx.n)]  # fmt: skip
    assert type(conns[0]).__name__ == "MySQLConnection", type(conns[0])
    return _dbapi_wait(conns, MYSQL_SLEEP)


def _mysql_cext_missing() -> str | None:
    # Importing connection_cext raises the loader's own reason (e.g. the wheel's libssl clashes
    # with the one Python's ssl module already loaded) where HAVE_CEXT would only say False.
    why = _child_says("import mysql.connector.connection_cext")
    return why and f"mysql-connector-python's C extension cannot be loaded here: {why}"


@case(
    "mysql-connector-python (C extension)",
    MYSQL_SLEEP,
    requires=_mysql_cext_missing,
    dists=("mysql-connector-python",),
    modules=("mysql.connector",),
    services=("mysql",),
    fix=(
        "The C extension (libmysqlclient) does its I/O in C: pass `use_pure=True` (the pure-Python "
        "protocol is cooperative with `socket` patched), or switch to PyMySQL."
    ),
)
def mysql_connector_cext(ctx: Context):
    import mysql.connector

    conns = [mysql.connector.connect(use_pure=False, **_mysql_connector_kwargs())
             for _ in range(ctx.n)]  # fmt: skip
    assert type(conns[0]).__name__ == "CMySQLConnection", type(conns[0])
    return _dbapi_wait(conns, MYSQL_SLEEP)


def _hiredis_unused() -> str | None:
    return (
        _child_says("import redis.utils, sys; sys.exit(not redis.utils.HIREDIS_AVAILABLE)")
        and "redis-py does not use hiredis here (redis.utils.HIREDIS_AVAILABLE is False)"
    )


@case(
    "redis+hiredis",
    "BLPOP on an empty list with a 0.2 s timeout",
    requires=_hiredis_unused,
    dists=("redis", "hiredis"),
    modules=("redis", "hiredis"),
    services=("redis",),
    fix=(
        "Patch `socket` (every profile but `none`): hiredis only parses, redis-py still reads "
        "the socket in Python."
    ),
)
def redis_hiredis(ctx: Context):
    import redis

    svc = service("redis")
    client = redis.Redis(host=svc.host, port=svc.port, socket_timeout=30)
    conn = client.connection_pool.get_connection()
    parser = type(conn._parser).__name__
    client.connection_pool.release(conn)
    assert parser == "_HiredisParser", f"redis-py picked {parser}, not hiredis"
    return _blpop_wait(ctx, client)


def _django_wait(ctx: Context, driver: str):
    """Django's own connection, configured in-process; it is thread-local (asgiref's
    thread-critical Local), so each greenlet gets its own only where `thread` is patched."""
    import django
    from django.conf import settings

    pg, c = service("pg"), service("pg").creds
    settings.configure(DATABASES={"default": {
        "ENGINE": "django.db.backends.postgresql", "NAME": c["db"], "USER": c["user"],
        "PASSWORD": c["password"], "HOST": pg.host, "PORT": pg.port,
        "OPTIONS": {"connect_timeout": 10},
    }})  # fmt: skip
    django.setup()
    from django.db import connection

    assert connection.Database.__name__ == driver, f"Django picked {connection.Database.__name__}"

    def wait(i: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(PG_SLEEP)
            cursor.fetchall()

    return wait


@case(
    "Django ORM/psycopg",
    PG_SLEEP,
    dists=("Django", "psycopg"),
    modules=("django", "psycopg"),
    services=("pg",),
    timeout_s=10.0,  # a deadlocked hub (nothread, network) is only seen by the kill
    fix=(
        "Use the `full` profile: Django keeps one connection per thread, and only a patched "
        "`thread` gives each greenlet its own. Django ≥ 4.2 picks psycopg 3 when it is installed."
    ),
)
def django_psycopg3(ctx: Context):
    return _django_wait(ctx, "psycopg")


@case(
    "Django ORM/psycopg2",
    PG_SLEEP,
    dists=("Django", *PG_DISTS),
    modules=("django", "psycopg2"),
    services=("pg",),
    fix=(
        'Add the `psycopg2` integration (`integrations = ["psycopg2"]`) to the `full` profile, '
        "or install psycopg 3, which Django ≥ 4.2 prefers."
    ),
)
def django_psycopg2(ctx: Context):
    sys.modules["psycopg"] = None  # as if only psycopg2 were installed: Django prefers psycopg 3
    return _django_wait(ctx, "psycopg2")


def _peewee_wait(ctx: Context, **options):
    import peewee

    pg, c = service("pg"), service("pg").creds
    db = peewee.PostgresqlDatabase(
        c["db"], user=c["user"], password=c["password"], host=pg.host, port=pg.port,
        connect_timeout=10, **options,
    )  # fmt: skip
    return lambda i: db.execute_sql(PG_SLEEP).fetchall()


@case(
    "peewee/psycopg2",
    PG_SLEEP,
    dists=("peewee", *PG_DISTS),
    modules=("peewee", "psycopg2"),
    services=("pg",),
    fix=(
        'Add the `psycopg2` integration (`integrations = ["psycopg2"]`) to the `full` profile '
        "(peewee's connection is thread-local), or use `PostgresqlDatabase(..., "
        "prefer_psycopg3=True)`."
    ),
)
def peewee_psycopg2(ctx: Context):
    return _peewee_wait(ctx)


@case(
    "peewee/psycopg",
    PG_SLEEP,
    dists=("peewee", "psycopg"),
    modules=("peewee", "psycopg"),
    services=("pg",),
    timeout_s=10.0,  # a deadlocked hub (nothread, network) is only seen by the kill
    fix=(
        "Use the `full` profile: peewee keeps one connection per thread, and only a patched "
        "`thread` gives each greenlet its own."
    ),
)
def peewee_psycopg3(ctx: Context):
    return _peewee_wait(ctx, prefer_psycopg3=True)


@case(
    "psycopg_pool",
    f"pool.connection() + {PG_SLEEP}",
    dists=("psycopg-pool", "psycopg"),
    modules=("psycopg_pool", "psycopg"),
    services=("pg",),
    fix="Patch `socket` (every profile but `none`).",
)
def psycopg_pool_sleep(ctx: Context):
    from psycopg_pool import ConnectionPool

    pool = ConnectionPool(_pg_dsn(), min_size=ctx.n, max_size=ctx.n, timeout=30, open=False)
    pool.open(wait=True, timeout=30)  # all N connections made before the clock runs

    def wait(i: int) -> None:
        with pool.connection() as conn:
            conn.execute(PG_SLEEP).fetchall()

    return wait


@case(
    "pg8000",
    PG_SLEEP,
    dists=("pg8000",),
    modules=("pg8000",),
    services=("pg",),
    fix="Patch `socket` (every profile but `none`): pg8000 is pure Python.",
)
def pg8000_sleep(ctx: Context):
    import pg8000.dbapi

    pg, c = service("pg"), service("pg").creds
    conns = [pg8000.dbapi.connect(user=c["user"], password=c["password"] or None, host=pg.host,
                                  port=pg.port, database=c["db"], timeout=30)
             for _ in range(ctx.n)]  # fmt: skip
    return _dbapi_wait(conns, PG_SLEEP)


@case(
    "sqlite3",
    "a query on a database another process locks; timeout=0.2 (busy handler)",
    peers=("sqlite_lock",),
    fix=(
        "SQLite's busy handler sleeps in C holding the hub: keep write transactions short, use "
        "WAL mode (readers never wait for a writer), or run queries in "
        "`gevent.get_hub().threadpool`."
    ),
)
def sqlite3_locked(ctx: Context):
    import sqlite3

    path = ctx.peers["sqlite_lock"]["path"]
    conns = [sqlite3.connect(path, timeout=ctx.wait_s) for _ in range(ctx.n)]

    def wait(i: int) -> None:
        # The wait's successful end is the busy timeout: "database is locked" after ctx.wait_s.
        try:
            conns[i].execute("SELECT count(*) FROM waits").fetchall()
        except sqlite3.OperationalError as exc:
            if "database is locked" in str(exc):
                return
            raise
        raise AssertionError(f"{path} was not locked: the query did not wait")

    return wait
