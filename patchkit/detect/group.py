"""Group findings in installed packages under the user's import that brought them in too early.

When an app imports ``requests`` before patching, urllib3, click or jinja2 end up holding
unpatched originals. Those are consequences, not separate fixes: the one fix is to patch before
that import. Reporting each site inside site-packages buries the line the user can change, so
every PK102-PK105 finding in installed code is folded into one finding per import in the user's
own code (``import requests`` at ``app.py:3``), with the members kept in ``detail["grouped"]``.
The user's own modules keep their individual findings: each of those is a line to fix.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any

from patchkit._frames import is_installed_file, stdlib_dirs
from patchkit.findings import SEVERITIES, Finding

GROUPED_CODES = frozenset({"PK102", "PK103", "PK104", "PK105"})
_MAX_HOPS = 50  # an importer chain longer than this is a cycle in the records, not real

Importer = Callable[[str], "str | None"]


def group_installed(
    findings: Iterable[Finding],
    *,
    first_importer: Importer | None = None,
    modules: Mapping[str, ModuleType | None] | None = None,
    loaded_before_patch: Iterable[str] | None = None,
) -> list[Finding]:
    """Fold findings in installed packages into one finding per user import that caused them.

    ``loaded_before_patch`` names the modules loaded before a patch request (None: no patch was
    made, so everything counts); a module imported after patching that still holds an original
    did so on purpose and keeps its own finding.
    """
    if first_importer is None:
        from patchkit.imports import first_importer
    early = None if loaded_before_patch is None else set(loaded_before_patch)
    kept: list[Finding] = []
    groups: dict[tuple[str, str], list[Finding]] = {}
    files: dict[str, str] | None = None  # built only when something is grouped
    for finding in findings:
        if not _groupable(finding, early):
            kept.append(finding)
            continue
        if files is None:
            files = _module_files(sys.modules if modules is None else modules)
        root = _root_import(finding.module or "", first_importer, files)
        groups.setdefault(root, []).append(finding)
    return kept + [_grouped(site, top, members) for (site, top), members in groups.items()]


def _groupable(finding: Finding, early: set[str] | None) -> bool:
    if finding.code not in GROUPED_CODES or not is_installed_file(finding.file):
        return False
    return early is None or (finding.module or "") in early


_FILES_CACHE: list[Any] = [None, None]  # (key, map): repeated scans of the same process


def _module_files(modules: Mapping[str, ModuleType | None]) -> dict[str, str]:
    """``{file: module name}``; kept while the set of loaded modules looks the same (it only
    names importers in messages, so a stale entry costs a label, never a finding)."""
    key = len(modules)
    if modules is sys.modules and _FILES_CACHE[0] == key:  # only the process's own modules
        return _FILES_CACHE[1]
    out = {}
    for name, module in list(modules.items()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str):
            out.setdefault(path, name)
    if modules is sys.modules:
        _FILES_CACHE[:] = [key, out]
    return out


def root_import(module: str, first_importer: Importer | None = None) -> tuple[str, str]:
    """``(file:line, top-level package)`` of the user's import that first brought ``module`` in."""
    if first_importer is None:
        from patchkit.imports import first_importer
    return _root_import(module, first_importer, _module_files(sys.modules))


def _root_import(module: str, first_importer: Importer, files: dict[str, str]) -> tuple[str, str]:
    """``(file:line in the user's code, top-level package)`` that first pulled ``module`` in.

    Follows the first-importer records outwards (urllib3.util.ssl_ <- urllib3 <- requests <-
    app.py:1). Without records (the import hook was not installed) the site is unknown and the
    top-level package is the group.
    """
    top = module.partition(".")[0]
    name = module
    for _ in range(_MAX_HOPS):
        where = first_importer(name) or first_importer(name.partition(".")[0])
        if not where:
            return "", top
        path = where.rpartition(":")[0]
        if not is_installed_file(path) and not path.startswith(stdlib_dirs()):
            return where, top
        importer = files.get(path)
        if importer is None or importer == name:
            return "", top
        name, top = importer, importer.partition(".")[0]
    return "", top


def _grouped(site: str, top: str, members: list[Finding]) -> Finding:
    members = sorted(members, key=lambda f: (SEVERITIES.index(f.severity), f.code, f.object or ""))
    lead = members[0]
    path, _, line = site.rpartition(":")
    more = f" and {len(members) - 1} more" if len(members) > 1 else ""
    imported = f"imported at {site}" if site else "imported"
    message = (
        f"{top}, {imported} before patching, brought in code that holds unpatched originals: "
        f"{lead.module} ({lead.object}, {lead.code}){more}"
    )
    fix = (
        f"Patch before {top} is imported: make `import patchkit.auto` the first line of the "
        "entry point (or run it under `python -m patchkit run`); this one change fixes every "
        "finding in the group."
    )
    return Finding(
        lead.code,
        message,
        module=top,
        file=path or lead.file,
        line=int(line) if line.isdigit() else (None if path else lead.line),
        object=top,
        fix=fix,
        detail={"imported_at": site or None, "grouped": [_member(f) for f in members]},
    )


def _member(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "object": finding.object,
        "module": finding.module,
        "file": finding.file,
        "line": finding.line,
        "message": finding.message,
    }
