"""The matrix's version dimensions: Python x gevent x platform combinations, schema 2, differences.

A combination is keyed by the Python *minor* version (3.12.1 here and 3.12.8 on CI are one
column), the gevent version and the platform. Schema 2 keeps schema 1's meaning of ``cells``
(one cell per library x profile: now the default combination's) and puts every other
combination's cells in ``other_cells``, so a schema-1 reader still reads one consistent matrix.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

SCHEMA = 2
ENV_KEYS = ("python", "gevent", "platform")
Key = tuple[str, str, str]  # (python minor, gevent, platform)


class SchemaError(ValueError):
    pass


def version_key(text: str | None) -> tuple[int, ...]:
    parts = []
    for part in (text or "0").split("."):
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def minor(python: str | None) -> str:
    return ".".join((python or "?").split(".")[:2])


def key_of(cell: dict[str, Any]) -> Key:
    return minor(cell.get("python")), cell.get("gevent") or "?", cell.get("platform") or "?"


def label(key: Key) -> str:
    return f"py{key[0]} gevent {key[1]} {key[2]}"


def slug(key: Key) -> str:
    """An id safe in HTML and CSS: py313-g26-9-0-linux."""
    return f"py{key[0].replace('.', '')}-g{key[1].replace('.', '-')}-{key[2]}"


def default_key(keys: list[Key]) -> Key:
    """Linux when measured there, then the newest Python, then the newest gevent."""
    return max(keys, key=lambda k: (k[2] == "linux", version_key(k[0]), version_key(k[1])))


def ordered_keys(keys: set[Key] | list[Key]) -> list[Key]:
    """Newest first: Python, then gevent, Linux before other platforms."""
    return sorted(set(keys), key=lambda k: (version_key(k[0]), version_key(k[1]), k[2] == "linux"),
                  reverse=True)  # fmt: skip


def combinations(cells: list[dict[str, Any]], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per combination measured: its environment, wall time (when tools/matrix.py
    recorded one in combination.json) and the number of cells per outcome."""
    by_key: dict[Key, list[dict[str, Any]]] = {}
    for cell in cells:
        by_key.setdefault(key_of(cell), []).append(cell)
    walls = {(minor(r["python"]), r["gevent"], r["platform"]): r for r in runs}
    default = default_key(list(by_key)) if by_key else None
    out = []
    for key in ordered_keys(list(by_key)):
        group = by_key[key]
        outcomes = Counter(c["outcome"] for c in group)
        run = walls.get(key, {})
        out.append({
            "python": Counter(c.get("python") for c in group).most_common(1)[0][0],
            "gevent": key[1],
            "platform": key[2],
            "default": key == default,
            "wall_s": run.get("wall_s"),
            "cells": len(group),
            "counts": {o: outcomes.get(o, 0) for o in ("cooperative", "blocks", "broken")},
        })  # fmt: skip
    return out


def as_schema_2(doc: dict[str, Any]) -> dict[str, Any]:
    """A schema-2 view of a schema-1 or schema-2 document; SchemaError for anything else."""
    schema = doc.get("schema")
    if schema == SCHEMA:
        return doc
    if schema != 1:
        raise SchemaError(f"compat-matrix.json has schema {schema!r}; this reader knows 1 and 2")
    env = {k: doc.get(k) for k in ENV_KEYS}
    cells = [{**env, **cell} for cell in doc["cells"]]
    return {"schema": SCHEMA, **env, "combinations": combinations(cells, []), "cells": cells,
            "other_cells": []}  # fmt: skip


def all_cells(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [*doc["cells"], *doc.get("other_cells", [])]


def keys_of(doc: dict[str, Any]) -> list[Key]:
    """The document's combinations, newest first (the default one is among them)."""
    return ordered_keys([key_of(c) for c in all_cells(doc)])


@dataclass(frozen=True)
class Difference:
    """A (library, profile) whose outcome is not the same in every combination."""

    library: str
    profile: str
    outcomes: tuple[tuple[Key, str], ...]  # newest combination first

    def describe(self) -> str:
        return "; ".join(f"{label(k)}: {o}" for k, o in self.outcomes)


def differences(doc: dict[str, Any]) -> dict[tuple[str, str], Difference]:
    """{(library, profile): Difference} over every combination and platform measured."""
    per: dict[tuple[str, str], dict[Key, str]] = {}
    for cell in all_cells(doc):
        per.setdefault((cell["library"], cell["profile"]), {})[key_of(cell)] = cell["outcome"]
    order = keys_of(doc)
    out = {}
    for (library, profile), outcomes in per.items():
        if len(set(outcomes.values())) > 1:
            ranked = tuple((k, outcomes[k]) for k in order if k in outcomes)
            out[(library, profile)] = Difference(library, profile, ranked)
    return out
