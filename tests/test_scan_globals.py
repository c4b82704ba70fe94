"""PK102 (stale module globals) and PK101 (patched late), with the harm measured."""

from __future__ import annotations

from tests.scan_helpers import APPS, QUIET, STALL, of, run_scan


def test_global_bound_to_original_sleep_is_reported_at_its_import_line() -> None:
    result = run_scan(
        before="import scan_stale_sleep",
        harm='out["harm"] = hub_gap(scan_stale_sleep.backoff, 0.3)',
    )
    [finding] = of(result, "PK102", "scan_stale_sleep")
    assert finding["object"] == "time.sleep"
    assert finding["file"] == str(APPS / "scan_stale_sleep.py")
    assert finding["line"] == 3
    assert "scan_stale_sleep.sleep" in finding["message"] and finding["fix"]
    assert result["harm"]["gap"] >= STALL  # the hub really stopped


def test_call_time_lookup_of_sleep_is_not_reported_and_does_not_block() -> None:
    result = run_scan(
        before="import scan_lookup_sleep",
        harm='out["harm"] = hub_gap(scan_lookup_sleep.backoff, 0.3)',
    )
    assert not [f for f in result["findings"] if f["module"] == "scan_lookup_sleep"]
    assert result["harm"]["gap"] < QUIET


def test_module_imported_after_patching_is_not_reported() -> None:
    result = run_scan(after="import scan_stale_sleep")
    assert not of(result, "PK102", "scan_stale_sleep")
    assert not of(result, "PK101")


def test_patch_after_a_stale_module_names_it_and_its_first_importer() -> None:
    result = run_scan(before="import scan_stale_sleep\nimport scan_time_only")
    [late] = of(result, "PK101")
    assert late["object"] == "gevent.monkey.patch_all"
    assert late["line"] is not None
    modules = late["detail"]["modules"]
    assert list(modules) == ["scan_stale_sleep"]  # importing time/socket alone is no finding
    assert modules["scan_stale_sleep"].endswith(":7")  # the harness line that imported it


def test_no_patch_means_no_scan_findings_for_natives() -> None:
    result = run_scan(patch="", before="import scan_stale_sleep")
    assert not of(result, "PK102")  # nothing was patched: nothing is stale
    assert not of(result, "PK101")
