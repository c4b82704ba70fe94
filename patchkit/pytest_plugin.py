"""The ``patchkit`` pytest plugin: a profile for the run and a watch on the gevent hub per test.

Loaded in every pytest run of an environment where patchkit is installed, so it does nothing
unless asked: no patching, no tracing, no per-test hook. It is asked by

- ``--patchkit-profile P`` or the ini option ``patchkit_profile``: applies profile ``P``
  (``patchkit.apply``) in ``pytest_load_initial_conftests``, before conftest files and test
  modules are imported;
- ``--patchkit-watch[=MS]`` (default 100 ms) or the ini option ``patchkit_watch``: runs each
  test's call phase under ``patchkit.watch`` and fails a test that kept the gevent hub from
  running for longer than MS, showing the stack that held it;
- the marker ``@pytest.mark.patchkit(watch=MS)``: watches that test with its own threshold, even
  without the option. ``@pytest.mark.patchkit_allow_block`` exempts a test from the watch.

The command line wins over the ini file, and a marker over both.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

DEFAULT_WATCH_MS = 100.0
MARKERS = (
    "patchkit(watch=MS): fail this test if it blocks the gevent hub for longer than MS "
    "milliseconds (patchkit's watch; overrides --patchkit-watch and patchkit_watch)",
    "patchkit_allow_block: this test may block the gevent hub (patchkit's watch skips it)",
)


def _milliseconds(value: Any, source: str = "--patchkit-watch") -> float:
    """A finite number of milliseconds in (0, one week]; a usage error otherwise (nan, inf...)."""
    from patchkit.commands import WEEK_S, bounded_number

    try:
        return bounded_number(str(value), upper=WEEK_S * 1000, unit="milliseconds")
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
        "patchkit_profile",
        "as --patchkit-profile P, for every run (the command-line option wins)",
        default="",
    )
    parser.addini(
        "patchkit_watch",
        "as --patchkit-watch=MS, for every run (the command-line option wins)",
        default="",
    )


def _profile(config: pytest.Config) -> tuple[str | None, str]:
    """The profile asked for, and by what (the option, else the ini file's key)."""
    option = getattr(config.known_args_namespace, "patchkit_profile", None)
    if option:
        return option, "--patchkit-profile"
    ini = str(config.getini("patchkit_profile") or "").strip()
    return (ini or None), "patchkit_profile"


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    profile, source = _profile(early_config)
    if profile:
        import patchkit

        try:
            patchkit.apply(profile)
        except patchkit.PatchkitError as exc:
            raise pytest.UsageError(f"{source}: {exc}") from None


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    ms = config.getoption("patchkit_watch", None)
    if ms is None:
        ini = str(config.getini("patchkit_watch") or "").strip()
        ms = _milliseconds(ini, "patchkit_watch") if ini else None
    if ms is not None:
        config.pluginmanager.register(HubWatch(ms / 1000.0), HubWatch.NAME)


def pytest_report_header(config: pytest.Config) -> list[str]:
    profile, source = _profile(config)
    watch = config.pluginmanager.get_plugin(HubWatch.NAME)
    lines = [f"patchkit: profile {profile} (from {source})"] if profile else []
    if watch is not None and watch.threshold is not None:
        lines.append(f"patchkit: hub watch {watch.threshold * 1000:g} ms")
    return lines


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check every ``patchkit`` marker; watch the marked tests even without the option."""
    marked = False
    for item in items:
        marker = item.get_closest_marker("patchkit")
        if marker is not None:
            item.stash[_THRESHOLD] = _marker_threshold(item, marker)
            marked = True
    if marked and config.pluginmanager.get_plugin(HubWatch.NAME) is None:
        config.pluginmanager.register(HubWatch(None), HubWatch.NAME)


_THRESHOLD = pytest.StashKey[float]()


def _marker_threshold(item: pytest.Item, marker: pytest.Mark) -> float:
    where = f"{item.nodeid}: @pytest.mark.patchkit"
    extra = set(marker.kwargs) - {"watch"}
    if marker.args or extra or "watch" not in marker.kwargs:
        raise pytest.UsageError(f"{where}: write @pytest.mark.patchkit(watch=MS)")
    value = marker.kwargs["watch"]
    if isinstance(value, bool):
        raise pytest.UsageError(f"{where}(watch={value!r}): expected milliseconds")
    return _milliseconds(value, f"{where}(watch=...)") / 1000.0


class HubWatch:
    """Registered when some test is watched: times the hub around each test's call phase.

    The rule for synchronous tests, the same whatever ran before: a test that never yields to
    the hub during its call phase is not judged (nothing of its own waited on the hub). A test
    that yields is timed from the start of its call phase, with a hub created there if no
    earlier test created one, so the code it runs before its first yield counts either way.
    """

    NAME = "patchkit-watch"

    def __init__(self, threshold: float | None) -> None:
        self.threshold = threshold  # None: only tests with the marker are watched

    def threshold_for(self, item: pytest.Item) -> float | None:
        if item.get_closest_marker("patchkit_allow_block") is not None:
            return None
        return item.stash.get(_THRESHOLD, self.threshold)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        threshold = self.threshold_for(item)
        if threshold is None:
            return (yield)
        import patchkit

        with _Yields() as yields, patchkit.watch(threshold=threshold) as watch:
            result = yield
        if yields.seen:
            from patchkit.suppress import filter_findings

            stalls = filter_findings(f for f in watch.findings() if f.code == "PK302")
            if stalls:
                pytest.fail(_report(stalls, threshold), pytrace=False)
        return result


class _Yields:
    """Whether the calling thread switched into gevent's hub while this context was open."""

    def __init__(self) -> None:
        self.seen = False
        self._prev: Any = None
        self._trace: Any = None

    def __enter__(self) -> _Yields:
        import gevent
        import greenlet
        from gevent.hub import Hub

        gevent.get_hub()  # every watched test starts with a hub, whatever ran before it
        prev = self._prev = greenlet.gettrace()

        def trace(event: str, args: Any) -> None:
            if not self.seen and isinstance(args[1], Hub):
                self.seen = True
            if prev is not None:
                prev(event, args)

        self._trace = trace
        greenlet.settrace(trace)
        return self

    def __exit__(self, *exc: object) -> None:
        import greenlet

        if greenlet.gettrace() is self._trace:
            greenlet.settrace(self._prev)


def _report(stalls: list[Any], threshold: float) -> str:
    lines = [f"patchkit: the gevent hub was blocked for longer than "
             f"{threshold * 1000:g} ms during this test"]  # fmt: skip
    for finding in stalls:
        lines.append(f"PK302 {finding.message}")
        lines.extend(f"    {frame}" for frame in _own_frames(finding.stack))
    return "\n".join(lines)


_RUNNER_FRAMES = tuple(f"{os.sep}{name}{os.sep}" for name in ("_pytest", "pytest", "pluggy"))


def _own_frames(stack: tuple[str, ...]) -> list[str]:
    """The test's frames: pytest's and pluggy's own calls above it say nothing to the reader."""
    return [frame for frame in stack if not any(part in frame for part in _RUNNER_FRAMES)]
