"""Noise left out by design: the standard library's own captures, measured harmless here."""

from __future__ import annotations

from tests.scan_helpers import QUIET, run_scan

STDLIB = (
    "import asyncio, concurrent.futures, functools, http.client, logging.handlers, "
    "multiprocessing, queue, reprlib, selectors, smtplib, socketserver, ssl, subprocess, "
    "tempfile, urllib.request, uuid"
)


def test_stdlib_imported_before_patching_yields_no_findings() -> None:
    result = run_scan(before=STDLIB)
    assert [f for f in result["findings"] if f["module"] != "__main__"] == []


def test_tempfile_lock_made_before_patching_does_not_stall_greenlets() -> None:
    # tempfile._once_lock is a real lock from before patching, held only around a dict lookup.
    result = run_scan(
        before="import tempfile",
        harm="""
        def make_many():
            jobs = [gevent.spawn(tempfile.mkdtemp) for _ in range(20)]
            gevent.joinall(jobs, raise_error=True)
        out["harm"] = hub_gap(make_many)
        """,
    )
    assert result["harm"]["error"] is None and result["harm"]["gap"] < QUIET


def test_functools_cached_property_rlock_does_not_stall_greenlets() -> None:
    # Python 3.11's cached_property holds functools.RLock, the C RLock captured at import:
    # owned by the OS thread, so greenlets re-enter it instead of waiting.
    result = run_scan(
        before="import functools",
        harm="""
        class Slow:
            @functools.cached_property
            def value(self):
                gevent.sleep(0.2)
                return 1
        def compute_twice():
            slow = Slow()
            gevent.joinall([gevent.spawn(lambda: slow.value) for _ in range(2)])
        out["harm"] = hub_gap(compute_twice)
        """,
    )
    assert result["harm"]["error"] is None and result["harm"]["gap"] < QUIET


def test_reprlib_recursive_repr_from_greenlets_does_not_stall() -> None:
    result = run_scan(
        before="import reprlib",
        harm="""
        class Node:
            @reprlib.recursive_repr()
            def __repr__(self):
                gevent.sleep(0.05)
                return "Node"
        def reprs():
            node = Node()
            gevent.joinall([gevent.spawn(repr, node) for _ in range(5)])
        out["harm"] = hub_gap(reprs)
        """,
    )
    assert result["harm"]["error"] is None and result["harm"]["gap"] < QUIET
