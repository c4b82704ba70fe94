"""PK103: originals held by class attributes, defaults, closures and one level into containers."""

from __future__ import annotations

from tests.scan_helpers import APPS, QUIET, STALL, of, run_scan


def test_each_binding_of_an_original_is_reported_where_it_is_made() -> None:
    result = run_scan(
        before="import scan_bindings",
        harm='out["harm"] = hub_gap(scan_bindings.Poller.wait, 0.3)',
    )
    found = {(f["message"].split(" is the original")[0], f["line"]) for f in of(result, "PK103")}
    [stale_global] = of(result, "PK102", "scan_bindings")  # from time import sleep as _sleep
    assert stale_global["line"] == 5
    assert found == {
        ("scan_bindings.DEFAULT_CONFIG['selector']", 9),
        ("class attribute scan_bindings.Poller.wait", 14),
        ("class attribute scan_bindings.Poller.nap", 15),
        ("scan_bindings.Poller.SETTINGS['sleep']", 16),
        ("default of scan_bindings.Poller.tick()", 18),
        ("default of scan_bindings.retry()", 22),
        ("closure of scan_bindings.waiter()", 29),
    }
    assert all(f["file"] == str(APPS / "scan_bindings.py") for f in of(result, "PK103"))
    assert result["harm"]["gap"] >= STALL


def test_a_selector_class_kept_in_a_config_dict_blocks_the_hub() -> None:
    result = run_scan(
        before="import scan_bindings",
        harm="""
        import socket
        def use_configured_selector():
            a, b = socket.socketpair()
            sel = scan_bindings.DEFAULT_CONFIG["selector"]()
            sel.register(a, 1)
            sel.select(0.3)
        out["harm"] = hub_gap(use_configured_selector)
        """,
    )
    assert of(result, "PK103", "scan_bindings")
    assert result["harm"]["gap"] >= STALL


def test_call_time_lookups_and_harmless_originals_are_not_reported() -> None:
    result = run_scan(
        before="import scan_bindings_twin",
        harm="""
        import queue
        def use_them():
            cls = scan_bindings_twin.CONFIG["queue"]
            try:
                cls().get(timeout=0.3)
            except queue.Empty:
                pass
            event = scan_bindings_twin.Poller.event_class()
            gevent.spawn_later(0.1, event.set)
            event.wait(1)
            scan_bindings_twin.Poller().wait(0.1)
        out["harm"] = hub_gap(use_them)
        """,
    )
    assert not [f for f in result["findings"] if f["module"] == "scan_bindings_twin"]
    assert result["harm"]["error"] is None and result["harm"]["gap"] < QUIET
