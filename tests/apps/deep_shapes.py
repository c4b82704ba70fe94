"""Objects of every shape the deep walk must handle, made at import (before patching)."""

import queue
import socket
import threading


class Holder:
    def __init__(self, value: object) -> None:
        self.value = value


class Slotted:
    __slots__ = ("conn", "unset")

    def __init__(self, conn: object) -> None:
        self.conn = conn


class Tricky:
    """Reading a property or a missing attribute counts, and would raise."""

    calls = 0

    def __init__(self, conn: object) -> None:
        self.conn = conn

    @property
    def boom(self) -> None:
        Tricky.calls += 1
        raise RuntimeError("a property ran")

    def __getattr__(self, name: str) -> None:
        Tricky.calls += 1
        raise RuntimeError(f"__getattr__({name!r}) ran")


# A self-referencing structure: cycles must not loop.
CYCLE = Holder(None)
CYCLE.value = {"self": CYCLE, "list": [CYCLE], "conn": Holder(socket.socketpair()[0])}

SLOTTED = Slotted(socket.socketpair()[1])
TRICKY = Tricky(Holder(socket.socketpair()[0]))

# Real locks and what is built on them: measured harmless when no switch happens while held.
QUIET = Holder(
    {
        "lock": threading.Lock(),
        "rlock": threading.RLock(),
        "event": threading.Event(),
        "condition": threading.Condition(),
        "queue": queue.Queue(),
    }
)
CLOSED = Holder(socket.socket())
CLOSED.value.close()
DATAGRAM = Holder(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))

# Bounds: a socket deep in a chain, and one far into a big list.
CHAIN = Holder(socket.socketpair()[0])
for _ in range(20):
    CHAIN = Holder(CHAIN)
BIG = Holder([0] * 1_000_000 + [socket.socketpair()[0]])
