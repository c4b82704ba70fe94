"""``python -m patchkit.celery ARGS``: the ``celery`` command with patchkit's profile in charge.

``celery worker -P gevent`` calls ``gevent.monkey.patch_all()`` at start-up
(``celery.maybe_patch_concurrency``), which patches everything whatever profile was applied
before it: under ``patchkit run --profile none -m celery`` the tasks' ``time.sleep`` is still
gevent's. This entry applies the configured profile (``PATCHKIT_PROFILE``, the project's config,
then ``full``) unless one was applied already (``patchkit run --profile P -m patchkit.celery``),
then starts Celery exactly as ``python -m celery`` does, minus that ``patch_all()``: the gevent
pool runs on what the profile patched, and nothing more.
"""

from __future__ import annotations

import sys

REQUESTED_BY = "patchkit.celery"


def _profile_applied() -> bool:
    import patchkit

    requests = patchkit.state().as_dict().get("requests") or []
    return any(r.get("function") == "patchkit.apply" for r in requests)


def _gevent_without_patch_all() -> None:
    """Celery's gevent set-up, the profile having done the patching."""
    import gevent.signal  # noqa: F401  (what celery's own set-up imports besides patching)


def main() -> None:
    import patchkit

    if not _profile_applied():
        patchkit.apply(requested_by=REQUESTED_BY)
    import celery

    if "multi" not in sys.argv:
        patches = {"gevent": _gevent_without_patch_all}
        eventlet = getattr(celery, "_patch_eventlet", None)
        if eventlet is not None:
            patches["eventlet"] = eventlet
        celery.maybe_patch_concurrency(patches=patches)
    from celery.bin.celery import main as celery_main

    sys.exit(celery_main())


if __name__ == "__main__":
    main()
