"""compat_tests/expected.toml: the outcome each (library, profile) is expected to measure.

An entry maps profile -> outcome, with optional overrides for one Python (``py313.full``), one
gevent major release (``gevent25.full``) or one platform (``darwin.full``); the most specific one
wins: Python, then gevent, then platform, then the default.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PATH = Path(__file__).with_name("expected.toml")
OUTCOMES = ("cooperative", "blocks", "broken")


@cache
def load(path: Path = PATH) -> dict[str, Any]:
    with open(path, "rb") as f:
        return tomllib.load(f)


def python_tag() -> str:
    return f"py{sys.version_info[0]}{sys.version_info[1]}"


def gevent_tag(version: str) -> str:
    """``gevent25`` for 25.9.1: gevent's releases are year-numbered, a year's differ little."""
    return f"gevent{version.split('.')[0]}" if version else ""


def _installed_gevent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gevent")
    except PackageNotFoundError:
        return ""


def expected_outcome(
    library: str,
    profile: str,
    *,
    table: dict[str, Any] | None = None,
    platform: str = sys.platform,
    python: str | None = None,
    gevent: str | None = None,
) -> str | None:
    """The outcome expected for ``library`` under ``profile``; ``gevent`` is a version
    ("25.9.1", default: the installed one)."""
    entry = (load() if table is None else table).get(library)
    if not isinstance(entry, dict):
        return None
    release = _installed_gevent() if gevent is None else gevent
    for scope in (python or python_tag(), gevent_tag(release), platform):
        override = entry.get(scope)
        if isinstance(override, dict) and profile in override:
            return override[profile]
    value = entry.get(profile)
    return value if isinstance(value, str) else None
