"""verify(): nothing after a clean apply; PK108 for each patched attribute put back by hand."""

from __future__ import annotations

import textwrap

from tests.helpers import json_from_stdout, run_python

REPORT = "\nimport json\nprint(json.dumps([f.as_dict() for f in patchkit.verify()]))\n"


def test_clean_apply_verifies_clean() -> None:
    proc = run_python(
        "import patchkit\npatchkit.apply('full')\nimport time\ntime.sleep(0.01)" + REPORT
    )
    assert json_from_stdout(proc) == []


def test_bare_patch_all_verifies_clean_too() -> None:
    proc = run_python("import patchkit\nfrom gevent import monkey\nmonkey.patch_all()" + REPORT)
    assert json_from_stdout(proc) == []


def test_attribute_restored_by_hand_is_pk108() -> None:
    code = """
        import patchkit, socket, time
        from gevent import monkey
        patchkit.apply("full")
        socket.socket = monkey.get_original("socket", "socket")
        time.sleep = lambda seconds: None
    """
    proc = run_python(textwrap.dedent(code) + REPORT)
    findings = {f["object"]: f for f in json_from_stdout(proc)}
    assert sorted(findings) == ["socket.socket", "time.sleep"]
    assert {f["code"] for f in findings.values()} == {"PK108"}
    assert "restored to the original" in findings["socket.socket"]["message"]
    assert "replaced by" in findings["time.sleep"]["message"]


def test_removed_item_put_back_is_pk108() -> None:
    code = (
        "import patchkit, select\nfrom gevent import monkey\npatchkit.apply('network')\n"
        "select.epoll = monkey.get_original('select', 'epoll')"
    )
    findings = json_from_stdout(run_python(code + REPORT))
    assert [f["object"] for f in findings] == ["select.epoll"]


def test_reconstructed_ledger_verifies_later_drift() -> None:
    code = (
        "from gevent import monkey\nmonkey.patch_all()\nimport patchkit, time\n"
        "time.sleep = monkey.get_original('time', 'sleep')"
    )
    findings = json_from_stdout(run_python(code + REPORT))
    assert [f["object"] for f in findings] == ["time.sleep"]
