"""Hub stalls to the ``patchkit.watch`` logger, aggregated per site so a hot spot cannot flood it.

The first stall at a site is logged at once (one line, then its stack). Later stalls at the same
site are counted; a summary line (how many, total, longest) is logged once ``every`` seconds have
passed since that site's last line, and by ``flush()`` (called periodically and when the watch
stops), so nothing counted is lost.
"""

from __future__ import annotations

import logging
from typing import Any

from patchkit import _real

LOGGER = logging.getLogger("patchkit.watch")
SUMMARY_EVERY = 60.0  # seconds between two lines about the same site


def site(stall: Any) -> str:
    """Where a stall happened: the application's ``file:line``, else the greenlet."""
    return f"{stall.file}:{stall.line}" if stall.file else stall.greenlet


class StallLog:
    """Logs stalls; per site, the first at once and then a summary every ``every`` seconds."""

    def __init__(self, every: float = SUMMARY_EVERY, logger: logging.Logger = LOGGER) -> None:
        self.every = every
        self.logger = logger
        self._sites: dict[str, list[Any]] = {}  # site -> [last line at, count, total, max]

    def __call__(self, stall: Any, kind: str = "greenlet") -> None:
        where = site(stall)
        now = _real.monotonic()
        state = self._sites.get(where)
        if state is None:
            if len(self._sites) >= 1000:  # bounded: forget the quietest half-forgotten sites
                self.flush()
                self._sites.clear()
            self._sites[where] = [now, 0, 0.0, 0.0]
            stack = "".join(f"\n    {line}" for line in stall.stack)
            self.logger.warning(
                "hub stalled %.3f s (%s): %s held it at %s%s",
                stall.duration,
                kind,
                stall.greenlet,
                where,
                stack,
            )
            return
        state[1] += 1
        state[2] += stall.duration
        state[3] = max(state[3], stall.duration)
        if now - state[0] >= self.every:
            self._summary(where, state, now)

    def flush(self) -> None:
        """Log the summary of every site with stalls not yet logged."""
        now = _real.monotonic()
        for where, state in list(self._sites.items()):
            if state[1]:
                self._summary(where, state, now)

    def _summary(self, where: str, state: list[Any], now: float) -> None:
        self.logger.warning(
            "hub stalled %d more times at %s in the last %.0f s: %.3f s in all, longest %.3f s",
            state[1],
            where,
            now - state[0],
            state[2],
            state[3],
        )
        state[:] = [now, 0, 0.0, 0.0]
