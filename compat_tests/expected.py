"""compat_tests/expected.toml: the outcome each (library, profile) is expected to measure.

An entry maps profile -> outcome, with optional overrides for one platform (``darwin.full``)
or one Python (``py313.full``); the most specific one wins: Python, then platform, then the
default.
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


def expected_outcome(
    library: str,
    profile: str,
    *,
    table: dict[str, Any] | None = None,
    platform: str = sys.platform,
    python: str | None = None,
) -> str | None:
    entry = (load() if table is None else table).get(library)
    if not isinstance(entry, dict):
        return None
    for scope in (python or python_tag(), platform):
        override = entry.get(scope)
        if isinstance(override, dict) and profile in override:
            return override[profile]
    value = entry.get(profile)
    return value if isinstance(value, str) else None
