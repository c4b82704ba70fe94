"""What the scan benchmarks compare against: the bare identity walk any detector must pay."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def saved_ids() -> set[int]:
    """The ids of every original gevent saved (what a detector looks for)."""
    from gevent import monkey

    saved = monkey.saved
    return {id(v) for items in saved.values() if isinstance(items, dict) for v in items.values()}


def floor(targets: set[int]) -> int:
    """One ``id()`` lookup per value of every module's ``__dict__`` in ``sys.modules``."""
    hits = 0
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if namespace:
            for value in list(namespace.values()):
                if id(value) in targets:
                    hits += 1
    return hits


def timed(func: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        out.append(time.perf_counter() - start)
    return out
