"""Tripwires: wrappers around blocking original functions that report callers on the hub (PK301).

Installed before the audited program imports anything, a wrapper is what ``from time import
sleep`` captures and what gevent later saves as the "original". Every later call through such a
stale name then runs the wrapper, which reports its caller when the call really stops the hub: it
runs in a greenlet other than the hub, on the hub's OS thread. Calls from real OS threads (thread
pools, gevent's resolver) pass straight through.

Which OS thread is asked with ``_thread.get_ident`` captured here, before any patching: patched,
the module's ``get_ident`` returns greenlet ids and every call would look like the hub's thread.
"""

from __future__ import annotations

import _thread
import functools
import importlib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from greenlet import getcurrent

from patchkit.findings import Finding


def _unpatched_thread_function(name: str) -> Any:
    # Patching always goes through gevent.monkey, which keeps what it replaced.
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None:
        return monkey.get_original("_thread", name)
    return getattr(_thread, name)


_get_ident = _unpatched_thread_function("get_ident")
_allocate_lock = _unpatched_thread_function("allocate_lock")
_THREAD_NAME = re.compile(r"<\w*Thread\((.*?), (?:started|initial|stopped)")


def _always(*args: Any, **kwargs: Any) -> bool:
    return True


def _sleep_blocks(secs: float = 0, *args: Any, **kwargs: Any) -> bool:
    # time.sleep(0) returns at once; only a real wait stops the hub.
    return secs > 0


def _select_blocks(rlist: Any, wlist: Any, xlist: Any, timeout: float | None = None) -> bool:
    # gevent's own select() polls the original with timeout 0 before it waits cooperatively.
    return timeout is None or timeout > 0


@dataclass(frozen=True)
class Wire:
    module: str
    name: str
    blocks: Callable[..., bool]
    why: str


# Functions only: users subclass the blocking classes (socket.socket, threading.Thread), so those
# cannot be swapped for wrappers; the scan reports them instead.
WIRES: tuple[Wire, ...] = (
    Wire("time", "sleep", _sleep_blocks, "sleeps the whole OS thread, hub included"),
    Wire("select", "select", _select_blocks, "waits in the kernel without the event loop"),
    Wire("socket", "getaddrinfo", _always, "resolves in C; slow DNS stops every greenlet"),
    Wire("socket", "gethostbyname", _always, "resolves in C; slow DNS stops every greenlet"),
    Wire("socket", "gethostbyname_ex", _always, "resolves in C; slow DNS stops every greenlet"),
    Wire("socket", "gethostbyaddr", _always, "resolves in C; slow DNS stops every greenlet"),
    Wire("socket", "getnameinfo", _always, "resolves in C; slow DNS stops every greenlet"),
)


@dataclass
class Site:
    """One call site of a blocking original, counted."""

    object: str
    file: str
    line: int
    greenlet: str
    stack: tuple[str, ...]
    count: int = 0


class _State:
    def __init__(self) -> None:
        self.installed: dict[tuple[str, str], tuple[Callable[..., Any], Callable[..., Any]]] = {}
        self.hub_ident: int | None = None
        self.sites: dict[tuple[str, str, int], Site] = {}
        self.lock = _allocate_lock()
        self.skip_dirs: tuple[str, ...] = ()


_state = _State()


def install(hub_thread: int | None = None) -> None:
    """Wrap the blocking originals in place; idempotent. Call before the program imports them.

    ``hub_thread`` is the OS thread whose hub is watched (default: the calling thread).
    """
    _state.hub_ident = _get_ident() if hub_thread is None else hub_thread
    _state.skip_dirs = _skip_dirs()
    for wire in WIRES:
        key = (wire.module, wire.name)
        if key in _state.installed:
            continue
        module = importlib.import_module(wire.module)
        original = getattr(module, wire.name, None)
        if original is None:
            continue
        wrapper = _make_wrapper(wire, original)
        setattr(module, wire.name, wrapper)
        _state.installed[key] = (original, wrapper)


def uninstall() -> None:
    """Put the originals back where the wrappers still sit (not where gevent replaced them)."""
    for (module_name, name), (original, wrapper) in list(_state.installed.items()):
        module = sys.modules.get(module_name)
        if module is not None and getattr(module, name, None) is wrapper:
            setattr(module, name, original)
        del _state.installed[(module_name, name)]


def warm_up() -> None:
    """Compute the path tables now, so the first stall sampled does not pay for them."""
    if not _state.skip_dirs:
        _state.skip_dirs = _skip_dirs()
    _library_dirs()


def installed() -> bool:
    return bool(_state.installed)


def original(module: str, name: str) -> Callable[..., Any]:
    """The real function behind a wrapper (what patchkit itself must call), wrapped or not."""
    entry = _state.installed.get((module, name))
    if entry is not None:
        return entry[0]
    try:
        from gevent.monkey import get_original

        found = get_original(module, name)
    except Exception:
        found = getattr(importlib.import_module(module), name)
    return getattr(found, "__wrapped__", found)


def counts() -> dict[tuple[str, str, int], int]:
    """Calls so far per site, so a watch can report only what happened inside it."""
    return {key: site.count for key, site in _state.sites.items()}


def findings(since: dict[tuple[str, str, int], int] | None = None) -> list[Finding]:
    """PK301 for every site called (since ``since``, a :func:`counts` snapshot)."""
    out = []
    for key, site in list(_state.sites.items()):
        count = site.count - (since or {}).get(key, 0)
        if count <= 0:
            continue
        how = (
            f"once, from {site.greenlet}"
            if count == 1
            else (f"{count} times, first from {site.greenlet}")
        )
        out.append(
            Finding(
                "PK301",
                f"{site.object}, the blocking original, was called on the hub's thread {how}: "
                "every greenlet stops while it runs",
                file=site.file,
                line=site.line,
                object=site.object,
                stack=site.stack,
                detail={"count": count},
            )
        )
    return out


def _make_wrapper(wire: Wire, original: Callable[..., Any]) -> Callable[..., Any]:
    qualified = f"{wire.module}.{wire.name}"
    blocks = wire.blocks

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # The fast path for other OS threads is one C call and a comparison.
        if _get_ident() == _state.hub_ident and _on_greenlet():
            try:
                if blocks(*args, **kwargs):
                    _report(qualified, sys._getframe(1))
            except TypeError:
                pass  # bad arguments: let the original raise its own error
        return original(*args, **kwargs)

    wrapper.__patchkit_tripwire__ = True  # type: ignore[attr-defined]
    return wrapper


def _on_greenlet() -> bool:
    """True in a greenlet other than the hub, while this thread has a hub."""
    hub_local = sys.modules.get("gevent._hub_local")
    if hub_local is None:
        return False
    hub = hub_local.get_hub_if_exists()
    return hub is not None and getcurrent() is not hub


def _report(qualified: str, frame: Any) -> None:
    if frame.f_code.co_filename.startswith(_state.skip_dirs[0]):
        return  # gevent calling what it saved (with arguments that do wait): its own business
    stack = frame_stack(frame)
    file, line = app_location(frame)
    key = (qualified, file, line)
    with _state.lock:
        site = _state.sites.get(key)
        if site is None:
            site = Site(qualified, file, line, greenlet_label(), tuple(stack))
            _state.sites[key] = site
        site.count += 1


def _skip_dirs() -> tuple[str, ...]:
    dirs = []
    for name in ("gevent", "patchkit", "greenlet"):
        module = sys.modules.get(name) or importlib.import_module(name)
        dirs.append(os.path.dirname(os.path.abspath(module.__file__ or "")) + os.sep)
    return tuple(dirs)


@functools.lru_cache(maxsize=1)
def _library_dirs() -> tuple[str, ...]:
    import sysconfig

    paths = sysconfig.get_paths()
    return tuple(
        os.path.abspath(paths[key]) + os.sep for key in ("stdlib", "platstdlib") if key in paths
    )


_SITE_DIRS = ("site-packages", "dist-packages")


def is_app_file(filename: str) -> bool:
    """True for code the user wrote (not the stdlib, gevent, greenlet or patchkit)."""
    if filename.startswith("<frozen") or filename.startswith(_state.skip_dirs or _skip_dirs()):
        return False  # "<string>" (python -c, exec) is the user's
    if any(part in filename for part in _SITE_DIRS):
        return True
    return not filename.startswith(_library_dirs())


Entry = tuple[str, int, str]  # (file, line, function) of one frame


def frame_entries(frame: Any, limit: int = 60) -> list[Entry]:
    """A cheap copy of the stack from ``frame`` outwards, innermost first.

    Taken at once because a frame that keeps running changes its line under us.
    """
    out: list[Entry] = []
    while frame is not None and len(out) < limit:
        code = frame.f_code
        out.append((code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    return out


def entries_location(entries: list[Entry]) -> tuple[str | None, int | None]:
    """The innermost entry in user code (else the innermost of all)."""
    for file, line, _ in entries:
        if is_app_file(file):
            return file, line
    return (entries[0][0], entries[0][1]) if entries else (None, None)


def format_entries(entries: list[Entry], limit: int = 30) -> list[str]:
    """``file:line in function``, outermost first, patchkit's own frames left out."""
    own = (_state.skip_dirs or _skip_dirs())[1]
    out = [f"{file}:{line} in {name}" for file, line, name in entries if not file.startswith(own)]
    return list(reversed(out[:limit]))


def app_location(frame: Any) -> tuple[str, int]:
    """The innermost frame of user code in the stack from ``frame`` out (else ``frame`` itself)."""
    file, line = entries_location(frame_entries(frame))
    return file or frame.f_code.co_filename, line or frame.f_lineno


def frame_stack(frame: Any, limit: int = 30) -> list[str]:
    """``file:line in function``, outermost first, to ``frame``; patchkit's own left out."""
    return format_entries(frame_entries(frame), limit)


def greenlet_label(glet: Any = None) -> str:
    """A short name for a greenlet: gevent's name and function, or "the main greenlet"."""
    if glet is None:
        glet = getcurrent()
    if getattr(glet, "parent", True) is None:
        return "the main greenlet"
    text = str(glet)
    name = getattr(glet, "name", None) or type(glet).__name__
    running = text.split(": ", 1)[1].rstrip(">") if ": " in text else ""
    thread = _THREAD_NAME.search(running)
    if thread:  # a patched threading.Thread: its greenlet's repr is the whole bound method
        running = f"thread {thread.group(1)}"
    elif len(running) > 60:
        running = running[:57] + "..."
    # gevent drops the function once a greenlet ends: its repr then says only "_run".
    if running and not running.startswith("_run"):
        return f"greenlet {name} ({running})"
    return f"greenlet {name}"
