"""``audit --static``: what the runtime audit would find before patching, from source alone.

For each entry point: PK501/PK502 from its own lines (``static.py``), then its import closure up
to the patch call (``closure.py``) with each module's facts (``facts.py``) turned into the
findings the runtime scan would report there, through the same precision steps: bindings made
with ``get_original`` are dropped (``deliberate``), findings in installed packages are folded
under the user's import that brought them in (``group``), a library's bookkeeping lock is not
reported (the harm table's ``library_instances``). Every finding carries
``detail["static"] = True`` and ``detail["chain"]``, the imports that brought its module in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from types import SimpleNamespace

from patchkit._frames import is_installed_file
from patchkit.detect import deliberate, group, natives, originals
from patchkit.detect.closure import Closure, Module, Walk, entry_package
from patchkit.detect.factcache import FactCache
from patchkit.detect.facts import Hit
from patchkit.detect.static import check_entry_file
from patchkit.detect.walker import _fix
from patchkit.findings import Finding

_HARM = "every call stops all greenlets until it returns"


def audit_entries(
    entries: Sequence[str], *, use_cache: bool = True, integrations: Iterable[str] = ()
) -> list[Finding]:
    """PK101-PK105, PK201, PK501 and PK502 for each entry file, running nothing."""
    cache = FactCache(enabled=use_cache)
    walk = Walk(cache)
    out: list[Finding] = []
    for entry in entries:
        found = check_entry_file(entry)
        closure = walk.closure(entry, entry_package(entry))
        found += closure_findings(closure, frozenset(integrations))
        out += [_marked(f, closure) for f in found]
    cache.save()
    return _unique(out)


def closure_findings(closure: Closure, integrations: frozenset[str]) -> list[Finding]:
    found: list[Finding] = []
    for module in closure.modules.values():
        for hit in module.facts[2] if module.facts else ():
            if module.cut and hit[1] >= module.cut:
                continue  # bound after patching: gevent's objects, not the originals
            finding = _finding(module, hit)
            if finding is not None:
                found.append(finding)
    found = deliberate.without_deliberate(found)
    found += _late(closure, {f.module for f in found if f.module})
    files = {name: SimpleNamespace(__file__=m.path) for name, m in closure.modules.items()}
    found = group.group_installed(found, first_importer=closure.first_importer, modules=files)
    return found + _natives(closure, integrations)


def _finding(module: Module, hit: Hit) -> Finding | None:
    code, line, key, where, how = hit
    row = originals.get(*key.rsplit(".", 1))
    if row is None:
        return None
    name = module.name
    if code == "PK105":
        if row.library_instances and is_installed_file(module.path):
            return None  # measured harmless where libraries keep them (see the row)
        label = f"{name}.{where}{how if how.startswith('[') else ''}"
        message = f"{label} was made by {row.maker}() before patching: {row.instance}"
        obj = row.maker
    elif code == "PK104":
        message = f"{name}.{where} derives from the original {row.key}, not gevent's"
        obj = row.key
    else:
        message = f"{_label(name, where, how)} is the original {row.key}, {row.harm_text}"
        obj = row.key
    fix = _fix(code, row, name)
    return Finding(code, message, module=name, file=module.path, line=line, object=obj, fix=fix)


def _label(name: str, where: str, how: str) -> str:
    if how == "class":
        return f"class attribute {name}.{where}"
    if how in ("default", "closure"):
        return f"{how} of {name}.{where}()"
    if how.startswith("["):
        return f"{name}.{where}{how}"
    return f"{name}.{where}"


def _late(closure: Closure, holders: set[str]) -> list[Finding]:
    """PK101 at the patch call, when modules found holding originals ran before it."""
    early = [n for n, m in closure.modules.items() if n in holders and m.importer]
    if closure.patched_at is None or not early:
        return []  # the entry's own bindings are reported where they are (PK102-PK105)
    path, _, line = closure.patched_at.rpartition(":")
    names = ", ".join(f"{n} (imported at {closure.first_importer(n) or path})" for n in early)
    return [
        Finding(
            "PK101",
            f"the patch call ran after {len(early)} module(s) that hold unpatched originals "
            f"were loaded: {names}",
            file=path,
            line=int(line),
            object="patch",
            detail={"modules": {n: closure.first_importer(n) for n in early}},
        )
    ]


def _natives(closure: Closure, integrations: frozenset[str]) -> list[Finding]:
    """PK201 for each C client the closure loads that no integration of the profile covers."""
    out = []
    for row in natives.NATIVE_CLIENTS:
        if row.held:
            out += _held(closure, row)
            continue
        if not any(ext in closure.modules for ext in row.extensions):
            continue
        if row.cooperative is not natives._never and (
            row.integration is None or row.integration.name in integrations
        ):
            continue  # cooperative unless the program says otherwise: only running it tells
        where = closure.first_importer(row.module) or ""
        path, _, line = where.rpartition(":")
        message = f"{row.library} does its I/O in C ({row.how}): {_HARM}"
        if row.integration is not None:
            message = (
                f"{row.library} does its I/O in C and the profile does not list the "
                f"`{row.integration.name}` integration: {_HARM}"
            )
        out.append(
            Finding("PK201", message, module=row.module, file=path or None,
                    line=int(line) if line.isdigit() else None, object=row.library, fix=row.fix)
        )  # fmt: skip
    return out


def _held(closure: Closure, row: natives.NativeClient) -> list[Finding]:
    out = []
    for module in closure.modules.values():
        if module.facts is None or module.name.partition(".")[0] == row.module:
            continue
        for line, dotted in module.facts[3]:
            if dotted in row.held and not (module.cut and line >= module.cut):
                message = (
                    f"{module.name} holds plain {row.library} ({dotted}), not its gevent-aware "
                    f"variant: its calls wait in C and stop every greenlet"
                )
                out.append(
                    Finding("PK201", message, module=module.name, file=module.path, line=line,
                            object=row.library, fix=row.fix)
                )  # fmt: skip
    return out


def _marked(finding: Finding, closure: Closure) -> Finding:
    detail = {**finding.detail, "static": True, "entry": closure.entry}
    chain = closure.chain(finding.module or "")
    if chain:
        detail["chain"] = chain
    return dataclasses.replace(finding, detail=detail)


def _unique(findings: list[Finding]) -> list[Finding]:
    """Two entries that load the same module report its findings once."""
    seen: set[tuple[object, ...]] = set()
    out = []
    for f in findings:
        key = (f.code, f.file, f.line, f.object)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
