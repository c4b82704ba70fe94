"""Tripwires: wrappers around blocking original functions that report callers on the hub (PK301).

Installed before the audited program imports anything, a wrapper is what ``from time import
sleep`` captures and what gevent later saves as the "original". Every later call through such a
stale name then runs the wrapper, which reports its caller when the call really stops the hub: it
runs in a greenlet other than the hub, on the hub's OS thread. Calls from real OS threads (thread
pools, gevent's resolver) pass straight through.

Which originals are wrapped, and with which ``blocks(*args)`` predicate, is the ``wire`` column
of the originals table (:mod:`patchkit.detect.originals`). Which OS thread is asked with the
real ``get_ident`` (:mod:`patchkit._real`): patched, it returns greenlet ids and every call would
look like the hub's thread. Findings are bounded: ``TOP_SITES`` sites, then one summary.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from greenlet import getcurrent

from patchkit import _frames, _real
from patchkit.detect.originals import WIRED, Original
from patchkit.findings import Finding

MAX_SITES = 1000  # stored call sites; later ones are only counted (memory stays bounded)
TOP_SITES = 20  # PK301 findings per report; the rest become one summary finding
_MAX_COUNTED = 100_000  # distinct overflow sites counted exactly (by hash) up to this many
_OVERFLOW = ("", "", -1)  # the counts() key for calls at sites past MAX_SITES


@dataclass
class Site:
    """One call site of a blocking original, counted."""

    object: str
    file: str | None  # None: no Python frame to point at
    line: int | None
    greenlet: str
    stack: tuple[str, ...]
    count: int = 0


class _State:
    def __init__(self) -> None:
        self.installed: dict[tuple[str, str], tuple[Callable[..., Any], Callable[..., Any]]] = {}
        self.hub_ident: int | None = None
        self.sites: dict[tuple[str, str, int], Site] = {}
        self.lock = _real.allocate_lock()
        self.overflow_calls = 0  # calls at sites not stored
        self.overflow_sites: set[int] = set()  # their keys' hashes, to count them


_state = _State()


def install(hub_thread: int | None = None) -> None:
    """Wrap the blocking originals in place; idempotent. Call before the program imports them.

    ``hub_thread`` is the OS thread whose hub is watched (default: the calling thread).
    """
    _state.hub_ident = _real.get_ident() if hub_thread is None else hub_thread
    _frames.toolchain_dirs()
    for row in WIRED:
        key = (row.module, row.name)
        if key in _state.installed:
            continue
        module = importlib.import_module(row.module)
        original = getattr(module, row.name, None)
        if original is None:
            continue
        wrapper = _make_wrapper(row, original)
        setattr(module, row.name, wrapper)
        _state.installed[key] = (original, wrapper)


def warm_up() -> None:
    """Compute the path tables now, so the first stall sampled does not pay for them."""
    _frames.toolchain_dirs()
    _frames.stdlib_dirs()


def counts() -> dict[tuple[str, str, int], int]:
    """Calls so far per site, so a watch can report only what happened inside it."""
    out = {key: site.count for key, site in list(_state.sites.items())}
    out[_OVERFLOW] = _state.overflow_calls
    return out


def findings(since: dict[tuple[str, str, int], int] | None = None) -> list[Finding]:
    """PK301 for the busiest sites called (since ``since``, a :func:`counts` snapshot).

    At most ``TOP_SITES`` findings, by call count; one more sums up the rest.
    """
    since = since or {}
    called = []
    for key, site in list(_state.sites.items()):
        count = site.count - since.get(key, 0)
        if count > 0:
            called.append((count, site))
    called.sort(key=lambda pair: -pair[0])
    out = [_site_finding(site, count) for count, site in called[:TOP_SITES]]
    rest = called[TOP_SITES:]
    more_calls = sum(count for count, _ in rest)
    more_sites = len(rest)
    overflow = _state.overflow_calls - since.get(_OVERFLOW, 0)
    if overflow > 0:
        more_calls += overflow
        more_sites += len(_state.overflow_sites)
    if more_calls:
        total = sum(count for count, _ in called) + overflow
        out.append(_summary(more_sites, more_calls, total))
    return out


def _summary(sites: int, calls: int, total: int) -> Finding:
    at_least = "at least " if sites >= _MAX_COUNTED else ""
    return Finding(
        "PK301",
        f"and {at_least}{sites} more call sites of blocking originals on the hub's thread: "
        f"{calls} calls ({total} calls at all sites)",
        detail={"more_sites": sites, "more_calls": calls, "total_calls": total},
    )


def _site_finding(site: Site, count: int) -> Finding:
    how = (
        f"once, from {site.greenlet}"
        if count == 1
        else f"{count} times, first from {site.greenlet}"
    )
    return Finding(
        "PK301",
        f"{site.object}, the blocking original, was called on the hub's thread {how}: "
        "every greenlet stops while it runs",
        file=site.file,
        line=site.line,
        object=site.object,
        stack=site.stack,
        detail={"count": count},
    )


def _make_wrapper(row: Original, original: Callable[..., Any]) -> Callable[..., Any]:
    qualified = row.key
    blocks = row.wire
    get_ident = _real.get_ident

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # The fast path for other OS threads is one C call and a comparison.
        if get_ident() == _state.hub_ident and _on_greenlet():
            try:
                if blocks(*args, **kwargs):
                    # No Python caller when a greenlet runs the wrapper itself:
                    # gevent.spawn(sleep, 0.2). The report must never change the call.
                    _report(qualified, sys._getframe(0).f_back)
            except Exception:
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
    if frame is None:
        file, line, stack, via = _spawned_directly()
    else:
        if _frames.is_gevent_file(frame.f_code.co_filename):
            return  # gevent calling what it saved (with arguments that do wait): its own business
        file, line = _frames.app_location(frame)
        stack, via = tuple(_frames.frame_stack(frame)), ""
    key = (qualified, file or "", line or 0)
    with _state.lock:
        site = _state.sites.get(key)
        if site is None:
            if len(_state.sites) >= MAX_SITES:
                _state.overflow_calls += 1
                if len(_state.overflow_sites) < _MAX_COUNTED:
                    _state.overflow_sites.add(hash(key))
                return
            site = Site(qualified, file, line, _frames.greenlet_label() + via, stack)
            _state.sites[key] = site
        site.count += 1


def _spawned_directly() -> tuple[str | None, int | None, tuple[str, ...], str]:
    """Where the running greenlet was spawned, for a wrapper that is its function itself."""
    spawned = getattr(getcurrent(), "spawning_stack", None)
    entries = _frames.frame_entries(spawned) if spawned is not None else []
    file, line = _frames.entries_location(entries)
    if file is None:
        return None, None, (), " (it ran the original directly: no Python caller)"
    stack = tuple(_frames.format_entries(entries))
    return file, line, stack, " (spawned directly on the original here)"
