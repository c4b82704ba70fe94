"""The command line's outer shell: version, help, unknown commands, profiles listing."""

from __future__ import annotations

import json
from pathlib import Path

from patchkit import __version__
from patchkit.profiles import BUILTINS
from tests.helpers import run_patchkit, write


def test_version() -> None:
    proc = run_patchkit("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"patchkit {__version__}"


def test_help_lists_the_commands() -> None:
    proc = run_patchkit("--help")
    assert proc.returncode == 0
    for command in ("audit", "run", "profiles", "explain"):
        assert command in proc.stdout


def test_no_arguments_is_a_usage_error() -> None:
    proc = run_patchkit()
    assert proc.returncode == 2 and "usage: patchkit" in proc.stdout


def test_unknown_command_is_one_line_and_exit_2() -> None:
    proc = run_patchkit("frobnicate")
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("patchkit: unknown command 'frobnicate'")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_run_help_names_its_options() -> None:
    proc = run_patchkit("run", "--help")
    assert proc.returncode == 0 and "--profile" in proc.stdout


def test_profiles_lists_each_profile_with_its_patch_all_settings(tmp_path: Path) -> None:
    proc = run_patchkit("profiles", cwd=tmp_path)
    assert proc.returncode == 0
    for name in BUILTINS:
        assert f"\n{name}" in "\n" + proc.stdout
    assert "patch_all(socket=False, dns=False" in proc.stdout  # none


def test_profiles_json_includes_project_profiles_and_sources(tmp_path: Path) -> None:
    write(
        tmp_path / "setup.cfg",
        "[patchkit]\nprofile = web\n[patchkit.profiles.web]\nextends = network\npatch = time\n",
    )
    proc = run_patchkit("profiles", "--format", "json", cwd=tmp_path)
    document = json.loads(proc.stdout)
    assert document["default"] == "web" and document["config"] == "setup.cfg"
    web = next(p for p in document["profiles"] if p["name"] == "web")
    assert web["source"] == "setup.cfg:[patchkit.profiles.web]"
    assert web["patches"] == ["socket", "dns", "time", "select", "ssl", "aggressive"]
    assert web["settings"]["time"] is True and web["settings"]["thread"] is False
    assert [p["name"] for p in document["profiles"]][:4] == list(BUILTINS)


def test_profiles_rejects_a_bad_format() -> None:
    proc = run_patchkit("profiles", "--format", "xml")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
