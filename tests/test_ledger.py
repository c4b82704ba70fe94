"""The ledger names who patched (file:line), how, from which thread, and what was loaded before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.helpers import clean_env, json_from_stdout, write

DUMP = """
import json, patchkit
from patchkit.detect import patching
print(json.dumps({"ledger": patchkit.state().as_dict(),
                  "records": patchkit.state().patch_records(),
                  "findings": [f.as_dict() for f in patching.findings()]}))
"""


def run_app(path: Path, source: str) -> dict[str, Any]:
    """Run ``source`` as a real script file (so frames have a path) and return the ledger dump."""
    write(path, source + DUMP)
    proc = subprocess.run(
        [sys.executable, str(path)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=path.parent,
    )
    assert proc.returncode == 0, proc.stderr
    return json_from_stdout(proc)


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_apply_is_recorded_with_the_calling_line(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    out = run_app(app, "import patchkit\npatchkit.apply('nothread')\n")
    (request,) = out["ledger"]["requests"]
    assert request["function"] == "patchkit.apply"
    assert request["profile"] == "nothread"
    assert request["requested_by"] == f"{app}:2"
    assert request["settings"]["thread"] is False and request["settings"]["socket"] is True
    assert request["main_thread"] is True and request["other_threads"] == []
    modules = {p["module"] for p in request["patches"]}
    assert {"socket", "time", "select", "selectors", "ssl"} <= modules
    assert "thread" not in modules and "threading" not in modules
    socket_record = next(r for r in out["records"] if r["module"] == "socket")
    assert "socket" in socket_record["items"] and socket_record["requested_by"] == f"{app}:2"
    assert out["findings"] == []


def test_bare_patch_all_in_the_app_is_recorded(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    source = "import patchkit\nfrom gevent import monkey\n\nmonkey.patch_all(subprocess=False)\n"
    out = run_app(app, source)
    (request,) = out["ledger"]["requests"]
    assert request["function"] == "gevent.monkey.patch_all"
    assert request["profile"] is None
    assert request["requested_by"] == f"{app}:4"
    assert request["settings"]["subprocess"] is False and request["settings"]["thread"] is True
    assert {"thread", "threading", "socket"} <= {p["module"] for p in request["patches"]}


def test_a_single_patch_function_is_recorded(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    out = run_app(app, "import patchkit\nfrom gevent import monkey\nmonkey.patch_socket()\n")
    (request,) = out["ledger"]["requests"]
    assert request["function"] == "gevent.monkey.patch_socket"
    assert request["requested_by"] == f"{app}:3"
    assert [p["module"] for p in request["patches"]] == ["socket"]


def test_patching_from_another_thread_is_pk107_with_its_line(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    source = (
        "import threading, patchkit\n"
        "def patch():\n"
        "    patchkit.apply('network')\n"
        "t = threading.Thread(target=patch, name='patcher')\n"
        "t.start(); t.join()\n"
    )
    out = run_app(app, source)
    (request,) = out["ledger"]["requests"]
    assert request["main_thread"] is False and request["thread_name"] == "patcher"
    assert "MainThread" in request["other_threads"]
    (finding,) = out["findings"]
    assert finding["code"] == "PK107"
    assert finding["file"] == str(app) and finding["line"] == 3
    assert "'patcher'" in finding["message"]


def test_other_running_threads_are_pk107_whatever_their_name(tmp_path: Path) -> None:
    # patchkit's own threads never join threading's registry (real start_new_thread), so a name
    # says nothing: an application thread called "patchkit-..." is still another thread.
    app = tmp_path / "app.py"
    source = (
        "import threading, patchkit\n"
        "stop = threading.Event()\n"
        "threading.Thread(target=stop.wait, name='patchkit-lookalike', daemon=True).start()\n"
        "threading.Thread(target=stop.wait, name='kafka-poller', daemon=True).start()\n"
        "with patchkit.watch(0.1):\n"
        "    patchkit.apply('network')\n"
        "stop.set()\n"
    )
    out = run_app(app, source)
    (request,) = out["ledger"]["requests"]
    assert request["other_threads"] == ["patchkit-lookalike", "kafka-poller"]
    (finding,) = out["findings"]
    assert finding["code"] == "PK107" and finding["line"] == 6
    assert "kafka-poller" in finding["message"]


def test_same_profile_twice_is_one_request(tmp_path: Path) -> None:
    out = run_app(
        tmp_path / "app.py", "import patchkit\npatchkit.apply('full')\npatchkit.apply('full')\n"
    )
    assert len(out["ledger"]["requests"]) == 1
    assert out["findings"] == []


def test_a_different_second_request_is_pk106_naming_both_callers(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    source = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "import patchkit\n"
        "patchkit.apply('nothread')\n"
        "from gevent import monkey\n"
        "monkey.patch_all()\n"
    )
    out = run_app(app, source)
    first, second = out["ledger"]["requests"]
    assert (first["function"], second["function"]) == ("patchkit.apply", "gevent.monkey.patch_all")
    assert {p["module"] for p in second["patches"]} >= {"thread", "threading"}
    (finding,) = out["findings"]
    assert finding["code"] == "PK106"
    assert f"{app}:3" in finding["message"] and f"{app}:5" in finding["message"]
    assert finding["line"] == 5


def test_patches_made_before_patchkit_was_imported_are_reconstructed(tmp_path: Path) -> None:
    out = run_app(tmp_path / "app.py", "from gevent import monkey\nmonkey.patch_all()\n")
    (request,) = out["ledger"]["requests"]
    assert request["reconstructed"] is True and request["requested_by"] is None
    assert request["function"] == "gevent.monkey.patch_all"
    assert request["settings"]["thread"] is True
    assert {"thread", "socket", "time"} <= {p["module"] for p in request["patches"]}
    assert out["findings"] == []


def test_modules_loaded_before_patching_name_their_first_importer(tmp_path: Path) -> None:
    write(tmp_path / "early_lib.py", "import json\n")
    write(tmp_path / "startup.py", "import early_lib\n")
    app = tmp_path / "app.py"
    source = (
        "import patchkit.imports\n"
        "patchkit.imports.install()\n"
        "import startup\n"
        "import patchkit\n"
        "patchkit.apply('network')\n"
    )
    out = run_app(app, source)
    loaded = out["ledger"]["requests"][0]["modules_loaded"]
    assert loaded["early_lib"] == f"{tmp_path / 'startup.py'}:1"
    assert loaded["startup"] == f"{app}:3"
    assert not any(name.split(".")[0] in ("json", "gevent", "patchkit") for name in loaded)


def test_import_hook_is_cheap_and_ignores_stdlib() -> None:
    from patchkit import imports

    imports.install()
    imports.install()
    assert sum(1 for f in sys.meta_path if f is imports._FINDER) == 1
    assert imports.first_importer("json") is None
