"""The native-client table's checks, on stand-in modules (no server needed)."""

from __future__ import annotations

import sys
import types

import pytest

from patchkit.detect import natives


@pytest.fixture
def fake_modules(monkeypatch: pytest.MonkeyPatch):
    def install(**modules: types.ModuleType) -> None:
        for name, module in modules.items():
            monkeypatch.setitem(sys.modules, name, module)

    return install


def loaded() -> list[str]:
    return [row.library for row in natives.blocking_clients()]


def module(name: str, **attrs: object) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    return mod


@pytest.mark.parametrize(("version", "impl", "blocking"), [
    ("3.1.10", "c", True),
    ("3.1.10", "binary", True),
    ("3.1.10", "python", False),
    ("3.1.14", "c", False),
    ("3.1.4", "c", False),
])  # fmt: skip
def test_psycopg3_is_blocking_only_in_the_c_wait_releases(
    fake_modules, version: str, impl: str, blocking: bool
) -> None:
    # The C wait is in the implementation's extension, loaded only when it is in use.
    extension = {"c": "psycopg_c._psycopg", "binary": "psycopg_binary._psycopg"}.get(impl)
    fake_modules(psycopg=module("psycopg", __version__=version), **{
        "psycopg.pq": module("psycopg.pq", __impl__=impl),
        **({extension: module(extension)} if extension else {}),
    })  # fmt: skip
    assert ("psycopg" in loaded()) is blocking


def test_mysqlclient_is_always_blocking(fake_modules) -> None:
    fake_modules(**{"MySQLdb._mysql": module("MySQLdb._mysql")})
    assert "mysqlclient" in loaded()


def test_oracledb_thin_mode_is_cooperative_and_thick_is_not(fake_modules) -> None:
    fake_modules(**{"oracledb.base_impl": module("oracledb.base_impl")})
    fake_modules(oracledb=module("oracledb", is_thin_mode=lambda: True))
    assert "oracledb" not in loaded()
    fake_modules(oracledb=module("oracledb", is_thin_mode=lambda: False))
    assert "oracledb" in loaded()


def test_pymssql_cannot_be_seen_to_be_cooperative(fake_modules) -> None:
    fake_modules(**{"pymssql._mssql": module("pymssql._mssql")})
    [row] = [r for r in natives.blocking_clients() if r.library == "pymssql"]
    assert row.cooperative() is None


def test_pure_python_clients_are_not_in_the_table() -> None:
    libraries = {row.library for row in natives.NATIVE_CLIENTS}
    assert not libraries & {"PyMySQL", "pymysql", "redis", "requests", "urllib3", "hiredis"}


def test_pylibmc_is_seen_by_its_top_level_extension(fake_modules) -> None:
    # pylibmc's C extension is the top-level _pylibmc, not pylibmc._pylibmc.
    fake_modules(_pylibmc=module("_pylibmc"))
    assert "pylibmc" in loaded()


def test_every_integration_is_described_by_the_native_client_it_fixes() -> None:
    from patchkit import integrations

    fixed = {row.integration.name: row for row in natives.NATIVE_CLIENTS if row.integration}
    assert {name: row.integration for name, row in fixed.items()} == integrations.BUILTINS
    for name, row in fixed.items():
        assert f'integrations = ["{name}"]' in row.fix


def test_integration_activity_is_the_native_rows_cooperative_check(
    fake_modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    from patchkit import integrations

    for name in [n for n in sys.modules if n.partition(".")[0] == "psycopg2"]:
        monkeypatch.delitem(sys.modules, name)  # another test in this process may have loaded it
    assert integrations.is_active("psycopg2") is None  # not loaded: cannot tell
    callback: list[object] = []
    fake_modules(**{
        "psycopg2._psycopg": module("psycopg2._psycopg"),
        "psycopg2.extensions": module(
            "psycopg2.extensions", get_wait_callback=lambda: callback[0] if callback else None
        ),
    })  # fmt: skip
    assert integrations.is_active("psycopg2") is False
    callback.append(print)
    assert integrations.is_active("psycopg2") is True
    fake_modules(**{"grpc._cython.cygrpc": module("grpc._cython.cygrpc", g_gevent_activated=True)})
    assert integrations.is_active("grpc") is True
