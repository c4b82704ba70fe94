"""docs/recipes.md's uWSGI recipe, run for real: ``--gevent N`` serving overlapping requests.

Two ways to patch: ``import patchkit.auto`` first in the WSGI file (the project's profile,
recorded as ``patchkit.apply``), or ``--gevent-early-monkey-patch`` (uWSGI's ``patch_all()``
before the app loads). Either way 5 concurrent requests to a handler that sleeps 0.3 s finish
together, in well under the 1.5 s they take one after another.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, clean_env, http_get, write

UWSGI = Path(sys.executable).parent / "uwsgi"
if not UWSGI.exists():
    pytest.skip(
        "uwsgi is not installed (pip install uwsgi: it builds with gcc and the Python headers)",
        allow_module_level=True,
    )

APP = """
    import json
    import time

    import patchkit


    def application(environ, start_response):
        time.sleep(0.3)
        request = patchkit.state().as_dict()["requests"][-1]
        body = json.dumps({"function": request["function"], "profile": request["profile"]})
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body.encode()]
"""
REQUESTS = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_overlapping(cwd: Path, *flags: str) -> tuple[float, dict[str, Any]]:
    port = _free_port()
    proc = subprocess.Popen(
        [str(UWSGI), "--http-socket", f"127.0.0.1:{port}", "--gevent", "10", "--wsgi-file",
         "wsgi.py", "--need-app", "--die-on-term", "--virtualenv", sys.prefix,
         "--pythonpath", str(REPO), *flags],
        cwd=cwd, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = json.loads(http_get(port, 30))  # up and patched
        started = time.monotonic()
        with ThreadPoolExecutor(REQUESTS) as pool:
            list(pool.map(lambda _: json.loads(http_get(port, 10)), range(REQUESTS)))
        return time.monotonic() - started, first
    except OSError:
        proc.kill()
        pytest.fail(f"uwsgi did not serve: {proc.communicate(timeout=10)[1][-3000:]}")
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate(timeout=10)


def test_patchkit_auto_first_in_the_wsgi_file(tmp_path: Path) -> None:
    write(tmp_path / "wsgi.py", "import patchkit.auto  # noqa: F401\n" + textwrap.dedent(APP))
    elapsed, answer = serve_overlapping(tmp_path)
    assert elapsed < REQUESTS * 0.3 * 0.6, f"requests did not overlap: {elapsed:.2f} s"
    assert answer == {"function": "patchkit.apply", "profile": "full"}


def test_gevent_early_monkey_patch(tmp_path: Path) -> None:
    write(tmp_path / "wsgi.py", APP)
    elapsed, answer = serve_overlapping(tmp_path, "--gevent-early-monkey-patch")
    assert elapsed < REQUESTS * 0.3 * 0.6, f"requests did not overlap: {elapsed:.2f} s"
    assert answer["function"] == "gevent.monkey.patch_all", answer


def test_without_patching_requests_queue_up(tmp_path: Path) -> None:
    """The control: --gevent alone does not patch, so the handler's sleep serializes them."""
    ledger = 'request = patchkit.state().as_dict()["requests"][-1]'
    write(tmp_path / "wsgi.py", APP.replace(ledger, "request = {'function': 0, 'profile': 0}"))
    elapsed, answer = serve_overlapping(tmp_path)
    assert elapsed >= REQUESTS * 0.3 * 0.9, f"unpatched requests overlapped: {elapsed:.2f} s"
