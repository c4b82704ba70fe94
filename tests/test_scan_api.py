"""``patchkit.scan()``: the public entry point returns a Report with the ledger's view too."""

from __future__ import annotations

from tests.helpers import REPO, json_from_stdout, run_python


def test_scan_returns_a_report_with_patches_and_scan_findings() -> None:
    code = """
    import json, sys, warnings
    warnings.simplefilter("ignore")
    sys.path.insert(0, "tests/apps")
    import patchkit
    import scan_stale_sleep
    from gevent import monkey
    monkey.patch_all()
    report = patchkit.scan()
    print(json.dumps(report.as_dict()))
    """
    data = json_from_stdout(run_python(code, cwd=REPO))
    assert data["schema"] == 1 and data["mode"] == "scan"
    assert {f["code"] for f in data["findings"]} >= {"PK101", "PK102"}
    assert any(p["module"] == "time" for p in data["patches"])


def test_clean_process_scans_clean() -> None:
    code = """
    import json
    import patchkit
    patchkit.apply("full")
    import requests, redis
    print(json.dumps(patchkit.scan().as_dict()["findings"]))
    """
    assert json_from_stdout(run_python(code)) == []


def test_drift_from_verify_is_included() -> None:
    code = """
    import json, time
    import patchkit
    patchkit.apply("full")
    saved = __import__("gevent.monkey").monkey.saved["time"]["sleep"]
    time.sleep = saved  # an SDK "restores" the original
    print(json.dumps([f.code for f in patchkit.scan().findings]))
    """
    assert "PK108" in json_from_stdout(run_python(code))
