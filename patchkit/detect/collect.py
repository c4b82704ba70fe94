"""The one collection point: every finding about this process's state, for every caller.

``patchkit.scan()``, the audit child and anything else that reports on a process call
``collect()``, so a rule reachable from one is reachable from all (the audit once dropped PK108
and PK201 because it collected on its own). Runtime findings (PK301 tripwires, PK302 hub stalls)
come from a ``Watch`` over a stretch of time and are added by whoever ran it.

- PK101-PK105, PK201: the walk over loaded modules (``scan.scan_findings``);
- PK106, PK107, PK108: the ledger's patch requests and what is installed now (``patching``);
- PK105 deeper down: objects made before patching inside library objects (``deep``).

Then precision: names bound on purpose with ``get_original`` are dropped (``deliberate``), and
findings inside installed packages are folded under the user's import that brought them in
before patching (``group``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from patchkit.detect import deep, deliberate, group, patching
from patchkit.detect.scan import patched, scan_findings
from patchkit.findings import Finding, Report


def collect(
    modules: Mapping[str, Any] | None = None, *, gevent_in_use: bool | None = None
) -> list[Finding]:
    """PK101-PK108 and PK201 for this process (``modules`` defaults to ``sys.modules``).

    ``gevent_in_use`` decides PK201 (a C client only stops greenlets where greenlets run);
    ``None`` decides it here, needing nothing from the caller: anything monkey-patched, or a
    gevent hub was created in this process.
    """
    if gevent_in_use is None and (patched() or hub_created()):
        gevent_in_use = True
    visited: list[Any] = []  # what the module walk read, reused by the deep walk
    found = scan_findings(modules, gevent_in_use=gevent_in_use, visited=visited)
    found += patching.findings() + deep.prepatch_objects(modules, visited=visited)
    found = deliberate.without_deliberate(found)
    return group.group_installed(found, loaded_before_patch=_loaded_before_patch())


def _loaded_before_patch() -> set[str] | None:
    """Modules loaded before any patch request (None: nothing was patched through gevent)."""
    from patchkit import ledger

    requests = ledger.state().requests
    if not requests:
        return None
    return {name for request in requests for name in request.modules_loaded}


def report() -> Report:
    """``collect()`` as a scan report with the ledger's patches: ``patchkit.scan()``."""
    from patchkit import ledger

    findings = collect()
    return Report(
        findings=tuple(findings), mode="scan", patches=tuple(ledger.state().patch_records())
    )


def hub_created() -> bool:
    """Whether a gevent hub exists in this process, from any thread.

    A hub is made by the first ``gevent.spawn``, ``gevent.sleep``, ``get_hub()`` or gevent socket
    call, patched or not, so it is the sign that greenlets run here. The calling thread's hub is
    asked for directly; from another thread (the audit's deadline thread) the hub objects are
    looked for among the live ones, which is slower but needs no help from the target.
    """
    hub_local = sys.modules.get("gevent._hub_local")
    hub_module = sys.modules.get("gevent.hub")
    if hub_local is None or hub_module is None:
        return False
    if hub_local.get_hub_if_exists() is not None:
        return True
    import gc

    hub_type = hub_module.Hub
    return any(isinstance(obj, hub_type) and not obj.dead for obj in gc.get_objects())
