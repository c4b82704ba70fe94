"""Find and read the project's patchkit settings, so every entry point agrees on one profile.

Precedence: an explicit argument (handled by the caller) > ``PATCHKIT_PROFILE`` > the first of
``pyproject.toml [tool.patchkit]``, ``setup.cfg [patchkit]``, ``tox.ini [patchkit]`` found from
the working directory upwards. Every mistake is a ``ConfigError`` naming file, section and key.

This module only parses files into plain data (``ProjectConfig``, ``ProfileSpec``); turning a
profile name into a patch set, built-ins included, is ``patchkit.profiles``'s job alone.
"""

from __future__ import annotations

import configparser
import dataclasses
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from patchkit import rules
from patchkit.errors import ConfigError

ENV_PROFILE = "PATCHKIT_PROFILE"  # set but empty (or blank) counts as unset, like most tools'
ENV_WATCH = "PATCHKIT_WATCH"  # milliseconds, over the file's ``watch``; 0 turns it off
# Every key patchkit reads, in one place: the top-level table and a profile's table. In INI files
# the profiles are sections (``[patchkit.profiles.NAME]``), not a key.
TOP_KEYS = ("profile", "ignore", "profiles", "watch", "entry", "exclude", "per-file-ignores")
PROFILE_KEYS = ("extends", "patch", "skip", "integrations")
_INI_TOP_KEYS = tuple(key for key in TOP_KEYS if key != "profiles")
_INI_PREFIX = "patchkit.profiles."


@dataclass(frozen=True)
class ProfileSpec:
    """One project profile as written: resolved into a Profile by ``patchkit.profiles``."""

    name: str
    file: str
    section: str
    extends: str | None = None
    patch: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    integrations: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        return f"{self.file}:[{self.section}]"

    def where(self, key: str) -> str:
        return f"{self.file}: [{self.section}] {key}"


@dataclass(frozen=True)
class ProjectConfig:
    """The settings in effect; ``profile`` has ``PATCHKIT_PROFILE`` applied over the file's."""

    profile: str | None = None
    ignore: tuple[str, ...] = ()
    profiles: Mapping[str, ProfileSpec] = field(default_factory=dict)
    source: str | None = None  # the file the settings came from, or None
    profile_origin: str = "profile"  # where ``profile`` was set, for error messages
    watch: float | None = None  # ms: auto, run and the gunicorn worker start the hub watch
    entry: tuple[str, ...] = ()  # the static audit's entry points, relative to ``source``
    # Paths whose findings are not reported, and codes not reported per path (``patchkit.suppress``
    # matches them, ruff's way, relative to ``root``: the config file's directory).
    exclude: tuple[str, ...] = ()
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    root: str | None = None


def load_config(start: str | os.PathLike[str] | None = None) -> ProjectConfig:
    """Read the nearest config from ``start`` (default: the working directory) upwards."""
    found = find_config(Path(start) if start is not None else Path.cwd())
    config = found if found is not None else ProjectConfig()
    env_watch = os.environ.get(ENV_WATCH, "").strip()
    if env_watch:
        config = dataclasses.replace(config, watch=watch_ms(env_watch, ENV_WATCH))
    env = os.environ.get(ENV_PROFILE, "").strip()
    if env:
        return dataclasses.replace(config, profile=env, profile_origin=ENV_PROFILE)
    return config


def watch_ms(value: Any, where: str) -> float | None:
    """The ``watch`` setting: a positive number of milliseconds, or 0 / false for off."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("0", "false", "off", "no"):
            return None
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{where}: expected milliseconds (e.g. 100), got {value!r}") from None
    if value is False:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ConfigError(f"{where}: expected milliseconds (e.g. 100), got {value!r}")
    if value != value or value == float("inf"):
        raise ConfigError(f"{where}: expected milliseconds (e.g. 100), got {value!r}")
    return float(value) or None


def find_config(start: Path) -> ProjectConfig | None:
    """The first directory from ``start`` upwards with a patchkit section wins."""
    directory = start.resolve()
    while True:
        for reader, filename in _READERS:
            path = directory / filename
            if path.is_file():
                config = reader(path)
                if config is not None:
                    return dataclasses.replace(config, root=str(directory))
        if directory.parent == directory:
            return None
        directory = directory.parent


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _read_pyproject(path: Path) -> ProjectConfig | None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    name = _display(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: invalid TOML ({exc})") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict) or "patchkit" not in tool:
        return None
    table = tool["patchkit"]
    section = "tool.patchkit"
    if not isinstance(table, dict):
        raise ConfigError(f"{name}: [{section}] must be a table")
    _check_keys(table, TOP_KEYS, name, section)
    profiles_table = table.get("profiles", {})
    if not isinstance(profiles_table, dict):
        raise ConfigError(f"{name}: [{section}] profiles: expected a table of profiles")
    specs = {}
    for profile_name, body in profiles_table.items():
        sub = f"{section}.profiles.{profile_name}"
        if not isinstance(body, dict):
            raise ConfigError(f"{name}: [{sub}]: expected a table")
        specs[profile_name] = _spec(profile_name, name, sub, body, _toml_list)
    return _project(table, specs, name, section, _toml_list)


def _read_ini(path: Path) -> ProjectConfig | None:
    section = "patchkit"
    name = _display(path)
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot read ({exc})") from None
    except configparser.Error as exc:
        message = " ".join(str(exc).split())
        raise ConfigError(f"{name}: invalid INI ({message})") from None
    profile_sections = [s for s in parser.sections() if s.startswith(_INI_PREFIX)]
    if not parser.has_section(section) and not profile_sections:
        return None
    table = dict(parser.items(section)) if parser.has_section(section) else {}
    _check_keys(table, _INI_TOP_KEYS, name, section)
    specs = {}
    for sub in profile_sections:
        profile_name = sub[len(_INI_PREFIX) :]
        specs[profile_name] = _spec(profile_name, name, sub, dict(parser.items(sub)), _ini_list)
    return _project(table, specs, name, section, _ini_list)


# Within one directory: pyproject.toml > setup.cfg > tox.ini.
_READERS = (
    (_read_pyproject, "pyproject.toml"),
    (_read_ini, "setup.cfg"),
    (_read_ini, "tox.ini"),
)


def _check_keys(table: Mapping[str, Any], allowed: tuple[str, ...], name: str, section: str):
    for key in table:
        if key not in allowed:
            raise ConfigError(
                f"{name}: [{section}] {key}: unknown key (expected one of {', '.join(allowed)})"
            )


def _toml_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(v.strip() for v in value)


def _ini_list(value: Any, where: str) -> tuple[str, ...]:
    return tuple(v for v in re.split(r"[,\s]+", str(value)) if v)


def _get_list(table: Mapping[str, Any], key: str, where: str, as_list) -> tuple[str, ...]:
    return as_list(table[key], f"{where} {key}") if key in table else ()


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
    return value.strip()


def _spec(profile: str, name: str, section: str, body: Mapping[str, Any], as_list) -> ProfileSpec:
    where = f"{name}: [{section}]"
    if not profile.strip():
        raise ConfigError(f"{where}: empty profile name")
    _check_keys(body, PROFILE_KEYS, name, section)
    extends = body.get("extends")
    return ProfileSpec(
        name=profile,
        file=name,
        section=section,
        extends=None if extends is None else _string(extends, f"{where} extends"),
        patch=_get_list(body, "patch", where, as_list),
        skip=_get_list(body, "skip", where, as_list),
        integrations=_get_list(body, "integrations", where, as_list),
    )


def _project(
    table: Mapping[str, Any], specs: dict[str, ProfileSpec], name: str, section: str, as_list
) -> ProjectConfig:
    where = f"{name}: [{section}]"
    profile = table.get("profile")
    if profile is not None:
        profile = _string(profile, f"{where} profile")
    try:
        ignore = rules.parse_codes(_get_list(table, "ignore", where, as_list))
    except ValueError as exc:
        raise ConfigError(f"{where} ignore: {exc}") from None
    watch = watch_ms(table["watch"], f"{where} watch") if "watch" in table else None
    entry = _get_list(table, "entry", where, as_list)
    return dataclasses.replace(
        ProjectConfig(profile, ignore, specs, name, f"{where} profile"),
        watch=watch,
        entry=tuple(entry),
        exclude=_get_list(table, "exclude", where, as_list),
        per_file_ignores=_per_file_ignores(table.get("per-file-ignores"), where, as_list),
    )


def _per_file_ignores(value: Any, where: str, as_list) -> dict[str, tuple[str, ...]]:
    """``{"tests/*": ["PK102"]}`` in TOML; flake8's ``tests/*: PK102`` lines in INI."""
    where = f"{where} per-file-ignores"
    if value is None:
        return {}
    if as_list is _ini_list:
        value = _flake8_mapping(str(value), where)
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table of path patterns to codes, got {value!r}")
    out = {}
    for pattern, codes in value.items():
        try:
            out[pattern] = rules.parse_codes(as_list(codes, f"{where} {pattern!r}"))
        except ValueError as exc:
            raise ConfigError(f"{where} {pattern!r}: {exc}") from None
    return out


def _flake8_mapping(text: str, where: str) -> dict[str, str]:
    """flake8's form: ``PATTERN [PATTERN...]: CODE[,CODE...]``, entries split by space or comma."""
    out: dict[str, str] = {}
    patterns: list[str] = []
    codes: list[str] = []
    for token in re.findall(r":|[^\s,:]+", text):
        if token == ":":
            if not patterns or codes:
                raise ConfigError(f"{where}: expected 'PATTERN: CODES', got {text.strip()!r}")
            codes.append("")
        elif codes and re.fullmatch(r"[A-Za-z]+[0-9]+", token):
            codes.append(token)
        else:
            if codes:
                out.update(dict.fromkeys(patterns, " ".join(codes[1:])))
                patterns, codes = [], []
            patterns.append(token)
    if patterns and not codes:
        raise ConfigError(f"{where}: {patterns[-1]!r} has no ': CODES'")
    out.update(dict.fromkeys(patterns, " ".join(codes[1:])))
    return {pattern: codes for pattern, codes in out.items() if pattern}
