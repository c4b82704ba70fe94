"""Accept today's findings, fail only on new ones: how a team adopts patchkit on an old codebase.

A finding's key is its code, its file relative to the project root, and a fingerprint that does
not depend on line numbers: a hash of the code, the object, the module and the reported source
line's text (whitespace collapsed), then ``:N``, the occurrence number among findings with the
same code, file and hash, in report order. Adding lines above a finding keeps it baselined;
editing the reported line makes it new. SARIF carries the same fingerprint
(``partialFingerprints["patchkit/v1"]``).

The file is JSON, one entry per finding, sorted and indented so a diff shows what was accepted.
"""

from __future__ import annotations

import hashlib
import json
import linecache
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from patchkit.errors import PatchkitError
from patchkit.findings import Finding
from patchkit.suppress import project_path

SCHEMA = 1
FINGERPRINT_KEY = "patchkit/v1"  # the partialFingerprints name SARIF results use
Key = tuple[str, str, str]  # (code, file relative to the root or "", fingerprint)


class BaselineError(PatchkitError):
    """A baseline file that cannot be read or written: one line, exit status 2."""


@dataclass(frozen=True)
class Keyed:
    """A finding with its baseline key."""

    finding: Finding
    file: str
    fingerprint: str

    @property
    def key(self) -> Key:
        return (self.finding.code, self.file, self.fingerprint)


def keyed(findings: Iterable[Finding], root: str | None = None) -> list[Keyed]:
    """Each finding with its key, in the order given (the occurrence counter follows it)."""
    seen: dict[tuple[str, str, str], int] = {}
    out = []
    for finding in findings:
        file = project_path(finding.file, root) or _outside(finding.file)
        digest = _digest(finding)
        number = seen.get((finding.code, file, digest), 0)
        seen[(finding.code, file, digest)] = number + 1
        out.append(Keyed(finding, file, f"{digest}:{number}"))
    return out


def _outside(path: str | None) -> str:
    """A file outside the root (an installed package): the path as given, or "" for none."""
    return path.replace(os.sep, "/") if path else ""


def _digest(finding: Finding) -> str:
    text = ""
    if finding.file and finding.line:
        linecache.checkcache(finding.file)
        text = " ".join(linecache.getline(finding.file, finding.line).split())
    parts = (finding.code, finding.object or "", finding.module or "", text)
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def write(path: str, findings: Sequence[Finding], root: str | None = None) -> int:
    """Write the baseline for ``findings`` to ``path``; the number of entries."""
    entries = sorted(
        (
            {"code": k.finding.code, "file": k.file, "fingerprint": k.fingerprint,
             "message": _relative(k.finding.message, root)}
            for k in keyed(findings, root)
        ),
        key=lambda e: (e["file"], e["code"], e["fingerprint"]),
    )  # fmt: skip
    document = {"schema": SCHEMA, "tool": "patchkit", "findings": entries}
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write baseline ({exc.strerror or exc})") from None
    return len(entries)


def _relative(message: str, root: str | None) -> str:
    """Messages name files relative to the root, so the file is the same on every machine."""
    try:
        prefix = os.path.join(os.path.abspath(root or os.getcwd()), "")
    except OSError:
        return message
    return message.replace(prefix, "")


def load(path: str) -> frozenset[Key]:
    """The keys accepted by the baseline at ``path``; BaselineError names what is wrong."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            document = json.load(handle)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read baseline ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise BaselineError(f"{path}: not a patchkit baseline (invalid JSON: {exc})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        found = document.get("schema") if isinstance(document, dict) else None
        raise BaselineError(
            f"{path}: not a patchkit baseline of schema {SCHEMA} (schema: {found!r}); "
            "write it again with --write-baseline"
        )
    entries = document.get("findings")
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: 'findings' must be a list")
    keys = set()
    for entry in entries:
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(name), str) for name in ("code", "file", "fingerprint")
        ):
            raise BaselineError(f"{path}: each finding needs string code, file and fingerprint")
        keys.add((entry["code"], entry["file"], entry["fingerprint"]))
    return frozenset(keys)


def split(
    findings: Sequence[Finding], accepted: frozenset[Key], root: str | None = None
) -> tuple[list[Finding], list[Finding]]:
    """(new, baselined): the findings the baseline does not accept, and those it does."""
    new, old = [], []
    for item in keyed(findings, root):
        (old if item.key in accepted else new).append(item.finding)
    return new, old
