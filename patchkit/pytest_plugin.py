"""The ``patchkit`` pytest plugin: ``--patchkit-profile P`` and ``--patchkit-watch[=MS]``.

Loaded in every pytest run of an environment where patchkit is installed, so it does nothing
unless one of its options is given: no patching, no tracing, no per-test hook.

- ``--patchkit-profile P`` applies profile ``P`` (``patchkit.apply``) in
  ``pytest_load_initial_conftests``, before conftest files and test modules are imported.
- ``--patchkit-watch[=MS]`` (default 100 ms) runs each test's call phase under
  ``patchkit.watch`` and fails a test that kept the gevent hub from running for longer than MS,
  showing the stack that held it.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

DEFAULT_WATCH_MS = 100.0


def _milliseconds(value: str, source: str = "--patchkit-watch") -> float:
    """A finite number of milliseconds in (0, one week]; a usage error otherwise (nan, inf...)."""
    from patchkit.commands import WEEK_S, bounded_number

    try:
        return bounded_number(value, upper=WEEK_S * 1000, unit="milliseconds")
    except ValueError as exc:
        raise pytest.UsageError(f"{source}: {exc} (write {source}=MS)") from None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("patchkit", "gevent monkey patching (patchkit)")
    group.addoption(
        "--patchkit-profile",
        metavar="P",
        default=None,
        help="apply patchkit profile P before conftest files and test modules are imported",
    )
    group.addoption(
        "--patchkit-watch",
        metavar="MS",
        nargs="?",
        const=DEFAULT_WATCH_MS,
        default=None,
        type=_milliseconds,
        help="fail a test that blocks the gevent hub for longer than MS milliseconds "
        f"(default {DEFAULT_WATCH_MS:g}); write --patchkit-watch=MS",
    )
    parser.addini(
        "patchkit_watch",
        "as --patchkit-watch=MS, for every run (the command-line option wins)",
        default="",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    profile = getattr(early_config.known_args_namespace, "patchkit_profile", None)
    if profile:
        import patchkit

        try:
            patchkit.apply(profile)
        except patchkit.PatchkitError as exc:
            raise pytest.UsageError(f"--patchkit-profile: {exc}") from None


def pytest_configure(config: pytest.Config) -> None:
    ms = config.getoption("patchkit_watch", None)
    if ms is None:
        ini = str(config.getini("patchkit_watch") or "").strip()
        ms = _milliseconds(ini, "patchkit_watch") if ini else None
    if ms is not None:
        config.pluginmanager.register(HubWatch(ms / 1000.0), "patchkit-watch")


class HubWatch:
    """Registered only with --patchkit-watch: times the hub around each test's call phase."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        import patchkit

        with patchkit.watch(threshold=self.threshold) as watch:
            result = yield
        stalls = [f for f in watch.findings() if f.code == "PK302"]
        if stalls:
            pytest.fail(self.report(stalls), pytrace=False)
        return result

    def report(self, stalls: list[Any]) -> str:
        lines = [f"patchkit: the gevent hub was blocked for longer than "
                 f"{self.threshold * 1000:g} ms during this test"]  # fmt: skip
        for finding in stalls:
            lines.append(f"PK302 {finding.message}")
            lines.extend(f"    {frame}" for frame in _own_frames(finding.stack))
        return "\n".join(lines)


_RUNNER_FRAMES = (f"{os.sep}_pytest{os.sep}", f"{os.sep}pluggy{os.sep}")


def _own_frames(stack: tuple[str, ...]) -> list[str]:
    """The test's frames: pytest's and pluggy's own calls above it say nothing to the reader."""
    return [frame for frame in stack if not any(part in frame for part in _RUNNER_FRAMES)]
