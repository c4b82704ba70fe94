"""PK104: classes derived from an unpatched original class."""

from __future__ import annotations

import sys

import pytest

from tests.scan_helpers import APPS, of, run_scan

before_313 = pytest.mark.skipif(sys.version_info >= (3, 13), reason="harmless from 3.13")

JOIN_IN_MAIN = """
import gevent.exceptions
worker = scan_subclass.Worker()
worker.start()
try:
    worker.join()
    out["join"] = "returned"
except gevent.exceptions.LoopExit:
    out["join"] = "LoopExit"
"""


@before_313
def test_thread_subclass_defined_before_patching_is_reported_and_join_raises_loopexit() -> None:
    result = run_scan(before="import scan_subclass", harm=JOIN_IN_MAIN)
    [finding] = of(result, "PK104", "scan_subclass")
    assert finding["object"] == "threading.Thread"
    assert (finding["file"], finding["line"]) == (str(APPS / "scan_subclass.py"), 6)
    assert result["join"] == "LoopExit"


@pytest.mark.skipif(sys.version_info < (3, 13), reason="measured harmful before 3.13")
def test_thread_subclass_defined_before_patching_joins_on_313_and_is_not_reported() -> None:
    # 3.13's Thread starts through _start_joinable_thread, looked up at call time: patched.
    result = run_scan(before="import scan_subclass", harm=JOIN_IN_MAIN)
    assert not of(result, "PK104")
    assert result["join"] == "returned"


def test_thread_subclass_defined_after_patching_is_not_reported_and_joins() -> None:
    result = run_scan(after="import scan_subclass", harm=JOIN_IN_MAIN)
    assert not of(result, "PK104")
    assert result["join"] == "returned"


def test_subclass_of_gevents_own_sslcontext_is_not_reported() -> None:
    # gevent's SSLContext derives from the original one; deriving from it is fine.
    result = run_scan(
        after="""
        import ssl, types, sys
        mod = types.ModuleType("scan_ssl_twin")
        exec("import ssl\\nclass Ctx(ssl.SSLContext):\\n    pass\\n", mod.__dict__)
        sys.modules["scan_ssl_twin"] = mod
        """
    )
    assert not of(result, "PK104")


def test_sslcontext_subclass_defined_before_patching_is_reported_and_recurses() -> None:
    result = run_scan(
        before="""
        import ssl, types, sys
        mod = types.ModuleType("scan_ssl")
        exec("import ssl\\nclass Ctx(ssl.SSLContext):\\n    pass\\n", mod.__dict__)
        sys.modules["scan_ssl"] = mod
        """,
        harm="""
        import ssl
        def configure():
            ctx = mod.Ctx(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        out["harm"] = hub_gap(configure)
        """,
    )
    assert [f["object"] for f in of(result, "PK104", "scan_ssl")] == ["ssl.SSLContext"]
    assert result["harm"]["error"] == "RecursionError"
