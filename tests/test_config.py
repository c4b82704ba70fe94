"""Config: where the profile comes from, and every mistake as one line naming file/section/key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from patchkit.config import load_config
from patchkit.errors import ConfigError
from patchkit.profiles import resolve
from tests.helpers import clean_env, run_patchkit, write

PYPROJECT = """
[tool.patchkit]
profile = "from-pyproject"
ignore = ["pk103"]
[tool.patchkit.profiles.from-pyproject]
extends = "full"
skip = ["subprocess"]
integrations = ["psycopg2"]
"""
SETUP_CFG = """
[patchkit]
profile = from-setup
[patchkit.profiles.from-setup]
extends = nothread
skip = ssl,
    subprocess
"""
TOX_INI = """
[patchkit]
profile = network
ignore = PK101, PK102
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with all three files; tests start from a subdirectory of it."""
    monkeypatch.delenv("PATCHKIT_PROFILE", raising=False)
    sub = tmp_path / "project" / "src" / "pkg"
    sub.mkdir(parents=True)
    write(tmp_path / "project" / "pyproject.toml", PYPROJECT)
    write(tmp_path / "project" / "setup.cfg", SETUP_CFG)
    write(tmp_path / "project" / "tox.ini", TOX_INI)
    monkeypatch.chdir(sub)
    return tmp_path / "project"


def test_pyproject_wins_over_setup_cfg_and_tox_ini(project: Path) -> None:
    config = load_config()
    assert config.profile == "from-pyproject"
    assert config.ignore == ("PK103",)
    profile = resolve(None, config)
    assert profile.name == "from-pyproject"
    assert "subprocess" not in profile.patches and "thread" in profile.patches
    assert profile.source.endswith("pyproject.toml:[tool.patchkit.profiles.from-pyproject]")


def test_setup_cfg_wins_over_tox_ini_and_splits_lists(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    profile = resolve(None, load_config())
    assert profile.name == "from-setup"
    assert profile.patches == resolve("nothread").patches - {"ssl", "subprocess"}


def test_tox_ini_is_read_last(project: Path) -> None:
    (project / "pyproject.toml").unlink()
    (project / "setup.cfg").write_text("[metadata]\nname = x\n")
    config = load_config()
    assert config.profile == "network" and config.ignore == ("PK101", "PK102")


def test_environment_beats_files_and_argument_beats_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATCHKIT_PROFILE", "none")
    assert resolve(None, load_config()).name == "none"
    assert resolve("nothread", load_config()).name == "nothread"


def test_nearest_directory_wins(project: Path) -> None:
    write(project / "src" / "tox.ini", "[patchkit]\nprofile = none\n")
    assert load_config().profile == "none"


def test_no_config_means_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATCHKIT_PROFILE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert load_config(tmp_path).source is None or load_config(tmp_path).profile is None
    assert resolve(None, None).name == "full"


MISTAKES = [
    ("pyproject.toml", "[tool.patchkit]\nprofil = 'full'\n", "[tool.patchkit] profil"),
    ("pyproject.toml", "[tool.patchkit]\nignore = 'PK101'\n", "[tool.patchkit] ignore"),
    ("pyproject.toml", "[tool.patchkit]\nignore = ['PK999']\n", "[tool.patchkit] ignore"),
    ("pyproject.toml", "[tool.patchkit]\nprofile = 3\n", "[tool.patchkit] profile"),
    ("pyproject.toml", "[tool.patchkit\nprofile = 'x'\n", "invalid TOML"),
    (
        "pyproject.toml",
        "[tool.patchkit.profiles.web]\nextends = 'full'\nskipp = ['ssl']\n",
        "[tool.patchkit.profiles.web] skipp",
    ),
    (
        "pyproject.toml",
        "[tool.patchkit.profiles.web]\nskip = 'ssl'\n",
        "[tool.patchkit.profiles.web] skip",
    ),
    (
        "pyproject.toml",
        "[tool.patchkit.profiles.web]\nskip = ['sockets']\n",
        "[tool.patchkit.profiles.web] skip: unknown patch name 'sockets'",
    ),
    (
        "pyproject.toml",
        "[tool.patchkit]\nprofile = 'web'\n[tool.patchkit.profiles.web]\nextends = 'web'\n",
        "[tool.patchkit.profiles.web] extends: cyclic extends",
    ),
    (
        "pyproject.toml",
        "[tool.patchkit]\nprofile = 'nope'\n",
        "[tool.patchkit] profile: unknown profile 'nope'",
    ),
    ("setup.cfg", "[patchkit]\nprofile = full\ncolour = red\n", "[patchkit] colour"),
    ("setup.cfg", "[patchkit\nprofile = full\n", "invalid INI"),
    (
        "tox.ini",
        "[patchkit.profiles.web]\nextends = full\nskip = nope\n",
        "[patchkit.profiles.web] skip",
    ),
    ("tox.ini", "[patchkit.profiles.full]\nskip = ssl\n", "[patchkit.profiles.full]"),
]


@pytest.mark.parametrize(("filename", "text", "names"), MISTAKES)
def test_config_mistake_is_one_line_naming_file_section_and_key(
    tmp_path: Path, filename: str, text: str, names: str
) -> None:
    write(tmp_path / filename, text)
    proc = run_patchkit("profiles", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert filename in lines[0] and names in lines[0], lines[0]


def test_config_mistake_stops_run_before_the_target(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.patchkit]\nprofile = 'nope'\n")
    write(tmp_path / "app.py", "print('ran')\n")
    proc = run_patchkit("run", "app.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert "ran" not in proc.stdout
    assert "pyproject.toml: [tool.patchkit] profile: unknown profile 'nope'" in proc.stderr


def test_unknown_environment_profile_names_the_variable(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "print('ran')\n")
    proc = run_patchkit("run", "app.py", cwd=tmp_path, env=clean_env(PATCHKIT_PROFILE="bogus"))
    assert proc.returncode == 2
    assert "PATCHKIT_PROFILE: unknown profile 'bogus'" in proc.stderr


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").mkdir()  # is_file() false: skipped, not an error
    write(tmp_path / "setup.cfg", "[patchkit]\nprofile = none\n")
    assert load_config(tmp_path).profile == "none"
    write(tmp_path / "sub" / "pyproject.toml", "")
    (tmp_path / "sub" / "pyproject.toml").write_bytes(b"\xff\xfe[tool.patchkit]")
    with pytest.raises(ConfigError, match="pyproject.toml"):
        load_config(tmp_path / "sub")


# -- rule codes: one parser (rules.parse_codes) for --ignore, the config and comments ----------

PREFIX_APP = "from time import sleep\nimport gevent.monkey\ngevent.monkey.patch_all()\nsleep(0)\n"


@pytest.mark.parametrize(
    ("filename", "text"),
    [
        ("pyproject.toml", "[tool.patchkit]\nignore = ['PK1']\n"),
        ("setup.cfg", "[patchkit]\nignore = PK1\n"),
        ("tox.ini", "[patchkit]\nignore = pk1, PK5\n"),
    ],
)
def test_config_ignore_accepts_a_code_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filename: str, text: str
) -> None:
    monkeypatch.delenv("PATCHKIT_PROFILE", raising=False)
    write(tmp_path / filename, text)
    assert load_config(tmp_path).ignore[0] == "PK1"


def test_config_ignore_prefix_means_the_same_as_the_ignore_option(tmp_path: Path) -> None:
    write(tmp_path / "app.py", PREFIX_APP)
    by_option = run_patchkit("audit", "--format", "json", "--ignore", "PK1", "app.py", cwd=tmp_path)
    plain = run_patchkit("audit", "--format", "json", "app.py", cwd=tmp_path)
    write(tmp_path / "pyproject.toml", "[tool.patchkit]\nignore = ['PK1']\n")
    by_config = run_patchkit("audit", "--format", "json", "app.py", cwd=tmp_path)
    codes = [
        sorted(f["code"] for f in json.loads(p.stdout)["findings"])
        for p in (plain, by_option, by_config)
    ]
    assert any(c.startswith("PK1") for c in codes[0]), codes  # there was something to ignore
    assert codes[1] == codes[2] and not any(c.startswith("PK1") for c in codes[2]), codes


def test_config_ignore_with_no_such_code_names_the_word(tmp_path: Path) -> None:
    write(tmp_path / "setup.cfg", "[patchkit]\nignore = PK1, PX9\n")
    with pytest.raises(
        ConfigError, match=r"setup.cfg: \[patchkit\] ignore: unknown rule code 'PX9'"
    ):
        load_config(tmp_path)


# -- profile names and extends chains ---------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "text", "names"),
    [
        ("pyproject.toml", '[tool.patchkit.profiles.""]\nextends = "full"\n', "empty profile name"),
        ("setup.cfg", "[patchkit.profiles.]\nextends = full\n", "[patchkit.profiles.]"),
        ("tox.ini", "[patchkit.profiles. ]\nextends = full\n", "empty profile name"),
    ],
)
def test_an_empty_profile_name_in_a_file_is_a_one_line_error(
    tmp_path: Path, filename: str, text: str, names: str
) -> None:
    write(tmp_path / filename, text)
    proc = run_patchkit("profiles", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and filename in lines[0] and names in lines[0], proc.stderr


def test_an_empty_profile_argument_is_an_error_not_the_default(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "print('ran')\n")
    proc = run_patchkit("run", "--profile", "", "app.py", cwd=tmp_path)
    assert proc.returncode == 2 and "ran" not in proc.stdout, proc.stdout + proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "empty profile name" in proc.stderr


def test_an_empty_environment_profile_counts_as_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "pyproject.toml", "[tool.patchkit]\nprofile = 'network'\n")
    monkeypatch.setenv("PATCHKIT_PROFILE", "")
    assert resolve(None, load_config(tmp_path)).name == "network"


def _chain_toml(depth: int, last: str) -> str:
    lines = ["[tool.patchkit]", "profile = 'p0'"]
    for i in range(depth):
        lines += [f"[tool.patchkit.profiles.p{i}]", f"extends = 'p{i + 1}'"]
    lines += [f"[tool.patchkit.profiles.p{depth}]", f"extends = '{last}'", "skip = ['ssl']"]
    return "\n".join(lines) + "\n"


def test_an_extends_chain_thousands_deep_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PATCHKIT_PROFILE", raising=False)
    write(tmp_path / "pyproject.toml", _chain_toml(5000, "network"))
    profile = resolve(None, load_config(tmp_path))
    assert profile.name == "p0"
    assert profile.patches == resolve("network").patches - {"ssl"}


def test_a_cycle_at_the_end_of_a_deep_chain_is_one_line(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", _chain_toml(5000, "p10"))
    proc = run_patchkit("profiles", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    (line,) = proc.stderr.strip().splitlines()
    assert "pyproject.toml: [tool.patchkit.profiles.p5000] extends: cyclic extends (p10 -> " in line
    assert len(line) < 300, line
