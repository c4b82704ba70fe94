"""Integrations run after patching; a missing library is a clear ProfileError (CLI: exit 2)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import clean_env, json_from_stdout, run_patchkit, run_python, write

WEB = """
[tool.patchkit]
profile = "web"
[tool.patchkit.profiles.web]
extends = "full"
integrations = [{names}]
"""


def test_psycopg2_integration_sets_psycogreens_wait_callback(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", WEB.format(names='"psycopg2"'))
    code = """
        import json, patchkit
        profile = patchkit.apply()
        from psycopg2 import extensions
        from psycogreen.gevent import gevent_wait_callback
        print(json.dumps({"profile": profile.name,
                          "callback": extensions.get_wait_callback() is gevent_wait_callback,
                          "recorded": patchkit.state().as_dict()["requests"][0]["integrations"]}))
    """
    seen = json_from_stdout(run_python(code, cwd=tmp_path))
    assert seen == {"profile": "web", "callback": True, "recorded": ["psycopg2"]}


def test_grpc_integration_runs_init_gevent(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", WEB.format(names='"grpc"'))
    code = """
        import json, patchkit
        patchkit.apply()
        from grpc._cython import cygrpc
        print(json.dumps({"activated": bool(cygrpc.g_gevent_activated)}))
    """
    assert json_from_stdout(run_python(code, cwd=tmp_path)) == {"activated": True}


def test_without_the_integration_grpc_is_not_initialised(tmp_path: Path) -> None:
    code = """
        import json, patchkit
        patchkit.apply("full")
        from grpc._cython import cygrpc
        print(json.dumps({"activated": bool(cygrpc.g_gevent_activated)}))
    """
    assert json_from_stdout(run_python(code, cwd=tmp_path)) == {"activated": False}


def test_missing_library_is_a_profile_error_before_patching(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", WEB.format(names='"psycopg2"'))
    code = """
        import sys
        sys.modules["psycogreen"] = None  # as if it were not installed
        import patchkit
        from gevent import monkey
        try:
            patchkit.apply()
        except patchkit.ProfileError as exc:
            print(exc)
        print(monkey.is_module_patched("socket"))
    """
    proc = run_python(code, cwd=tmp_path)
    assert proc.stdout.splitlines() == [
        "integration 'psycopg2' needs psycogreen: pip install patchkit[psycopg2]",
        "False",
    ]


def test_library_that_fails_to_import_is_exit_2_from_run(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", WEB.format(names='"psycopg2"'))
    write(tmp_path / "stubs" / "psycogreen" / "__init__.py", "raise ImportError('broken')\n")
    write(tmp_path / "app.py", "print('ran')\n")
    env = clean_env(PYTHONPATH=str(tmp_path / "stubs"))
    proc = run_patchkit("run", "app.py", cwd=tmp_path, env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "patchkit run: integration 'psycopg2' needs psycogreen: pip install patchkit[psycopg2]"
    )
    assert "ran" not in proc.stdout


def test_third_party_integration_from_an_entry_point(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    write(plugins / "myplug.py", "CALLED = []\ndef setup():\n    CALLED.append(True)\n")
    write(plugins / "myplug-0.1.dist-info" / "METADATA", "Name: myplug\nVersion: 0.1\n")
    write(
        plugins / "myplug-0.1.dist-info" / "entry_points.txt",
        "[patchkit.integrations]\nmine = myplug:setup\n",
    )
    write(tmp_path / "pyproject.toml", WEB.format(names='"mine"'))
    code = "import patchkit, myplug\npatchkit.apply()\nprint(myplug.CALLED)\n"
    proc = run_python(code, cwd=tmp_path, env=clean_env(PYTHONPATH=str(plugins)))
    assert proc.stdout.strip() == "[True]", proc.stderr
    listing = run_patchkit("profiles", cwd=tmp_path, env=clean_env(PYTHONPATH=str(plugins)))
    assert "integrations: mine" in listing.stdout


def test_unknown_integration_is_exit_2_naming_file_and_key(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", WEB.format(names='"mongo"'))
    proc = run_patchkit("profiles", cwd=tmp_path)
    assert proc.returncode == 2
    assert "pyproject.toml: [tool.patchkit.profiles.web] integrations: unknown integration" in (
        proc.stderr
    )
