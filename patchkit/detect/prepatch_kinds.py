"""What kinds of object made before patching really hurt when found deep inside another object.

Knowledge lives here, the walk lives in ``deep.py``. Each kind was measured with a heartbeat
greenlet after ``patch_all()`` (gevent 26.9, CPython 3.11; ``tests/test_deep_objects.py``):
the figure in each comment is the longest hub gap with the object made before patching, then
with its twin made after patching. Kinds that measured harmless are listed in ``NOT_REPORTED``
with their figures, so the choice not to report them is visible too.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Kind:
    name: str  # what the user would have called to make it
    why: str  # what it does to the hub, measured
    # Reported as a module global too: the walker (walker.py) reports globals that are instances
    # of an original class itself, so only kinds it does not know are reported at the top here.
    top_level: bool = False


SOCKET = Kind(
    "socket.socket",
    # A warmed requests.Session: 0.31 s per request vs 0.01 s; a connected socket recv()
    # waiting 0.3 s for its peer: 0.30 s vs 0.01 s; a listening socket's accept(): 1.0 s
    # (its whole timeout) vs 0.015 s. Stream sockets only: a datagram socket's sendto() does
    # not wait (logging's SysLogHandler keeps one).
    "an OS socket whose every send, recv, accept and connect waits in C and stops the hub",
)
EPOLL = Kind(
    "select.epoll",
    # select.epoll().poll(0.3): 0.30 s vs (no epoll after patching: selectors picks a green
    # one, 0.01 s); a pika BlockingConnection opened before patching: 0.30 s per wait.
    "a real epoll: every wait on it stops the hub for its whole timeout",
)
POLL = Kind("select.poll", "a real poll object: every wait on it stops the hub for its timeout")
SIMPLE_QUEUE = Kind(
    "queue.SimpleQueue",
    # SimpleQueue().get(timeout=1) with a greenlet putting after 0.3 s: 1.0 s (the put never
    # runs) vs 0.01 s. A ThreadPoolExecutor made before patching keeps one as its work queue:
    # its new (green) workers wait on it and submit().result() never returns.
    "a real C queue: get() waits in C, so the greenlet that would put() never runs (hang)",
)
LOCKED_POOL = Kind(
    "a connection pool's threading.Lock",
    # psycopg2's ThreadedConnectionPool with psycogreen: two greenlets calling getconn() while
    # the pool connects: deadlock (bounded by the test's timeout) vs 0.01 s.
    "the pool holds this real lock while it connects, which switches greenlets: the next "
    "greenlet to ask for a connection blocks the hub on it forever (deadlock)",
    top_level=True,
)

# Measured harmless, so never reported when found deep (the walker still reports module globals):
# a real Lock/RLock taken and released with no switch in between (0.010 s; SQLAlchemy's
# symbol._lock, logging's handler locks); threading.Event (0.012 s), Condition (0.011 s) and
# queue.Queue (0.011 s) built on a real lock, since their waits allocate a green waiter lock at
# call time. A real lock held ACROSS a switch deadlocks, which only the library's code shows:
# such holders are listed one by one in LOCK_HOLDERS.
NOT_REPORTED = ("_thread.lock", "_thread.RLock", "threading.Event", "threading.Condition")

# Classes known to hold their lock across I/O that switches greenlets: (module, class) -> attr.
LOCK_HOLDERS = {("psycopg2.pool", "ThreadedConnectionPool"): "_lock"}

Check = Callable[[Any], "Kind | None"]
_SOCK_STREAM = 1


@dataclass(frozen=True)
class Originals:
    """The pre-patch types to look for, taken from gevent's saved originals.

    Only modules gevent patched count: in an unpatched process nothing is "made before patching".
    """

    exact: dict[type, Check]  # type -> check of one instance
    socket: type | None  # the original socket.socket: its subclasses (ssl.SSLSocket) count too
    lock: type | None  # the real lock type, for LOCK_HOLDERS

    def check_for(self, kind: type) -> Check | None:
        """How to judge an instance of ``kind``, or None when no instance of it can hurt."""
        if kind in self.exact:
            return self.exact[kind]
        if self.socket is not None and issubclass(kind, self.socket):
            return _open_stream
        for cls in kind.__mro__:
            attr = LOCK_HOLDERS.get((cls.__module__, cls.__qualname__))
            if attr is not None and self.lock is not None:
                return _lock_holder(attr, self.lock)
        return None


def originals() -> Originals:
    saved = getattr(sys.modules.get("gevent.monkey"), "saved", None) or {}
    exact: dict[type, Check] = {}
    select_saved = saved.get("select", {})
    if isinstance(select_saved.get("epoll"), type):
        exact[select_saved["epoll"]] = _open_epoll
    if callable(select_saved.get("poll")):
        exact[type(select_saved["poll"]())] = _always(POLL)
    simple = saved.get("queue", {}).get("SimpleQueue")
    if isinstance(simple, type):
        exact[simple] = _always(SIMPLE_QUEUE)
    socket_cls = saved.get("socket", {}).get("socket")
    allocate = saved.get("_thread", {}).get("allocate_lock")
    return Originals(
        exact,
        socket_cls if isinstance(socket_cls, type) else None,
        type(allocate()) if callable(allocate) else None,
    )


def _always(kind: Kind) -> Check:
    return lambda _obj: kind


def _open_stream(sock: Any) -> Kind | None:
    """An open stream socket (connected, listening or about to connect); not a closed one."""
    try:
        return SOCKET if sock.fileno() >= 0 and sock.type == _SOCK_STREAM else None
    except (OSError, ValueError):
        return None


def _open_epoll(poller: Any) -> Kind | None:
    return None if poller.closed else EPOLL


def _lock_holder(attr: str, lock_type: type) -> Check:
    def check(holder: Any) -> Kind | None:
        try:
            lock = object.__getattribute__(holder, "__dict__").get(attr)
        except AttributeError:
            return None
        return LOCKED_POOL if type(lock) is lock_type else None

    return check
