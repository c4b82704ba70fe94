"""PK105: live objects made before patching (real locks, thread-locals, selectors)."""

from __future__ import annotations

from tests.scan_helpers import QUIET, STALL, of, run_scan

LEAK = """
def leak():
    scan_objects.request.user = "alice"
    seen = []
    gevent.spawn(lambda: seen.append(getattr(scan_objects.request, "user", None))).join()
    return seen[0]
out["harm"] = hub_gap(leak)
"""

CONTENDED_LOCK = """
def contend():
    lock = scan_objects.STATS_LOCK
    lock.acquire()
    try:
        lock.acquire(timeout=0.3)
    finally:
        lock.release()
out["harm"] = hub_gap(contend)
"""


def test_objects_made_before_patching_are_reported_with_their_lines() -> None:
    result = run_scan(before="import scan_objects")
    found = {
        (f["message"].split(" was made")[0], f["object"], f["line"]) for f in of(result, "PK105")
    }
    assert found == {
        ("scan_objects.STATS_LOCK", "threading.Lock", 6),
        ("scan_objects.REGISTRY_LOCK", "threading.RLock", 7),
        ("scan_objects.request", "threading.local", 8),
        ("scan_objects.SELECTOR", "selectors.DefaultSelector", 9),
        ("scan_objects.Cache.lock", "threading.Lock", 13),
    }


def test_prepatch_thread_local_leaks_between_greenlets() -> None:
    result = run_scan(before="import scan_objects", harm=LEAK)
    assert result["harm"]["value"] == "alice"


def test_postpatch_thread_local_does_not_leak() -> None:
    result = run_scan(after="import scan_objects", harm=LEAK)
    assert result["harm"]["value"] is None
    assert not of(result, "PK105")


def test_prepatch_lock_blocks_the_hub_and_postpatch_lock_does_not() -> None:
    before = run_scan(before="import scan_objects", harm=CONTENDED_LOCK)
    after = run_scan(after="import scan_objects", harm=CONTENDED_LOCK)
    assert before["harm"]["gap"] >= STALL
    assert after["harm"]["gap"] < QUIET


def test_lazy_objects_and_logging_handlers_are_not_reported() -> None:
    result = run_scan(
        before="import scan_objects_twin",
        harm="out['lock'] = type(scan_objects_twin.stats_lock()).__module__",
    )
    assert not [f for f in result["findings"] if f["module"] == "scan_objects_twin"]
    assert result["lock"].startswith("gevent")


def test_sslcontext_made_before_patching_is_reported_and_breaks() -> None:
    result = run_scan(
        before="import ssl\nCTX = ssl.create_default_context()",
        harm="out['harm'] = hub_gap(setattr, CTX, 'verify_mode', ssl.CERT_REQUIRED)",
    )
    [finding] = of(result, "PK105", "__main__")
    assert finding["object"] == "ssl.SSLContext"
    assert result["harm"]["error"] == "RecursionError"
