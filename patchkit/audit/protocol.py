"""What the audit's parent and child say to each other: two typed values, JSON both ways.

The launcher writes a ``ChildSpec`` to a file in its temporary directory and passes the path (not
the spec: a target's arguments can exceed what argv holds); the child writes a ``ChildResult``
to ``results-<pid>.json`` in ``spec.results_dir``, one per process it follows
(``patchkit.audit.follow``). Neither side builds or reads loose dicts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from patchkit.findings import Finding, Outcome
from patchkit.target import Target


@dataclass(frozen=True)
class ChildSpec:
    """What to run and under which limits.

    ``deadline`` is on ``patchkit._real.monotonic`` (one system-wide clock, captured before the
    target could replace it). When the launcher stops the target (``--duration``, or the audit
    itself was interrupted) it creates ``stop_file`` and sends SIGINT then SIGTERM; a child whose
    main thread never reacts writes what it has ``stop_grace`` seconds after the file appeared.
    """

    kind: str
    name: str
    args: tuple[str, ...]
    profile: str | None
    timeout: float
    threshold: float
    deadline: float
    results_dir: str  # every followed process writes results-<pid>.json here
    stacks: str
    stop_file: str
    stop_grace: float
    duration: float | None = None

    @classmethod
    def for_target(cls, target: Target, **fields: Any) -> ChildSpec:
        return cls(kind=target.kind, name=target.name, args=tuple(target.args), **fields)

    @property
    def target(self) -> Target:
        return Target(self.kind, self.name, tuple(self.args))

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ChildSpec:
        data = json.loads(text)
        data["args"] = tuple(data["args"])
        return cls(**data)

    def write(self, path: str) -> None:
        _write_text(path, self.to_json())

    @classmethod
    def read(cls, path: str) -> ChildSpec:
        with open(path, encoding="utf-8") as handle:
            return cls.from_json(handle.read())


@dataclass(frozen=True)
class ChildResult:
    """How the target ended, what was found, what was patched.

    ``error`` is a patchkit config or profile error (also one raised inside the target by
    ``import patchkit.auto``): the CLI prints it as one line and exits 2. ``pid`` is the child's;
    ``processes`` every process of the target's tree the launcher saw and ended.
    """

    outcome: Outcome
    findings: list[Finding] = field(default_factory=list)
    patches: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    pid: int | None = None
    processes: tuple[dict[str, Any], ...] = ()  # {"pid", "role", "argv"}, main first

    def to_json(self) -> str:
        return json.dumps(
            {
                "outcome": asdict(self.outcome),
                "findings": [finding_to_dict(f) for f in self.findings],
                "patches": [dict(p) for p in self.patches],
                "error": self.error,
                "pid": self.pid,
                "processes": [dict(p) for p in self.processes],
            },
            default=str,
        )

    @classmethod
    def from_json(cls, text: str) -> ChildResult:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a child result is a JSON object")
        return cls(
            Outcome(**data["outcome"]),
            [finding_from_dict(item) for item in data.get("findings") or ()],
            [dict(p) for p in data.get("patches") or ()],
            data.get("error"),
            data.get("pid"),
            tuple(dict(p) for p in data.get("processes") or ()),
        )

    def write(self, path: str) -> None:
        _write_text(path, self.to_json())

    @classmethod
    def read(cls, path: str) -> ChildResult | None:
        """The result at ``path``, or None when the child never wrote one (or only half)."""
        try:
            with open(path, encoding="utf-8") as handle:
                return cls.from_json(handle.read())
        except (OSError, ValueError, KeyError, TypeError):
            return None


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    """``Finding.as_dict`` with ``detail`` always present, so the round trip is exact."""
    out = finding.as_dict()
    out["detail"] = dict(finding.detail)
    return out


def finding_from_dict(item: Mapping[str, Any]) -> Finding:
    """The inverse of ``Finding.as_dict``."""
    return Finding(
        item["code"],
        item["message"],
        module=item.get("module"),
        file=item.get("file"),
        line=item.get("line"),
        object=item.get("object"),
        fix=item.get("fix") or "",
        stack=tuple(item.get("stack") or ()),
        detail=item.get("detail") or {},
        process=item.get("process"),
    )


def _write_text(path: str, text: str) -> None:
    """Write atomically: a reader sees the whole file or none."""
    partial = f"{path}.{os.getpid()}.tmp"
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(partial, path)
