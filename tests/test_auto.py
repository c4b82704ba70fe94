"""``import patchkit.auto`` applies the configured profile (or full) and installs the hook."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import clean_env, json_from_stdout, run_python, write

APP = """
import patchkit.auto
import json, socket, gevent.socket, patchkit, patchkit.imports
from gevent import monkey
request = patchkit.state().as_dict()["requests"][0]
print(json.dumps({"profile": patchkit.auto.PROFILE.name,
                  "socket": socket.socket is gevent.socket.socket,
                  "thread": monkey.is_module_patched("threading"),
                  "hook": patchkit.imports.installed(),
                  "requested_by": request["requested_by"]}))
"""


def test_auto_applies_full_without_config(tmp_path: Path) -> None:
    seen = json_from_stdout(run_python(APP, cwd=tmp_path))
    assert seen["profile"] == "full" and seen["socket"] and seen["thread"] and seen["hook"]
    assert seen["requested_by"] == "<string>:2"


def test_auto_honours_the_project_config(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """
        [tool.patchkit]
        profile = "web"
        [tool.patchkit.profiles.web]
        extends = "full"
        skip = ["thread"]
        """,
    )
    write(tmp_path / "sub" / "keep.txt", "")
    seen = json_from_stdout(run_python(APP, cwd=tmp_path / "sub"))
    assert seen == {**seen, "profile": "web", "socket": True, "thread": False}


def test_auto_honours_patchkit_profile_over_the_config(tmp_path: Path) -> None:
    write(tmp_path / "setup.cfg", "[patchkit]\nprofile = nothread\n")
    proc = run_python(APP, cwd=tmp_path, env=clean_env(PATCHKIT_PROFILE="network"))
    seen = json_from_stdout(proc)
    assert seen["profile"] == "network" and seen["thread"] is False


def test_auto_with_a_bad_config_fails_with_the_config_error(tmp_path: Path) -> None:
    write(tmp_path / "tox.ini", "[patchkit]\nprofile = nope\n")
    proc = run_python("import patchkit.auto", cwd=tmp_path)
    assert proc.returncode == 1
    assert "tox.ini: [patchkit] profile: unknown profile 'nope'" in proc.stderr


def test_the_ledger_names_the_profile_auto_applied_where_it_is_defined_and_who_asked(
    tmp_path: Path,
) -> None:
    write(
        tmp_path / "pyproject.toml",
        """
        [tool.patchkit]
        profile = "web"
        [tool.patchkit.profiles.web]
        extends = "full"
        skip = ["subprocess"]
        """,
    )
    app = write(
        tmp_path / "app.py",
        """
        import patchkit.auto
        import json, patchkit
        book = patchkit.state()
        print(json.dumps({"profile": book.as_dict()["profile"], "records": book.patch_records()}))
        """,
    )
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, str(app)], cwd=tmp_path, env=clean_env(), capture_output=True, text=True
    )
    seen = json_from_stdout(proc)
    assert seen["profile"] == {
        "name": "web",
        "source": "pyproject.toml",
        "label": "web (pyproject.toml)",
        "requested_by": f"{app}:1",
    }
    assert {r["profile_source"] for r in seen["records"]} == {
        "pyproject.toml:[tool.patchkit.profiles.web]"
    }


def test_a_bare_patch_all_has_no_profile_and_a_builtin_says_so() -> None:
    code = """
    import json, patchkit
    from gevent import monkey
    monkey.patch_all()
    before = patchkit.state().as_dict()["profile"]
    patchkit.apply("full")
    print(json.dumps([before, patchkit.state().profile()["label"]]))
    """
    assert json_from_stdout(run_python(code)) == [None, "full (built-in)"]
