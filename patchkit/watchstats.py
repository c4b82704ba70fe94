"""Counters of the hub's stalls in this process: by site and as a histogram, for dashboards.

Filled by the production watch (``watch = MS`` in the config, see ``patchkit.detect.production``)
and read with ``patchkit.watch_stats()``. Sites are bounded (``MAX_SITES``; later ones count under
``"other"``), so a process that stalls everywhere still keeps a few KB.
"""

from __future__ import annotations

import bisect
from typing import Any

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)  # seconds, upper bounds; + infinity
MAX_SITES = 100
OTHER = "other"


class WatchStats:
    """Stalls counted by site (``file:line`` or the greenlet) and by duration bucket."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.total = 0.0
        self.max = 0.0
        self.buckets = [0] * (len(BUCKETS) + 1)
        self.sites: dict[str, list[Any]] = {}  # site -> [count, total, max, kind]

    def site_of(self, site: str) -> str:
        """The label a site is counted under: itself, or ``"other"`` once the table is full."""
        return site if site in self.sites or len(self.sites) < MAX_SITES else OTHER

    def add(self, site: str, duration: float, kind: str = "greenlet") -> str:
        """Count one stall; returns the (bounded) site label it was counted under."""
        site = self.site_of(site)
        self.count += 1
        self.total += duration
        self.max = max(self.max, duration)
        self.buckets[bisect.bisect_left(BUCKETS, duration)] += 1
        entry = self.sites.setdefault(site, [0, 0.0, 0.0, kind])
        entry[0] += 1
        entry[1] += duration
        entry[2] = max(entry[2], duration)
        return site

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready: totals, cumulative histogram buckets (Prometheus style), sites by total."""
        cumulative, running = [], 0
        for bound, n in zip([*BUCKETS, float("inf")], self.buckets, strict=True):
            running += n
            cumulative.append(["+Inf" if bound == float("inf") else bound, running])
        sites = sorted(self.sites.items(), key=lambda item: -item[1][1])
        return {
            "count": self.count,
            "total_s": round(self.total, 4),
            "max_s": round(self.max, 4),
            "buckets": cumulative,
            "sites": {
                site: {"count": c, "total_s": round(t, 4), "max_s": round(m, 4), "kind": k}
                for site, (c, t, m, k) in sites
            },
        }


STATS = WatchStats()


def watch_stats() -> dict[str, Any]:
    """This process's stall counters: count, total and max by site, and histogram buckets."""
    return STATS.snapshot()
