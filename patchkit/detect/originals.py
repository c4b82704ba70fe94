"""The harm table: every original gevent replaces, and whether holding it really bypasses gevent.

``gevent.monkey.saved`` keeps each original under its real module name (``_thread``, not
``thread``). Code that bound one of them before patching keeps it afterwards; whether that hurts
depends on the original. A plain C function (``time.sleep``) blocks the hub; a Python function or
class that looks its helpers up in its module at call time (``socket.create_connection``,
``queue.Queue``) picks up the patched helpers and cooperates.

Each row says which, and why. ``harm`` is what was measured when a greenlet uses the pre-patch
original after ``patch_all()`` while a heartbeat greenlet runs (tests/test_originals_harm.py runs
every ``probe``, with the original and with the patched twin):

- ``"stall"``: the heartbeat stopped for the whole call (0.3 s probe against a 0.1 s margin);
- ``"hang"``: the call never returned (``LoopExit`` when nothing else was alive);
- an exception name: the original fails with it (``"RecursionError"``);
- ``"leak"``: a value set in one greenlet was seen by another (state is per OS thread);
- ``"shared"``: a second greenlet acquired a lock another greenlet held (owned per OS thread);
- ``None``: harmless to hold: the twin and the original behave the same.

A probe is the body of ``def probe(obj, srv)``: ``obj`` is the object under test, ``srv`` the
address of a listening socket that never answers. It returns the harm when it saw it itself
(``"leak"``, ``"shared"``); stalls and exceptions are measured around it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Shared probe bodies: several originals are the same object or fail the same way.
_SLEEP = "obj(0.3)"
_LOCK = "lk = obj()\nlk.acquire()\nlk.acquire(timeout=0.3)"
_LOCAL = (
    "loc = obj()\nloc.x = 1\nseen = []\n"
    "gevent.spawn(lambda: seen.append(getattr(loc, 'x', None))).join()\n"
    "return 'leak' if seen == [1] else None"
)
_THREAD = "t = obj(target=lambda: None)\nt.start()\nt.join()"
_SOCKET = (
    "s = obj(socket.AF_INET, socket.SOCK_STREAM)\ns.settimeout(0.3)\ns.connect(srv)\n"
    "try:\n    s.recv(1)\nexcept OSError:\n    pass"
)
_SELECTOR = (
    "a, b = socket.socketpair()\nsel = obj()\nsel.register(a, selectors.EVENT_READ)\n"
    "sel.select(0.3)"
)
_QUEUE = "import queue\ntry:\n    obj().get(timeout=0.3)\nexcept queue.Empty:\n    pass"


def _always(*args: Any, **kwargs: Any) -> bool:
    return True


def _sleep_blocks(secs: float = 0, *args: Any, **kwargs: Any) -> bool:
    # time.sleep(0) returns at once; only a real wait stops the hub.
    return secs > 0


def _select_blocks(rlist: Any, wlist: Any, xlist: Any, timeout: float | None = None) -> bool:
    # gevent's own select() polls the original with timeout 0 before it waits cooperatively.
    return timeout is None or timeout > 0


# What a harmful function does when called; what a harmful class's instances do.
CALL_HARM = {
    "stall": "blocks the hub for the whole call",
    "hang": "never returns under gevent (LoopExit)",
    "leak": "keeps one state per OS thread, shared by every greenlet",
    "shared": "is owned per OS thread, so greenlets do not exclude each other",
    "broken": "fails under gevent",
}
OBJECT_HARM = {
    "stall": "block the hub while they wait",
    "hang": "never finish under gevent: join() waits forever (LoopExit)",
    "broken": "cannot work under gevent",
}
# Functions only are wired: users subclass the blocking classes (socket.socket, threading.Thread),
# so those cannot be swapped for wrappers, and a factory's harm is in what it made, not the call.
_FORK_UNWIRED = "fork does not wait: its harm is in the child, which a call-site wrapper cannot see"


@dataclass(frozen=True)
class Original:
    """One original that gevent replaces, as saved in ``gevent.monkey.saved[module][name]``.

    Everything the detectors and messages need about it: the measured harm (``harm``, ``why``,
    ``probe``), what kind of object it is (``kind``), what an object it made before patching is
    when that object is itself harmful (``instance``, with ``made_by``, the name users call), and
    whether the tripwires wrap it (``wire``: the ``blocks(*args, **kwargs)`` predicate) or why
    not (``unwired``).
    """

    module: str
    name: str
    harm: str | None
    why: str
    probe: str | None = None
    harmless_from: tuple[int, int] | None = None  # the Python where it was measured harmless
    kind: str = "function"  # "function", "factory" (a function that makes objects) or "class"
    instance: str | None = None  # a pre-patch object it made, when that object is harmful
    made_by: str | None = None  # the constructor users write for such objects (default: key)
    wire: Callable[..., bool] | None = None  # the tripwire's predicate: does this call wait?
    unwired: str = ""  # why a harmful function has no tripwire
    # Why a pre-patch instance held by an installed library is not reported (empty: it is).
    library_instances: str = ""

    @property
    def harm_here(self) -> str | None:
        """The harm on this Python: some originals stopped hurting when CPython changed."""
        if self.harmless_from is not None and sys.version_info >= self.harmless_from:
            return None
        return self.harm

    @property
    def key(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def harmful(self) -> bool:
        return self.harm_here is not None

    @property
    def maker(self) -> str:
        return self.made_by or self.key

    @property
    def harm_text(self) -> str:
        """The harm in words, after "is the original X, ": a function's, a factory's, a class's."""
        harm = self.harm_here or ""
        if self.kind == "function":
            return "which " + CALL_HARM.get(harm, f"fails under gevent ({harm})")
        if self.instance:
            made = "every object it makes" if self.kind == "factory" else "every instance"
            return f"a {self.kind}: {made} is {self.instance}"
        return f"a {self.kind} whose instances " + OBJECT_HARM.get(harm, f"fail ({harm})")


def _o(
    module: str, name: str, harm: str | None, why: str, probe: str | None = None, **kw: Any
) -> Original:
    return Original(module, name, harm, why, probe, **kw)


_LOCK_OBJ = "a real OS lock: acquire() blocks the hub"
# A library's internal lock guards in-memory state and is released before its greenlet switches:
# measured harmless (SQLAlchemy's symbol._lock: 0.010 s heartbeat gap with greenlets contending
# for it). A real lock only hurts when held across a switch, which the user's own locks (held
# around I/O) do and a library's bookkeeping locks do not.
_LIBRARY_LOCK = "a library's bookkeeping lock, never held across a greenlet switch"
_LOCAL_OBJ = "per OS thread: every greenlet sees the same values"
_SOCKET_OBJ = "a real OS socket: its I/O blocks the hub"
_SELECTOR_OBJ = "a selector on a real epoll: select() blocks the hub"
_RESOLVER = {"wire": _always}

ORIGINALS: tuple[Original, ...] = (
    # -- time
    _o(
        "time",
        "sleep",
        "stall",
        "C sleep on the calling thread: the hub waits it out",
        _SLEEP,
        wire=_sleep_blocks,
    ),
    # -- _thread / threading: locks, thread-locals, threads
    _o(
        "_thread",
        "allocate_lock",
        "stall",
        "a real OS lock: acquire() blocks the thread",
        _LOCK,
        kind="factory",
        instance=_LOCK_OBJ,
        library_instances=_LIBRARY_LOCK,
    ),
    _o(
        "threading",
        "Lock",
        "stall",
        "the same C allocate_lock as _thread's",
        _LOCK,
        kind="factory",
        instance=_LOCK_OBJ,
        library_instances=_LIBRARY_LOCK,
    ),
    _o(
        "threading",
        "_allocate_lock",
        "stall",
        "the same C allocate_lock as _thread's",
        _LOCK,
        kind="factory",
        instance=_LOCK_OBJ,
        library_instances=_LIBRARY_LOCK,
    ),
    _o(
        "_thread",
        "LockType",
        None,
        "not constructible; only isinstance() checks use it",
        kind="class",
        instance=_LOCK_OBJ,
        library_instances=_LIBRARY_LOCK,
        made_by="threading.Lock",
    ),
    _o(
        "_thread",
        "lock",
        "stall",
        "3.13+: the C lock type itself, constructible",
        _LOCK,
        kind="class",
        instance=_LOCK_OBJ,
        library_instances=_LIBRARY_LOCK,
        made_by="threading.Lock",
    ),
    _o("_thread", "start_joinable_thread", None, "3.13+: starts a real OS thread"),
    _o("threading", "_start_joinable_thread", None, "3.13+: the same C start_joinable_thread"),
    _o("_thread", "_ThreadHandle", None, "3.13+: threading's bookkeeping; never built by users"),
    _o("threading", "_ThreadHandle", None, "3.13+: threading's bookkeeping"),
    _o("_thread", "_make_thread_handle", None, "3.13+: threading's bookkeeping"),
    _o("threading", "_make_thread_handle", None, "3.13+: threading's bookkeeping"),
    _o(
        "threading",
        "_CRLock",
        "shared",
        "a real RLock is owned by the OS thread: a second greenlet takes it while the first "
        "holds it (gevent sets threading._CRLock to None: threading.RLock() builds a green one)",
        "r = obj()\nr.acquire()\ng = gevent.spawn(r.acquire, timeout=0.3)\n"
        "return 'shared' if g.get() else None",
        kind="class",
        instance="a real RLock, owned by the OS thread: greenlets do not exclude each other",
        made_by="threading.RLock",
        library_instances=_LIBRARY_LOCK,
    ),
    _o(
        "_thread",
        "_local",
        "leak",
        "per OS thread: every greenlet sees the same values",
        _LOCAL,
        kind="class",
        instance=_LOCAL_OBJ,
        made_by="threading.local",
    ),
    _o(
        "threading",
        "local",
        "leak",
        "the same C _thread._local",
        _LOCAL,
        kind="class",
        instance=_LOCAL_OBJ,
    ),
    _o(
        "_threading_local",
        "local",
        None,
        "keys its state by current_thread(), which reads the patched get_ident",
        _LOCAL,
    ),
    _o(
        "threading",
        "Thread",
        "hang",
        "the original class runs on patched threading internals and its join() never "
        "returns (LoopExit when no other greenlet is alive); from 3.13 it starts threads "
        "through _start_joinable_thread, looked up at call time, and joins (measured)",
        _THREAD,
        harmless_from=(3, 13),
        kind="class",  # a Thread made before patching is a real thread: the class is the harm
    ),
    _o(
        "threading",
        "Timer",
        "hang",
        "a subclass of the original Thread",
        "t = obj(0.05, lambda: None)\nt.start()\nt.join()",
        harmless_from=(3, 13),
        kind="class",
    ),
    _o(
        "threading",
        "Event",
        None,
        "its Condition looks up threading.Lock at call time and gets the green lock",
        "e = obj()\ngevent.spawn_later(0.3, e.set)\ne.wait(2)",
    ),
    _o(
        "_thread",
        "get_ident",
        None,
        "returns the OS thread id; harmless as a name (reprlib, asyncio), PK105 catches the "
        "per-thread objects built on it",
    ),
    _o("threading", "get_ident", None, "the same C get_ident as _thread's"),
    _o("_thread", "start_new_thread", None, "starts a real OS thread, which never holds the hub"),
    _o("threading", "_start_new_thread", None, "the same C start_new_thread"),
    _o("_thread", "stack_size", None, "configuration only"),
    _o("_thread", "exit", None, "raises SystemExit; no waiting"),
    _o("threading", "_DummyThread", None, "threading's bookkeeping; never held by user code"),
    _o("threading", "_set_sentinel", None, "threading's bookkeeping; never held by user code"),
    _o("threading", "_shutdown", None, "threading's bookkeeping; never held by user code"),
    _o("logging", "_lock", None, "gevent swaps logging's module lock itself"),
    # -- socket
    _o("socket", "_fallback_socketpair", None, "3.13+: Windows-only fallback; unused on POSIX"),
    _o(
        "socket",
        "socket",
        "stall",
        "the original class does blocking I/O in C",
        _SOCKET,
        kind="class",
        instance=_SOCKET_OBJ,
    ),
    _o(
        "socket",
        "SocketType",
        "stall",
        "the C _socket.socket type",
        _SOCKET,
        kind="class",
        instance=_SOCKET_OBJ,
        made_by="socket.socket",
    ),
    _o(
        "socket",
        "socketpair",
        None,
        "wraps its pair in socket.socket looked up at call time",
        "a, b = obj()\na.settimeout(0.3)\ntry:\n    a.recv(1)\nexcept OSError:\n    pass",
    ),
    _o(
        "socket",
        "fromfd",
        None,
        "wraps the fd in socket.socket looked up at call time",
        "a, b = socket.socketpair()\ns = obj(a.fileno(), socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "s.settimeout(0.3)\ntry:\n    s.recv(1)\nexcept OSError:\n    pass",
    ),
    _o(
        "socket",
        "create_connection",
        None,
        "Python code that builds its socket from socket.socket looked up at call time",
        "s = obj(srv, timeout=2)\ns.settimeout(0.3)\ntry:\n    s.recv(1)\nexcept OSError:\n"
        "    pass",
    ),
    _o(
        "socket",
        "getaddrinfo",
        "stall",
        "the C resolver on the hub's thread; gevent's runs it in the threadpool. Reasoned, not "
        "measured: a slow DNS server is needed to see it",
        **_RESOLVER,
    ),
    _o("socket", "gethostbyname", "stall", "the C resolver, as getaddrinfo", **_RESOLVER),
    _o("socket", "gethostbyname_ex", "stall", "the C resolver, as getaddrinfo", **_RESOLVER),
    _o("socket", "gethostbyaddr", "stall", "the C resolver, as getaddrinfo", **_RESOLVER),
    _o("socket", "getnameinfo", "stall", "the C resolver, as getaddrinfo", **_RESOLVER),
    _o("socket", "getfqdn", None, "Python code that calls the patched gethostbyaddr"),
    # -- select / selectors
    _o(
        "select",
        "select",
        "stall",
        "C select() on the hub's thread",
        "a, b = socket.socketpair()\nobj([a], [], [], 0.3)",
        wire=_select_blocks,
    ),
    _o(
        "select",
        "poll",
        "stall",
        "a C poll object",
        "a, b = socket.socketpair()\np = obj()\np.register(a, select.POLLIN)\np.poll(300)",
        kind="factory",
        instance="a C poll object: poll() blocks the hub",
    ),
    _o(
        "select",
        "epoll",
        "stall",
        "a C epoll object (gevent removes select.epoll)",
        "a, b = socket.socketpair()\ne = obj()\ne.register(a.fileno(), select.EPOLLIN)\n"
        "e.poll(0.3)",
        kind="class",
        instance="a real epoll object: poll() blocks the hub",
    ),
    _o(
        "selectors",
        "DefaultSelector",
        "stall",
        "EpollSelector bound select.epoll at class creation",
        _SELECTOR,
        kind="class",
        instance=_SELECTOR_OBJ,
    ),
    _o(
        "selectors",
        "EpollSelector",
        "stall",
        "bound select.epoll at class creation (gevent removes the name)",
        _SELECTOR,
        kind="class",
        instance=_SELECTOR_OBJ,
    ),
    # -- ssl
    _o(
        "ssl",
        "SSLContext",
        "RecursionError",
        "setting options on the original class recurses through gevent's SSLContext (gevent#1016)",
        "c = socket.create_connection(srv)\nc.settimeout(0.3)\nctx = obj(ssl.PROTOCOL_TLS_CLIENT)\n"
        "ctx.check_hostname = False\nctx.verify_mode = ssl.CERT_NONE\ntry:\n"
        "    ctx.wrap_socket(c)\nexcept OSError:\n    pass",
        kind="class",
        instance="an original SSLContext: setting its options recurses (RecursionError)",
    ),
    _o("ssl", "SSLSocket", None, "has no public constructor; only isinstance() checks use it"),
    _o("ssl", "wrap_socket", None, "looks SSLContext up at call time and gets gevent's"),
    _o("ssl", "get_server_certificate", None, "uses the patched create_connection"),
    # -- subprocess / os
    _o(
        "subprocess",
        "Popen",
        "broken",
        "gevent replaces its fork helper (_fork_exec from 3.11, _posixsubprocess on 3.10): the "
        "original Popen cannot start a child (TypeError; AttributeError on 3.10)",
        "p = obj(['sleep', '0.3'], stdout=subprocess.PIPE)\np.communicate()",
        kind="class",  # a Popen made before patching already started its child
    ),
    _o(
        "subprocess",
        "check_output",
        None,
        "calls the patched run() at call time",
        "obj(['sleep', '0.3'])",
    ),
    _o(
        "subprocess",
        "run",
        None,
        "builds the patched Popen at call time",
        "obj(['sleep', '0.3'], stdout=subprocess.PIPE)",
    ),
    _o("subprocess", "call", None, "builds the patched Popen at call time"),
    _o("subprocess", "check_call", None, "calls the patched call() at call time"),
    _o("subprocess", "CompletedProcess", None, "a result record; no I/O"),
    _o("subprocess", "_fork_exec", None, "subprocess's bookkeeping; never held by user code"),
    _o("subprocess", "_posixsubprocess", None, "3.10: the C helper module subprocess uses"),
    _o("subprocess", "_USE_POSIX_SPAWN", None, "a flag"),
    _o("subprocess", "_use_posix_spawn", None, "subprocess's bookkeeping"),
    _o(
        "os",
        "waitpid",
        "stall",
        "C waitpid() on the hub's thread",
        "import subprocess\np = subprocess.Popen(['sleep', '0.3'])\nobj(p.pid, 0)",
        unwired="subprocess binds os.waitpid at import (its module global `_waitpid`, a default "
        "argument of Popen._internal_poll): a wrapper would sit in the stdlib on every child "
        "poll; PK102/PK103 report stale names, PK302 measures the stall",
    ),
    _o(
        "os",
        "fork",
        "stall",
        "the child skips gevent's hub reinit; reasoned from gevent.os, not measured",
        unwired=_FORK_UNWIRED,
    ),
    _o("os", "forkpty", "stall", "as fork", unwired=_FORK_UNWIRED),
    _o("os", "close", None, "closes at once; gevent's only cancels its watchers first"),
    _o("os", "posix_spawn", None, "returns at once; waiting is done by waitpid"),
    _o("os", "posix_spawnp", None, "returns at once; waiting is done by waitpid"),
    # -- signal
    _o("signal", "signal", None, "installs a handler; no waiting"),
    _o("signal", "getsignal", None, "reads a handler; no waiting"),
    _o("signal", "set_wakeup_fd", None, "configuration only"),
    # -- queue: the Python queues build their Condition from patched threading at call time
    _o("queue", "Queue", None, "its Condition uses the patched lock functions", _QUEUE),
    _o("queue", "LifoQueue", None, "a Queue subclass", _QUEUE),
    _o("queue", "PriorityQueue", None, "a Queue subclass", _QUEUE),
    _o(
        "queue",
        "SimpleQueue",
        "stall",
        "the C _queue.SimpleQueue waits on a real lock",
        _QUEUE,
        kind="class",
        instance="a C SimpleQueue: get() waits on a real lock and blocks the hub",
    ),
)

_BY_KEY = {entry.key: entry for entry in ORIGINALS}


WIRED: tuple[Original, ...] = tuple(row for row in ORIGINALS if row.wire is not None)


def get(module: str, name: str) -> Original | None:
    """The table row for ``module.name`` (real module names, as gevent saves them)."""
    return _BY_KEY.get(f"{module}.{name}")


def harmful_saved() -> dict[int, tuple[Original, object, object]]:
    """``id(original) -> (row, original, patched)`` for the harmful originals gevent saved.

    Empty before patching. Identity with ``gevent.monkey.saved`` holds in an audit too, where
    the saved "originals" are the tripwire wrappers installed before the target loaded.
    """

    monkey = sys.modules.get("gevent.monkey")
    saved = getattr(monkey, "saved", None) or {}
    out: dict[int, tuple[Original, object, object]] = {}
    for module, items in saved.items():
        if not isinstance(items, dict) or module.startswith("_gevent_"):
            continue
        current = sys.modules.get(module)
        for name, value in items.items():
            row = get(module, name)
            if row is None or not row.harmful:
                continue
            known = out.get(id(value))
            if known is None or publicness(row) > publicness(known[0]):
                out[id(value)] = (row, value, getattr(current, name, None))
    return out


def publicness(row: Original) -> int:
    """Prefer the name users write: ``threading.Lock`` over ``_thread.allocate_lock``."""
    return (not row.module.startswith("_")) + (not row.name.startswith("_"))
