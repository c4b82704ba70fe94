"""Measure every row of the harm table: the pre-patch original against its patched twin.

Each probe runs in a fresh interpreter: the original is captured before ``patch_all()``, then the
probe runs in a greenlet next to a heartbeat greenlet, once with the original and once with the
patched object. A harmful row must show its harm with the original and not with the twin; a
harmless row must show nothing either way.
"""

from __future__ import annotations

import textwrap

import pytest

from patchkit.detect.originals import ORIGINALS, Original
from tests.helpers import HUB_GAP, json_from_stdout, run_python

STALL = 0.25  # the probes block for 0.3 s; a cooperative run keeps gaps near 0.01 s
QUIET = 0.15  # a cooperative run keeps gaps near 0.01 s; margin for a loaded machine

HARNESS = """
import importlib, json, socket, sys, time
mod = importlib.import_module({module!r})
original = getattr(mod, {name!r})
from gevent import monkey
monkey.patch_all()
import gevent, select, selectors, ssl, subprocess
patched = getattr(importlib.import_module({module!r}), {name!r}, None)
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(8)
srv = listener.getsockname()

def probe(obj, srv):
{body}

{hub_gap}

def measure(obj):
    res = hub_gap(probe, obj, srv, timeout=2)
    return {{"error": res["error"], "seen": res["value"], "gap": res["gap"]}}

twin = None if patched is None else measure(patched)
print(json.dumps({{"original": measure(original), "patched": twin}}))
"""


def measure(row: Original) -> dict[str, dict]:
    body = textwrap.indent(row.probe or "", "    ")
    code = HARNESS.format(module=row.module, name=row.name, body=body, hub_gap=HUB_GAP)
    proc = run_python(code, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json_from_stdout(proc)


def harm_seen(result: dict) -> str | None:
    if result["error"] in ("LoopExit", "Timeout"):
        return "hang"
    if result["error"]:
        return result["error"]
    if result["seen"]:
        return result["seen"]
    if result["gap"] >= STALL:
        return "stall"
    return None


PROBED = [row for row in ORIGINALS if row.probe]
NAMED_HARMS = ("stall", "hang", "leak", "shared")


def saved_here() -> set[str]:
    code = """
    import json
    from gevent import monkey
    monkey.patch_all()
    print(json.dumps({m: sorted(v) for m, v in monkey.saved.items() if not m.startswith("_g")}))
    """
    saved = json_from_stdout(run_python(code))
    return {f"{m}.{n}" for m, names in saved.items() for n in names}


@pytest.fixture(scope="module")
def saved() -> set[str]:
    return saved_here()


@pytest.mark.parametrize("row", PROBED, ids=[row.key for row in PROBED])
def test_original_behaves_as_the_harm_table_says(row: Original, saved: set[str]) -> None:
    if row.key not in saved:
        pytest.skip(f"gevent does not replace {row.key} on this Python")
    result = measure(row)
    seen = harm_seen(result["original"])
    if row.harm_here == "broken":  # the exception differs between Python versions
        assert seen is not None and seen not in NAMED_HARMS, result
    else:
        assert seen == row.harm_here, result
    twin = result["patched"]  # None where gevent removes the name (select.epoll)
    assert twin is None or harm_seen(twin) is None and twin["gap"] < QUIET, result


# Harm that needs more than a loopback socket to show (a slow DNS server, a forked child's hub):
# these rows say "reasoned" and why; every other harmful row must carry a probe.
UNMEASURED = {
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyname_ex",
    "socket.gethostbyaddr",
    "socket.getnameinfo",
    "os.fork",
    "os.forkpty",
}


def test_every_harmful_row_has_a_probe_unless_listed_as_reasoned() -> None:
    assert {r.key for r in ORIGINALS if r.harmful and not r.probe} == UNMEASURED


def test_every_original_gevent_saves_has_a_row(saved: set[str]) -> None:
    keys = {row.key for row in ORIGINALS}
    missing = sorted(saved - keys)
    assert not missing, f"add these to patchkit/detect/originals.py: {missing}"
