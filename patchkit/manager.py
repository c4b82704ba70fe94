"""apply(), state(), verify(): a profile becomes one ``gevent.monkey.patch_all`` call, recorded.

patchkit never patches by itself: the resolved profile is passed to gevent's own ``patch_all``
so gevent's ordering rules (thread before time, selectors with select, ...) keep holding.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

from patchkit import integrations, ledger
from patchkit.profiles import BUILTINS, Profile, resolve

if TYPE_CHECKING:
    from patchkit.findings import Finding

_lock = threading.RLock()  # the original RLock: apply() may run before thread is patched
_applied: list[Profile] = []
_integrated: list[str] = []


def _resolve(name: str | None) -> Profile:
    if name is not None and name in BUILTINS:
        return resolve(name)  # an explicit built-in needs no config: keeps apply("full") cheap
    from patchkit.config import load_config

    return resolve(name, load_config())


def apply(profile: str | None = None, *, requested_by: str | None = None) -> Profile:
    """Apply ``profile`` (default: ``PATCHKIT_PROFILE``, the project's config, then ``full``).

    Idempotent: the same profile again does nothing. A different one is recorded as a second
    request (PK106) and handed to gevent, which patches the union. ``requested_by`` overrides
    the recorded caller for launchers such as ``patchkit run``.
    """
    resolved = _resolve(profile)
    with _lock:
        if resolved in _applied:
            return resolved
        integrations.check_available(resolved.integrations)
        by = requested_by if requested_by is not None else ledger.requested_by(2)
        request = ledger.new_request("patchkit.apply", resolved.name, resolved.settings(), by)
        request.integrations = resolved.integrations
        book = ledger.state()
        book.begin(request)
        try:
            from gevent import monkey

            monkey.patch_all(**resolved.settings())
        finally:
            book.end()
        _applied.append(resolved)
        pending = tuple(n for n in resolved.integrations if n not in _integrated)
        integrations.apply(pending)
        _integrated.extend(pending)
    return resolved


def applied() -> tuple[Profile, ...]:
    """The profiles patchkit.apply() applied in this process, in order."""
    return tuple(_applied)


def state() -> ledger.Ledger:
    """The ledger: every patch request in this process, including ones patchkit did not make."""
    return ledger.state()


def verify() -> list[Finding]:
    """PK108 for each patch or integration no longer in effect; empty after a clean apply."""
    from patchkit.findings import Finding

    findings = _drift()
    for name in _integrated:
        if integrations.is_active(name) is False:
            findings.append(
                Finding(
                    "PK108",
                    f"integration {name!r} is no longer in effect after patching",
                    object=name,
                    fix=f"Re-apply the profile after the code that undid {name!r}.",
                )
            )
    return findings


def _drift() -> list[Finding]:
    """PK108 for each attribute gevent patched that no longer holds gevent's object."""
    from patchkit.findings import Finding

    saved = getattr(sys.modules.get("gevent.monkey"), "saved", {})
    out = []
    for (target, item), value in ledger.state().installed().items():
        module = sys.modules.get(target)
        if module is None:
            continue
        current = getattr(module, item, ledger.ABSENT)
        if current is value:
            continue
        original = saved.get(target, {}).get(item, ledger.ABSENT)
        if current is ledger.ABSENT:
            how = "was deleted"
        elif current is original:
            how = "was restored to the original"
        elif value is ledger.ABSENT:
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
