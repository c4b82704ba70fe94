"""Fixes worded for how the target is started.

"Make `import patchkit.auto` the first line of the entry point" is the right advice for an app's
own script; a server started with ``-m gunicorn`` or ``-m celery`` has no entry point the user
writes first. Those servers import the app themselves, so the fix is where the server patches:
gunicorn's worker class, or ``patchkit run`` in front of the command.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from patchkit.findings import Finding

_AUTO = "`import patchkit.auto`"

# The patch step for each server, phrased to stand where "`import patchkit.auto`" stood.
SERVER_PATCH = {
    "gunicorn": (
        "`-k patchkit.gunicorn.GeventWorker` (or `worker_class` in gunicorn.conf.py), which "
        "patches each worker before it imports the app; with `--preload` the app is imported in "
        "the arbiter, so start it as `python -m patchkit run --profile P -m gunicorn ...`"
    ),
    "celery": (
        "`python -m patchkit run --profile P -m patchkit.celery -A APP worker -P gevent` "
        "(celery's own `-P gevent` start-up calls `patch_all()`, whatever the profile: "
        "`patchkit.celery` starts the worker without it)"
    ),
}


def server_of(kind: str, name: str) -> str | None:
    """The server a ``-m`` target starts (``gunicorn.app.wsgiapp`` is gunicorn), or None."""
    if kind != "module":
        return None
    if name == "patchkit.celery":
        return "celery"
    top = name.partition(".")[0]
    return top if top in SERVER_PATCH else None


def fit_fixes(findings: Iterable[Finding], kind: str, name: str) -> list[Finding]:
    """The findings with "`import patchkit.auto` first" advice rewritten for the server target."""
    server = server_of(kind, name)
    out = list(findings)
    if server is None:
        return out
    instead = SERVER_PATCH[server]
    return [
        dataclasses.replace(f, fix=f.fix.replace(_AUTO, instead)) if _AUTO in f.fix else f
        for f in out
    ]
