"""gunicorn workers that apply the configured profile instead of a bare ``patch_all()``.

``gunicorn -k patchkit.gunicorn.GeventWorker app:app`` (or ``GeventPyWSGIWorker``) patches each
worker with ``PATCHKIT_PROFILE`` / the project's profile and records it in the ledger. The classes
are built on first access, so importing this module does not import gunicorn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gunicorn.workers.ggevent import GeventPyWSGIWorker, GeventWorker

__all__ = ["GeventPyWSGIWorker", "GeventWorker"]

_built: dict[str, type] = {}


def _patch(worker: Any) -> None:
    """gunicorn's ``GeventWorker.patch()`` with ``patch_all()`` replaced by ``patchkit.apply()``."""
    from gevent import socket

    from patchkit.manager import apply

    profile = apply(
        requested_by=f"gunicorn worker {type(worker).__module__}.{type(worker).__name__}"
    )
    worker.log.info("patchkit: applied profile %s (from %s)", profile.name, _profile_origin())
    # What gunicorn does besides patching: its listeners become gevent sockets, whatever the
    # profile, because gevent's StreamServer needs them.
    worker.sockets = [
        socket.socket(s.FAMILY, socket.SOCK_STREAM, fileno=s.sock.detach()) for s in worker.sockets
    ]
    from patchkit.detect.production import start_from_config

    start_from_config()  # `watch = MS` in the config: each worker watches its own hub


def _profile_origin() -> str:
    """What chose the profile: ``PATCHKIT_PROFILE``, the config file's key, or the default."""
    from patchkit.config import load_config

    config = load_config()
    return config.profile_origin if config.profile else "the default: no profile configured"


def _build(name: str) -> type:
    from gunicorn.workers import ggevent

    base = getattr(ggevent, name)
    return type(
        name,
        (base,),
        {
            "patch": _patch,
            "__module__": __name__,
            "__doc__": f"gunicorn's {name} applying patchkit's configured profile.",
        },
    )


def __getattr__(name: str) -> type:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _built:
        _built[name] = _build(name)
    return _built[name]
