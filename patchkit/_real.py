"""The real (pre-patch) primitives patchkit itself must use, captured once.

After ``patch_all()`` the stdlib names are gevent's: ``_thread.get_ident`` returns greenlet ids,
``start_new_thread`` starts a greenlet, ``time.sleep`` yields. patchkit's watchdogs and deadline
threads need the real ones, and the target may also replace ``time.time`` (freezegun) or
``os._exit``. Like ``gevent.monkey.get_original``, this module is the one place they come from:
captured when patchkit is first imported, or taken from gevent's saved originals when patching
already happened, and unwrapped if a tripwire sits in front of them.
"""

from __future__ import annotations

import _thread
import os
import sys
import time
from collections.abc import Callable
from typing import Any


def _original(module: Any, name: str) -> Any:
    monkey = sys.modules.get("gevent.monkey")
    saved = getattr(monkey, "saved", {}).get(module.__name__, {})
    found = saved.get(name, getattr(module, name))
    return getattr(found, "__wrapped__", found)  # a tripwire keeps the real one here


get_ident: Callable[[], int] = _original(_thread, "get_ident")
allocate_lock: Callable[[], Any] = _original(_thread, "allocate_lock")
start_new_thread: Callable[..., int] = _original(_thread, "start_new_thread")
sleep: Callable[[float], None] = _original(time, "sleep")
monotonic: Callable[[], float] = time.monotonic  # gevent leaves clocks alone; a target may not
perf_counter: Callable[[], float] = time.perf_counter
wall_time: Callable[[], float] = time.time
exit_now: Callable[[int], Any] = os._exit
