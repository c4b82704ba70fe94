"""Integrations: make native clients cooperative after patching (psycopg2, grpc, plug-ins).

Monkey patching only reaches Python code; a C client doing its own I/O needs its library's hook.
Third parties add integrations through the ``patchkit.integrations`` entry-point group, whose
value is a zero-argument callable run after patching.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

from patchkit.detect.natives import INTEGRATIONS, Integration, integration_active
from patchkit.errors import ProfileError

ENTRY_POINT_GROUP = "patchkit.integrations"


# The built-ins are described with the native client each one fixes (detect/natives.py).
BUILTINS: dict[str, Integration] = INTEGRATIONS


def _entry_points() -> dict[str, object]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def known() -> list[str]:
    """Every integration name: built-ins, then those installed through entry points."""
    return [*BUILTINS, *(n for n in sorted(_entry_points()) if n not in BUILTINS)]


def check_known(name: str, where: str) -> None:
    """Raise ProfileError (naming ``where``) for an integration no one provides."""
    if name in BUILTINS or name in _entry_points():
        return
    raise ProfileError(f"{where}: unknown integration {name!r} (choose from {', '.join(known())})")


def _missing(integration: Integration) -> str | None:
    for module in integration.requires:
        try:
            if importlib.util.find_spec(module) is None:
                return module
        except (ImportError, ValueError):
            return module
    return None


def check_available(names: tuple[str, ...]) -> None:
    """Fail before patching when a required library is not installed."""
    for name in names:
        integration = BUILTINS.get(name)
        if integration is None:
            check_known(name, "integrations")
            continue
        missing = _missing(integration)
        if missing is not None:
            raise _needs(integration, missing)


def _needs(integration: Integration, module: str) -> ProfileError:
    return ProfileError(
        f"integration {integration.name!r} needs {module}: "
        f"pip install patchkit[{integration.extra}]"
    )


def _load(name: str) -> Callable[[], object]:
    integration = BUILTINS.get(name)
    if integration is None:
        entry_point = _entry_points().get(name)
        if entry_point is None:
            check_known(name, "integrations")
        try:
            return entry_point.load()  # type: ignore[union-attr]
        except Exception as exc:
            raise ProfileError(f"integration {name!r} failed to load ({exc})") from None
    module_name, _, function = integration.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise _needs(integration, (exc.name or module_name).partition(".")[0]) from None
    return getattr(module, function)


def apply(names: tuple[str, ...]) -> None:
    """Run each integration, in order; call only after gevent has patched."""
    for name in names:
        function = _load(name)
        try:
            function()
        except ImportError as exc:  # psycogreen raises it for a psycopg2 without wait callbacks
            raise ProfileError(f"integration {name!r} cannot run: {exc}") from None


def is_active(name: str) -> bool | None:
    """Whether a built-in integration is in effect (None when it cannot be told or not loaded)."""
    return integration_active(name)
