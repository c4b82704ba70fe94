"""The optional C extension ``_switchtimer``, or ``None`` for each of its types.

``setup.py`` builds it where a compiler and the Python headers exist. Without it, or with
``PATCHKIT_NO_SPEEDUPS=1``, the watch and the lag probe run their pure-Python equivalents, which
find the same stalls at a higher cost per switch and per wake-up.
"""

from __future__ import annotations

import importlib
import os
from typing import Any


def _load() -> Any:
    if os.environ.get("PATCHKIT_NO_SPEEDUPS"):
        return None
    try:
        return importlib.import_module("patchkit.detect._switchtimer")
    except ImportError:  # not built (no compiler at install time)
        return None


_module = _load()
SwitchTimer: Any = getattr(_module, "SwitchTimer", None)  # the per-switch tracer (watch.py)
Heartbeat: Any = getattr(_module, "Heartbeat", None)  # the watchdog's GIL-free wait (lag.py)
