"""The static audit follows each entry's import closure up to its patch call (issue 11 §1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from patchkit.detect.factcache import FactCache
from patchkit.detect.static_audit import audit_entries
from tests.helpers import write

APPS = Path(__file__).parent / "apps"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATCHKIT_CACHE_DIR", str(tmp_path / "cache"))


def sites(findings) -> set[tuple[str, str, int | None]]:
    return {(f.code, os.path.basename(f.file or ""), f.line) for f in findings}


def test_a_module_level_lock_in_a_lone_entry_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "myapp" / "__init__.py", "")
    path = write(tmp_path / "myapp" / "stats.py", "import threading\nLOCK = threading.Lock()\n")
    findings = audit_entries([str(path)])
    assert sites(findings) == {("PK105", "stats.py", 2)}
    assert findings[0].detail["static"] is True
    assert findings[0].module == "myapp.stats"


def test_a_module_imported_before_patching_is_read_with_its_import_chain(tmp_path: Path) -> None:
    write(tmp_path / "helpers.py", "from time import sleep\n")
    write(tmp_path / "stats.py", "import helpers\nimport threading\nLOCAL = threading.local()\n")
    app = write(tmp_path / "app.py", "import stats\nimport patchkit.auto\nimport late\n")
    write(tmp_path / "late.py", "import threading\nLOCK = threading.Lock()\n")
    findings = audit_entries([str(app)])
    assert ("PK102", "helpers.py", 1) in sites(findings)
    assert ("PK105", "stats.py", 3) in sites(findings)
    assert not any(f.file and f.file.endswith("late.py") for f in findings)  # after patching
    helper = next(f for f in findings if f.code == "PK102")
    assert helper.detail["chain"] == [f"{app}:1", f"{tmp_path / 'stats.py'}:1"]


def test_every_entry_given_is_read(tmp_path: Path) -> None:
    one = write(tmp_path / "one.py", "import threading\nA = threading.Lock()\n")
    two = write(tmp_path / "two.py", "import threading\nB = threading.local()\n")
    assert sites(audit_entries([str(one), str(two)])) == {
        ("PK105", "one.py", 2),
        ("PK105", "two.py", 2),
    }


def test_call_time_lookups_and_get_original_are_not_findings(tmp_path: Path) -> None:
    source = """
    import time
    from queue import Queue
    from gevent.monkey import get_original
    real_sleep = get_original("time", "sleep")
    Q = Queue()
    def nap(): time.sleep(1)
    """
    path = write(tmp_path / "mod.py", source)
    assert audit_entries([str(path)]) == []


def test_a_corrupt_cache_is_ignored_and_replaced(tmp_path: Path) -> None:
    path = write(tmp_path / "mod.py", "import threading\nA = threading.Lock()\n")
    cache = FactCache()
    os.makedirs(os.path.dirname(cache.path), exist_ok=True)
    Path(cache.path).write_bytes(b"\x00garbage")
    assert sites(audit_entries([str(path)])) == {("PK105", "mod.py", 2)}
    assert len(FactCache().entries) == 1  # rewritten whole, and readable again
    assert sites(audit_entries([str(path)])) == {("PK105", "mod.py", 2)}


def _codes(argv: list[str], cwd: Path) -> tuple[int, dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "patchkit", "audit", "--format", "json", *argv],
        cwd=cwd, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    return proc.returncode, json.loads(proc.stdout) if proc.stdout else {}


def test_cli_reads_every_entry_and_marks_static_findings(tmp_path: Path) -> None:
    write(tmp_path / "a.py", "import threading\nA = threading.Lock()\n")
    write(tmp_path / "b.py", "from time import sleep\n")
    status, report = _codes(["--static", "a.py", "b.py"], tmp_path)
    assert status == 1
    assert {(f["code"], f["file"]) for f in report["findings"]} == {
        ("PK105", str(tmp_path / "a.py")),
        ("PK102", str(tmp_path / "b.py")),
    }
    assert all(f["detail"]["static"] for f in report["findings"])


def test_cli_takes_entries_from_config(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.patchkit]\nentry = ["src/wsgi.py"]\n')
    write(tmp_path / "src" / "wsgi.py", "import threading\nA = threading.local()\n")
    status, report = _codes(["--static"], tmp_path)
    assert status == 1
    assert [(f["code"], f["line"]) for f in report["findings"]] == [("PK105", 2)]


def test_cli_without_entries_is_a_one_line_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "patchkit", "audit", "--static"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "entry" in proc.stderr


@pytest.mark.parametrize("app", ["static_bindings.py", "static_chain.py", "static_flask.py"])
def test_static_audit_predicts_the_runtime_sites(app: str) -> None:
    """Agreement: PK101-PK105 sites (code, file, line) of the runtime and the static audit."""

    def pk1(report: dict) -> set[tuple[str, str, int]]:
        return {
            (f["code"], os.path.abspath(os.path.join(APPS, f["file"])), f["line"])
            for f in report["findings"]
            if f["code"] < "PK106"
        }

    _, runtime = _codes([app], APPS)
    _, static = _codes(["--static", app], APPS)
    assert pk1(runtime), runtime
    assert pk1(static) == pk1(runtime)
