"""Findings in installed packages fold into one finding at the user's import that caused them."""

from __future__ import annotations

from types import ModuleType

from patchkit.detect.group import group_installed
from patchkit.findings import Finding

SITE = "/venv/lib/python3.11/site-packages"


def _module(name: str, path: str) -> ModuleType:
    module = ModuleType(name)
    module.__file__ = path
    return module


MODULES = {
    "requests": _module("requests", f"{SITE}/requests/__init__.py"),
    "urllib3": _module("urllib3", f"{SITE}/urllib3/__init__.py"),
    "urllib3.util.ssl_": _module("urllib3.util.ssl_", f"{SITE}/urllib3/util/ssl_.py"),
    "click.globals": _module("click.globals", f"{SITE}/click/globals.py"),
}
IMPORTERS = {
    "requests": "/app/app.py:3",
    "urllib3": f"{SITE}/requests/__init__.py:43",
    "urllib3.util.ssl_": f"{SITE}/urllib3/__init__.py:12",
    "click.globals": "/app/cli.py:1",
}


def _finding(code: str, module: str, obj: str, file: str) -> Finding:
    return Finding(code, f"{module} holds {obj}", module=module, file=file, line=4, object=obj)


def _group(findings: list[Finding], early: list[str] | None = None) -> list[Finding]:
    return group_installed(
        findings, first_importer=IMPORTERS.get, modules=MODULES, loaded_before_patch=early
    )


def test_findings_deep_in_installed_packages_are_reported_at_the_users_import() -> None:
    found = _group(
        [
            _finding(
                "PK102", "urllib3.util.ssl_", "ssl.SSLContext", f"{SITE}/urllib3/util/ssl_.py"
            ),
            _finding("PK105", "urllib3", "threading.Lock", f"{SITE}/urllib3/__init__.py"),
        ]
    )
    assert len(found) == 1
    (grouped,) = found
    assert (grouped.file, grouped.line, grouped.code) == ("/app/app.py", 3, "PK102")
    assert grouped.message.startswith("requests, imported at /app/app.py:3 before patching")
    assert "urllib3.util.ssl_ (ssl.SSLContext, PK102) and 1 more" in grouped.message
    assert grouped.detail["imported_at"] == "/app/app.py:3"
    assert [m["object"] for m in grouped.detail["grouped"]] == ["ssl.SSLContext", "threading.Lock"]
    assert "Patch before requests is imported" in grouped.fix


def test_each_user_import_gets_its_own_group() -> None:
    found = _group(
        [
            _finding(
                "PK102", "urllib3.util.ssl_", "ssl.SSLContext", f"{SITE}/urllib3/util/ssl_.py"
            ),
            _finding("PK105", "click.globals", "threading.local", f"{SITE}/click/globals.py"),
        ]
    )
    assert sorted((f.file, f.line) for f in found) == [("/app/app.py", 3), ("/app/cli.py", 1)]


def test_the_users_own_modules_keep_individual_findings() -> None:
    own = [
        _finding("PK102", "retry", "time.sleep", "/app/retry.py"),
        _finding("PK102", "__main__", "time.sleep", "/app/app.py"),
    ]
    assert _group(own) == own


def test_installed_module_imported_after_patching_keeps_its_finding() -> None:
    late = _finding("PK102", "click.globals", "threading.local", f"{SITE}/click/globals.py")
    assert _group([late], early=["requests", "urllib3"]) == [late]


def test_without_import_records_the_group_is_the_top_level_package() -> None:
    findings = [
        _finding("PK102", "urllib3.util.ssl_", "ssl.SSLContext", f"{SITE}/urllib3/util/ssl_.py"),
        _finding("PK105", "urllib3", "threading.Lock", f"{SITE}/urllib3/__init__.py"),
    ]
    found = group_installed(findings, first_importer=lambda name: None, modules=MODULES)
    assert len(found) == 1
    assert found[0].detail["imported_at"] is None and found[0].object == "urllib3"
    assert found[0].message.startswith("urllib3, imported before patching")


def test_codes_other_than_stale_originals_are_never_grouped() -> None:
    native = Finding("PK201", "psycopg2 blocks", module="psycopg2", file=f"{SITE}/psycopg2/x.py")
    assert _group([native]) == [native]
