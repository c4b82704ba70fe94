"""Database and cache clients: each wait is a 0.2 s sleep inside the real server."""

from __future__ import annotations

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


def _dbapi_wait(conns: list, sql: str):
    def wait(i: int) -> None:
        cursor = conns[i].cursor()
        cursor.execute(sql)
        cursor.fetchall()
        cursor.close()

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
    import os

    import redis

    svc = service("redis")
    client = redis.Redis(host=svc.host, port=svc.port, socket_timeout=30)
    key = f"patchkit:compat:empty:{os.getpid()}"

    def wait(i: int) -> None:
        assert client.blpop([f"{key}:{i}"], timeout=ctx.wait_s) is None

    return wait


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
    pg, c = service("pg"), service("pg").creds
    url = f"postgresql+psycopg2://{c['user']}:{c['password']}@{pg.host}:{pg.port}/{c['db']}"
    return _sqlalchemy_wait(url, PG_SLEEP, ctx.n)


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
