"""A SQLite database another process keeps locked: the "server" of the sqlite3 row.

SQLite has no server to make a query last WAIT_S; its one wait is the busy handler, which
retries a locked database until the connection's ``timeout`` runs out. This peer holds an
EXCLUSIVE lock (readers are refused too, in the default rollback-journal mode) for as long as it
lives, so every ``sqlite3.connect(path, timeout=WAIT_S)`` query waits exactly its timeout and
ends in "database is locked". A lock held for the whole run, rather than taken and released in a
loop, keeps each wait at the timeout instead of at wherever a loop's phase happens to be.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path


def start() -> dict:
    path = Path(tempfile.mkdtemp(prefix="patchkit-sqlite-")) / "locked.db"
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("CREATE TABLE waits (n INTEGER)")
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("INSERT INTO waits VALUES (1)")  # hold the lock with a pending write
    return {"path": str(path), "_conn": conn}
