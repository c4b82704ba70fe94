"""The rules about patching itself, read from the ledger: PK101, PK106, PK107, PK108.

The ledger (``patchkit.ledger``) only records who patched what, when and from where; every
judgement about those records is here, so one module answers "which checks look at patching":

- PK101 a patch request that came after modules now found holding stale originals;
- PK106 patching requested again with different settings;
- PK107 patching off the main thread, or while other threads ran;
- PK108 a patch (or an integration) no longer in effect: the attribute gevent installed was
  replaced, restored, deleted or put back, or an integration was undone.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from patchkit import integrations, ledger
from patchkit.findings import Finding
from patchkit.ledger import ABSENT, Ledger, PatchRequest


def findings(book: Ledger | None = None) -> list[Finding]:
    """PK106, PK107 and PK108: everything the ledger alone can tell."""
    book = book if book is not None else ledger.state()
    return [*repatched(book), *off_main_thread(book), *drift(book)]


def late(holders: Iterable[str], book: Ledger | None = None) -> list[Finding]:
    """PK101 per patch request that came after modules now found holding something stale."""
    book = book if book is not None else ledger.state()
    holding = set(holders)
    out = []
    for request in book.requests:
        modules = {m: by for m, by in request.modules_loaded.items() if m in holding}
        if not modules:
            continue
        names = ", ".join(_imported(m, by) for m, by in modules.items())
        path, line = _split(request.requested_by)
        out.append(
            Finding(
                "PK101",
                f"{request.function} ran after {len(modules)} module(s) that hold unpatched "
                f"originals were loaded: {names}",
                file=path if line is not None else None,  # not a label like "patchkit run"
                line=line,
                object=request.function,
                detail={"modules": modules},
            )
        )
    return out


def _imported(module: str, by: str | None) -> str:
    """Where the user's code brought ``module`` in: its own import, or the package it came with."""
    from patchkit._frames import is_installed_file
    from patchkit.detect.group import root_import

    if by and is_installed_file(by.rpartition(":")[0]):
        site, top = root_import(module)
        if site:
            return f"{module} (with {top}, imported at {site})"
    return f"{module} (imported at {by or 'an unknown place'})"


def repatched(book: Ledger) -> list[Finding]:
    """PK106: a later request whose settings differ from an earlier one's."""
    out = []
    for index, first in enumerate(book.requests):
        for later in book.requests[index + 1 :]:
            changed = sorted(
                k
                for k in first.settings.keys() & later.settings.keys()
                if first.settings[k] != later.settings[k]
            )
            if not changed:
                continue
            diff = ", ".join(f"{k}={later.settings[k]}" for k in changed)
            path, line = _split(later.requested_by)
            out.append(
                Finding(
                    "PK106",
                    f"patching requested again with different settings ({diff}): first by "
                    f"{_who(first)}, then by {_who(later)}; gevent keeps the union",
                    file=path,
                    line=line,
                    object=later.function,
                    detail={"callers": [first.requested_by, later.requested_by]},
                )
            )
    return out


def off_main_thread(book: Ledger) -> list[Finding]:
    """PK107: patched from another thread, or while other threads were running."""
    out = []
    for request in book.requests:
        if request.reconstructed or not request.patches:
            continue
        reasons = []
        if request.main_thread is False:
            reasons.append(f"in thread {request.thread_name!r}, not the main thread")
        if request.other_threads:
            reasons.append(f"while other threads ran: {', '.join(request.other_threads)}")
        if reasons:
            path, line = _split(request.requested_by)
            out.append(
                Finding(
                    "PK107",
                    f"{request.function} patched {' and '.join(reasons)}",
                    file=path,
                    line=line,
                    object=request.function,
                )
            )
    return out


def drift(book: Ledger | None = None) -> list[Finding]:
    """PK108 for each patched attribute or integration no longer in effect."""
    book = book if book is not None else ledger.state()
    out = _attribute_drift(book)
    for name in book.integrations():
        if integrations.is_active(name) is False:
            out.append(
                Finding(
                    "PK108",
                    f"integration {name!r} is no longer in effect after patching",
                    object=name,
                    fix=f"Re-apply the profile after the code that undid {name!r}.",
                )
            )
    return out


def _attribute_drift(book: Ledger) -> list[Finding]:
    saved = getattr(sys.modules.get("gevent.monkey"), "saved", {})
    out = []
    for (target, item), value in book.installed().items():
        module = sys.modules.get(target)
        if module is None:
            continue
        current = getattr(module, item, ABSENT)
        if current is value:
            continue
        original = saved.get(target, {}).get(item, ABSENT)
        if current is ABSENT:
            how = "was deleted"
        elif current is original:
            how = "was restored to the original"
        elif value is ABSENT:
            how = "was put back after gevent removed it"
        else:
            how = f"was replaced by {_describe(current)}"
        out.append(
            Finding(
                "PK108",
                f"{target}.{item} is no longer gevent's: it {how} after patching",
                module=target,
                object=f"{target}.{item}",
            )
        )
    return out


def _describe(value: Any) -> str:
    module = getattr(value, "__module__", None)
    name = getattr(value, "__qualname__", None) or type(value).__name__
    return f"{module}.{name}" if module else name


def _who(request: PatchRequest) -> str:
    where = request.requested_by or "an unknown caller"
    label = f"profile {request.profile!r}" if request.profile else request.function
    return f"{where} ({label})"


def _split(location: str | None) -> tuple[str | None, int | None]:
    if not location:
        return None, None
    path, _, line = location.rpartition(":")
    return (path, int(line)) if line.isdigit() else (location, None)
