"""patchkit: make gevent monkey patching safe — profiles, a patch ledger, a detector.

The public API is re-exported here. Importing patchkit is cheap and patches nothing; it does
subscribe to gevent's patch events so that patches made by others are recorded too.

PYTEST_DONT_REWRITE: `patchkit run -m pytest` imports patchkit before pytest's assertion rewriter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from patchkit._version import __version__
from patchkit.errors import ConfigError, PatchkitError, ProfileError, TargetError
from patchkit.manager import apply, state, verify

if TYPE_CHECKING:
    from patchkit.detect.collect import report as scan
    from patchkit.detect.watch import watch
    from patchkit.findings import Finding, Outcome, Report
    from patchkit.watchstats import watch_stats

__all__ = [
    "ConfigError",
    "Finding",
    "Outcome",
    "PatchkitError",
    "ProfileError",
    "Report",
    "TargetError",
    "__version__",
    "apply",
    "scan",
    "state",
    "verify",
    "watch",
    "watch_stats",
]


def __getattr__(name: str) -> Any:
    # Findings and the detectors import more than the patch manager needs (dataclasses, inspect):
    # load them only when asked for, so `import patchkit; patchkit.apply()` stays nearly free.
    if name in ("Finding", "Outcome", "Report"):
        from patchkit import findings

        return getattr(findings, name)
    if name == "scan":
        from patchkit.detect.collect import report

        return report
    if name == "watch":
        from patchkit.detect.watch import watch

        return watch
    if name == "watch_stats":
        from patchkit.watchstats import watch_stats

        return watch_stats
    raise AttributeError(f"module 'patchkit' has no attribute {name!r}")
