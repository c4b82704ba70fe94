"""apply(), state(), verify(): a profile becomes one ``gevent.monkey.patch_all`` call, recorded.

patchkit never patches by itself: the resolved profile is passed to gevent's own ``patch_all``
so gevent's ordering rules (thread before time, selectors with select, ...) keep holding.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from patchkit import integrations, ledger, profiles

if TYPE_CHECKING:
    from patchkit.findings import Finding
    from patchkit.profiles import Profile

_lock = threading.RLock()  # the original RLock: apply() may run before thread is patched
_applied: list[Profile] = []
_integrated: list[str] = []


def apply(profile: str | None = None, *, requested_by: str | None = None) -> Profile:
    """Apply ``profile`` (default: ``PATCHKIT_PROFILE``, the project's config, then ``full``).

    Idempotent: the same profile again does nothing. A different one is recorded as a second
    request (PK106) and handed to gevent, which patches the union. ``requested_by`` overrides
    the recorded caller for launchers such as ``patchkit run``.
    """
    resolved = profiles.for_apply(profile)
    with _lock:
        if resolved in _applied:
            return resolved
        integrations.check_available(resolved.integrations)
        by = requested_by if requested_by is not None else ledger.requested_by(2)
        request = ledger.new_request("patchkit.apply", resolved.name, resolved.settings(), by)
        request.profile_source = resolved.source
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


def state() -> ledger.Ledger:
    """The ledger: every patch request in this process, including ones patchkit did not make."""
    return ledger.state()


def verify() -> list[Finding]:
    """PK108 for each patch or integration no longer in effect; empty after a clean apply."""
    from patchkit.detect import patching

    return patching.drift(ledger.state())
