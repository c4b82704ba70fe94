"""psycopg2's ThreadedConnectionPool made at import (PostgreSQL on 127.0.0.1:5432, trust)."""

import gevent
from psycopg2.pool import ThreadedConnectionPool

POOL = ThreadedConnectionPool(0, 4, host="127.0.0.1", port=5432, user="postgres", dbname="test")


def use() -> None:
    """Two greenlets ask for a connection while the pool connects (psycogreen makes it switch)."""
    jobs = [gevent.spawn(POOL.getconn) for _ in range(2)]
    gevent.joinall(jobs, timeout=2, raise_error=True)
