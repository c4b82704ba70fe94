"""The patch ledger: every patch made in this process, who asked for it, and in what state.

gevent announces each patch through ``gevent.events`` (zope.event ``subscribers``). The ledger
subscribes when patchkit is imported, so a bare ``gevent.monkey.patch_all()`` made later by the
application or by gunicorn's worker is recorded just like ``patchkit.apply()``. Patches made
before patchkit was imported are rebuilt from ``gevent.monkey.saved`` and marked reconstructed.

The ledger only records; the rules read from it (PK101, PK106-PK108) live in
``patchkit.detect.patching``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

from patchkit import imports

_SETTINGS_KEY = "_gevent_saved_patch_all_module_settings"
ABSENT = object()  # an item gevent removed (``select.epoll`` under aggressive)

# Frames that are the patching machinery, not the code that asked for the patch.
_HERE = os.path.dirname(os.path.abspath(__file__))
_TOOLCHAIN = ("patchkit", "gevent", "greenlet", "zope", "__main__", "__mp_main__")
_STARTUP = ("_distutils_hack", "sitecustomize", "usercustomize", "_virtualenv", "cython_runtime")
_NOT_APP = frozenset(_TOOLCHAIN + _STARTUP)


def _package_dir(module_name: str, up: int = 1) -> str:
    """The directory (with a trailing separator) of a loaded package, or a never-matching prefix."""
    path = getattr(sys.modules.get(module_name), "__file__", None)
    if not path:
        return "\0"
    for _ in range(up):
        path = os.path.dirname(path)
    return path + os.sep


def requested_by(skip: int = 1) -> str | None:
    """``file:line`` of the first frame outside patchkit, gevent, zope and the import system."""
    skipped = (
        _HERE + os.sep,
        _package_dir("gevent"),
        _package_dir("zope.event", up=2),
        "<frozen importlib",
    )
    frame = sys._getframe(skip)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(skipped):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return None


class ModulePatch:
    """One stdlib module patched by gevent, with the objects it installed (for verify)."""

    __slots__ = ("module", "target", "items", "installed")

    def __init__(
        self, module: str, target: str, items: tuple[str, ...], installed: dict[str, Any]
    ) -> None:
        self.module = module  # gevent's name: "thread", "socket", ...
        self.target = target  # the patched module's real name: "_thread", "socket", ...
        self.items = items
        self.installed = installed

    def as_dict(self) -> dict[str, Any]:
        return {"module": self.module, "target": self.target, "items": list(self.items)}


class PatchRequest:
    """One call that patched: ``patchkit.apply``, ``gevent.monkey.patch_all`` or a patch_*().

    A plain class, not a dataclass: ``import patchkit`` must stay cheap (see tools/bench).
    """

    def __init__(
        self, function: str, profile: str | None, settings: dict[str, bool], by: str | None
    ) -> None:
        self.function = function
        self.profile = profile
        self.profile_source: str | None = None  # "built-in" or "pyproject.toml:[tool....web]"
        self.settings = dict(settings)
        self.requested_by = by
        self.time = time.time()
        self.thread_name: str | None = None
        self.main_thread: bool | None = None
        self.other_threads: tuple[str, ...] = ()
        self.modules_loaded: dict[str, str | None] = {}
        self.patches: list[ModulePatch] = []
        self.integrations: tuple[str, ...] = ()
        self.reconstructed = False

    def __repr__(self) -> str:
        return f"<PatchRequest {self.function} profile={self.profile!r} by={self.requested_by}>"

    def as_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "profile": self.profile,
            "profile_source": self.profile_source,
            "settings": dict(self.settings),
            "requested_by": self.requested_by,
            "time": self.time,
            "thread_name": self.thread_name,
            "main_thread": self.main_thread,
            "other_threads": list(self.other_threads),
            "modules_loaded": dict(self.modules_loaded),
            "patches": [p.as_dict() for p in self.patches],
            "integrations": list(self.integrations),
            "reconstructed": self.reconstructed,
        }


def _modules_loaded() -> dict[str, str | None]:
    stdlib = sys.stdlib_module_names
    loaded = {}
    for name in list(sys.modules):
        top = name.partition(".")[0]
        if top in stdlib or top in _NOT_APP or top.startswith(("__editable", "_cython_")):
            continue
        loaded[name] = imports.first_importer(name)
    return loaded


def new_request(
    function: str, profile: str | None, settings: dict[str, bool], by: str | None
) -> PatchRequest:
    """A request stamped with the thread situation and the modules loaded right now."""
    current = threading.current_thread()
    request = PatchRequest(function, profile, settings, by)
    request.thread_name = current.name
    request.main_thread = current is threading.main_thread()
    # patchkit's own threads (watchdogs, the audit deadline) are started with the real
    # ``start_new_thread`` and never join ``threading``'s registry, so they are not listed here.
    request.other_threads = tuple(t.name for t in threading.enumerate() if t is not current)
    request.modules_loaded = _modules_loaded()
    return request


class Ledger:
    """Every patch request in this process, in order; fed by gevent's events."""

    def __init__(self) -> None:
        self.requests: list[PatchRequest] = []
        self._open: PatchRequest | None = None  # the request whose patches are being made
        self._implicit = False  # the open request was started by a lone patch_*() call
        self._pending: dict[str, tuple[str, tuple[str, ...], set[str]]] = {}
        self.errors: list[str] = []  # subscriber failures: never raised into gevent

    # -- feeding -------------------------------------------------------------------------

    def begin(self, request: PatchRequest) -> None:
        """Open ``request`` (patchkit.apply); the module events that follow belong to it."""
        self.requests.append(request)
        self._open, self._implicit = request, False

    def end(self) -> None:
        self._open = None

    def on_event(self, event: object) -> None:
        """The ``gevent.events`` subscriber. Must never raise: it runs inside gevent's patching."""
        try:
            self._dispatch(event)
        except Exception as exc:  # pragma: no cover - a bug here must not break patching
            self.errors.append(f"{type(event).__name__}: {exc!r}")

    def _dispatch(self, event: object) -> None:
        from gevent import events

        if isinstance(event, events.GeventWillPatchAllEvent):
            # Only patchkit.apply() opens a request ahead of gevent; anything else still open is
            # left over from a patch_all that raised, and must not swallow this one.
            if self._open is None or self._open.function != "patchkit.apply":
                settings = _patch_all_arguments(event)
                self.begin(new_request("gevent.monkey.patch_all", None, settings, requested_by()))
        elif isinstance(event, events.GeventWillPatchModuleEvent):
            self._will_patch_module(event)
        elif isinstance(event, events.GeventDidPatchModuleEvent):
            self._did_patch_module(event)
        elif isinstance(event, events.GeventDidPatchAllEvent) and self._open is not None:
            self._sweep(self._open)
            if self._open.function == "gevent.monkey.patch_all":
                self.end()

    def _will_patch_module(self, event: Any) -> None:
        if self._open is None:
            function = _lone_patch_function()
            name = function.rpartition(".patch_")[2]
            self.begin(new_request(function, None, {name: True}, requested_by()))
            self._implicit = True
        from gevent.monkey import saved

        target = event.target.__name__
        module = event.source.__name__.rpartition("gevent.")[2]
        before = set(saved.get(target, ()))
        self._pending[target] = (module, tuple(event.target_item_names), before)

    def _did_patch_module(self, event: Any) -> None:
        from gevent.monkey import saved

        target_module = event.target
        target = target_module.__name__
        module, items, before = self._pending.pop(target, (event.module_name, (), set()))
        names = sorted(set(items) | (set(saved.get(target, ())) - before))
        installed = {item: getattr(target_module, item, ABSENT) for item in names}
        if self._open is not None:
            self._open.patches.append(ModulePatch(module, target, tuple(names), installed))
        if self._implicit and not self._pending:
            self.end()

    def _sweep(self, request: PatchRequest) -> None:
        """Add what gevent patched without a module event (``_threading_local``, ``logging``)."""
        from gevent.monkey import saved

        seen = {p.target for r in self.requests for p in r.patches}
        for target, originals in saved.items():
            module = sys.modules.get(target)
            if target in seen or module is None or not isinstance(originals, dict):
                continue
            names = tuple(sorted(originals))
            installed = {item: getattr(module, item, ABSENT) for item in names}
            request.patches.append(ModulePatch(target, target, names, installed))

    # -- reading -------------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the profile in effect, then every request with its patches."""
        return {"profile": self.profile(), "requests": [r.as_dict() for r in self.requests]}

    def profile(self) -> dict[str, Any] | None:
        """The profile the last ``patchkit.apply`` applied, where it is defined, and who asked.

        ``label`` is what a report shows: ``"web (pyproject.toml)"``, ``"full (built-in)"``.
        ``None`` when no profile was applied (a bare ``patch_all()``, or nothing patched).
        """
        for request in reversed(self.requests):
            if request.profile is None:
                continue
            source = (request.profile_source or "").partition(":[")[0] or None
            label = f"{request.profile} ({source})" if source else request.profile
            return {
                "name": request.profile,
                "source": source,
                "label": label,
                "requested_by": request.requested_by,
            }
        return None

    def patch_records(self) -> list[dict[str, Any]]:
        """One flat record per patched module: the report's ``patches`` section."""
        return [
            {
                "module": patch.module,
                "items": list(patch.items),
                "requested_by": request.requested_by,
                "function": request.function,
                "profile": request.profile,
                "profile_source": request.profile_source,
                "reconstructed": request.reconstructed,
            }
            for request in self.requests
            for patch in request.patches
        ]

    def installed(self) -> dict[tuple[str, str], Any]:
        """(module, item) -> the object gevent put there, the latest patch winning."""
        out: dict[tuple[str, str], Any] = {}
        for request in self.requests:
            for patch in request.patches:
                for item, value in patch.installed.items():
                    out[(patch.target, item)] = value
        return out

    def integrations(self) -> tuple[str, ...]:
        """Every integration run after a patch request, once each, in order."""
        return tuple(dict.fromkeys(n for r in self.requests for n in r.integrations))


def _patch_all_arguments(event: Any) -> dict[str, bool]:
    """The arguments patch_all was really called with (its event only carries what changed)."""
    from gevent import monkey

    frame = sys._getframe(1)
    while frame is not None and frame.f_code is not monkey.patch_all.__code__:
        frame = frame.f_back
    if frame is None:
        return {k: bool(v) for k, v in event.patch_all_arguments.items()}
    from patchkit.profiles import PATCH_NAMES

    local = frame.f_locals
    return {name: bool(local[name]) for name in PATCH_NAMES if name in local}


def _lone_patch_function() -> str:
    """The outermost ``gevent.monkey.patch_*`` on the stack, e.g. ``gevent.monkey.patch_socket``."""
    gevent_monkey = _package_dir("gevent") + "monkey" + os.sep
    found = "gevent.monkey.patch_module"
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        name = code.co_name
        in_monkey = code.co_filename.startswith(gevent_monkey) and name.startswith("patch_")
        if in_monkey and name not in ("patch_module", "patch_item"):
            found = f"gevent.monkey.{name}"
        frame = frame.f_back
    return found


_GEVENT_NAMES = {"_thread": "thread"}  # saved is keyed by real module names


def _reconstruct() -> PatchRequest | None:
    """Rebuild what gevent patched before patchkit was imported, from ``gevent.monkey.saved``."""
    monkey = sys.modules.get("gevent.monkey")
    saved = getattr(monkey, "saved", None)
    if not saved:
        return None
    settings = saved.get(_SETTINGS_KEY)
    function = "gevent.monkey.patch_all" if settings else "gevent.monkey"
    request = new_request(function, None, dict(settings or {}), None)
    request.reconstructed, request.main_thread, request.thread_name = True, None, None
    request.other_threads = ()
    request.modules_loaded = {}  # what was loaded *before* that patch is no longer knowable
    for target, originals in saved.items():
        module = sys.modules.get(target)
        if target == _SETTINGS_KEY or module is None or not isinstance(originals, dict):
            continue
        names = tuple(sorted(originals))
        installed = {item: getattr(module, item, ABSENT) for item in names}
        request.patches.append(
            ModulePatch(_GEVENT_NAMES.get(target, target), target, names, installed)
        )
    return request


def _install() -> Ledger:
    from gevent import events

    ledger = Ledger()
    reconstructed = _reconstruct()
    if reconstructed is not None:
        ledger.requests.append(reconstructed)
    events.subscribers.append(ledger.on_event)
    return ledger


LEDGER = _install()


def state() -> Ledger:
    return LEDGER
