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
