"""Fixtures of the compatibility suite: the profile under test, peers, probes and the verdict.

Run it once per profile, patched before pytest imports anything::

    python -m patchkit run --profile full -m pytest compat_tests

Results go, one JSON object a line, to ``$PATCHKIT_COMPAT_RESULTS`` when it is set
(tools/matrix.py merges them). A measured outcome that differs from compat_tests/expected.toml
fails the test, showing both.

With pytest-xdist (``-n 4``) each worker is a plain, unpatched interpreter started by the
patched controller: the profile reaches it through ``PATCHKIT_COMPAT_PROFILE`` (set here before
the workers start), each worker starts its own peers, and every cell is one ``O_APPEND`` write
of one line, so the workers' lines never interleave. The probes, where the measuring happens,
apply the profile themselves either way.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from compat_tests._runner import PeerPool, PeerUnavailable, run_probe
from compat_tests.cases import Case
from compat_tests.expected import expected_outcome
from compat_tests.services import service

RESULTS_ENV = "PATCHKIT_COMPAT_RESULTS"
PROFILE_ENV = "PATCHKIT_COMPAT_PROFILE"
CELL_PROPERTY = "patchkit_compat_cell"
_measured: list[dict[str, Any]] = []


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        # The controller runs under `patchkit run`: pass its profile to the xdist workers.
        os.environ[PROFILE_ENV] = applied_profile()
    # Peers and probes are started with fork+exec from a process that has gevent's resolver
    # threads: the child execs at once, so the fork-with-threads hazard does not apply.
    config.addinivalue_line(
        "filterwarnings", "ignore:This process .* is multi-threaded:DeprecationWarning"
    )


def applied_profile() -> str:
    """The profile this process runs under, as patchkit's ledger recorded it."""
    import patchkit

    requests = patchkit.state().as_dict().get("requests") or []
    named = [r.get("profile") for r in requests if r.get("profile")]
    return named[-1] if named else os.environ.get(PROFILE_ENV, "none")


@pytest.fixture(scope="session")
def profile() -> str:
    return applied_profile()


@pytest.fixture(scope="session")
def peers() -> Iterator[PeerPool]:
    pool = PeerPool()
    try:
        yield pool
    finally:
        pool.close()


def _environment() -> dict[str, str]:
    import gevent

    return {
        "python": platform.python_version(),
        "gevent": gevent.__version__,
        "platform": sys.platform,
    }


def _record(cell: dict[str, Any]) -> None:
    path = os.environ.get(RESULTS_ENV)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One write() of the whole line on an O_APPEND descriptor: xdist workers share the file.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (json.dumps(cell) + "\n").encode())
        finally:
            os.close(fd)


def _skip_reason(case: Case, peers: PeerPool) -> str | None:
    reason = case.missing()
    for name in case.services:
        reason = reason or service(name).unreachable()
    if reason:
        return reason
    try:
        for kind in case.peers:
            peers.get(kind)
    except PeerUnavailable as exc:
        return str(exc)
    return None


@pytest.fixture
def compat(profile: str, peers: PeerPool, request: pytest.FixtureRequest) -> Callable[[Case], None]:
    """Measure ``case`` under this profile, record the cell, compare with expected.toml."""

    def check(case: Case) -> None:
        reason = _skip_reason(case, peers)
        if reason:
            pytest.skip(reason)
        want = expected_outcome(case.library, profile, gevent=_environment()["gevent"])
        info = {kind: peers.get(kind) for kind in case.peers}
        result = run_probe(case, profile, info)
        if want is not None and result["outcome"] != want:
            # One more measurement before calling a change, with no other probe running: timing
            # on a loaded machine (parallel probes included) is noisy.
            first = result
            result = run_probe(case, profile, info, alone=True)
            result["detail"] += (
                f" (measured again alone; a first run alongside other probes measured "
                f"{first['outcome']}: {first['detail']})"
            )
        cell = {"library": case.library, "version": case.version(), "profile": profile,
                **result, "expected": want, **_environment()}  # fmt: skip
        _record(cell)
        # The report carries the cell to the controller's summary (xdist workers too).
        request.node.user_properties.append((CELL_PROPERTY, cell))
        assert want is not None, (
            f"no expected outcome for ({case.library!r}, {profile!r}) in "
            f"compat_tests/expected.toml; measured {result['outcome']}: {result['detail']}"
        )
        assert result["outcome"] == want, (
            f"{case.library} under {profile!r}: expected {want}, measured {result['outcome']}"
            f" (factor {result['factor']}, longest hub stall {result['max_stall_s']} s): "
            f"{result['detail']}"
        )

    return check


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":  # setup and teardown reports carry the same properties
        return
    _measured.extend(value for name, value in report.user_properties if name == CELL_PROPERTY)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    _report_skips(terminalreporter)
    if not _measured:
        return
    terminalreporter.section("patchkit compatibility")
    for cell in _measured:
        factor = "-" if cell["factor"] is None else f"{cell['factor']:.1f}"
        stall = "-" if cell["max_stall_s"] is None else f"{cell['max_stall_s']:.3f}"
        terminalreporter.write_line(
            f"{cell['library']:<40} {cell['profile']:<9} {cell['outcome']:<12} "
            f"factor {factor:>5}  stall {stall:>6} s"
        )


def _report_skips(terminalreporter: Any) -> None:
    """Why each case was skipped, in the normal output: a library not measured is a gap in the
    matrix, and "s" in the progress line does not say which or why (``-rs`` already does)."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped or "s" in getattr(terminalreporter, "reportchars", ""):
        return
    terminalreporter.section("patchkit compatibility: skipped")
    for report in skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        terminalreporter.write_line(f"SKIPPED {report.nodeid}: {reason}")
