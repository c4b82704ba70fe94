"""A real server binary behind a delaying TCP proxy: how the server-binary peers make a wait.

memcached, slapd and ZooKeeper answer in microseconds and have no "sleep" request, so the
peer puts a proxy between the client and the server that forwards each client->server chunk
WAIT_S after it arrived (replies come back at once). One request then lasts WAIT_S, whatever
the protocol. Each chunk is delayed from its own arrival, not queued behind the previous
chunk's delay, so pipelined requests and keep-alive pings do not add up.

The server runs in the peer's process group (the suite kills the whole group) and also gets
SIGKILL through PR_SET_PDEATHSIG when the peer dies, so it never outlives the suite.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from compat_tests import WAIT_S

HOST = "127.0.0.1"
CHUNK = 65536
_PR_SET_PDEATHSIG = 1


def find_binary(name: str, package: str, candidates: Sequence[str] = ()) -> str:
    """The server binary: ``$PATCHKIT_COMPAT_<NAME>_BIN``, then PATH, then ``candidates``.

    Raises RuntimeError naming the binary and the Debian package, which the suite turns into
    the case's skip reason.
    """
    override = os.environ.get(f"PATCHKIT_COMPAT_{name.upper()}_BIN")
    found = [override] if override else [shutil.which(name), *candidates]
    for path in found:
        if path and os.access(path, os.X_OK) and Path(path).is_file():
            return path
    where = override or ", ".join(["PATH", *candidates])
    raise RuntimeError(
        f"{name} is not installed (looked in {where}): install the Debian package {package} "
        "(tools/ci_services.sh does)"
    )


def temp_dir(kind: str) -> Path:
    """A fresh ``patchkit-<kind>-*`` directory inside the peer's scratch directory.

    ``compat_tests._peers.main`` removes the scratch directory when the peer ends, and the next
    peer removes one a killed peer left, so nothing here has to clean up.
    """
    return Path(tempfile.mkdtemp(prefix=f"patchkit-{kind}-"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(argv: Sequence[str], cwd: Path, log: Path) -> subprocess.Popen:
    """Start a server that dies with this process; its output goes to ``log``."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            list(argv), cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )  # fmt: skip


def wait_until(
    proc: subprocess.Popen, answers: Callable[[], bool], what: str, log: Path, timeout_s: float
) -> None:
    """Poll ``answers()`` until it is true; raise with the server's log tail if it never is."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with contextlib.suppress(OSError):
            if answers():
                return
        time.sleep(0.1)
    proc.kill()
    tail = log.read_bytes().decode(errors="replace").strip()[-400:] if log.exists() else ""
    raise RuntimeError(f"{what} did not answer within {timeout_s:.0f} s: {tail}")


def ask(port: int, request: bytes, timeout_s: float = 2.0) -> bytes:
    """Send ``request`` to the server and return what it answers (up to one read)."""
    with socket.create_connection((HOST, port), timeout=timeout_s) as sock:
        sock.sendall(request)
        return sock.recv(CHUNK)


def _pump_delayed(src: socket.socket, dst: socket.socket) -> None:
    """src -> dst, each chunk WAIT_S after it arrived; a writer thread keeps reads timely."""
    chunks: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()

    def write() -> None:
        while True:
            due, data = chunks.get()
            if not data:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            try:
                dst.sendall(data)
            except OSError:
                break
        _close(src, dst)

    threading.Thread(target=write, daemon=True).start()
    while True:
        try:
            data = src.recv(CHUNK)
        except OSError:
            data = b""
        chunks.put((time.monotonic() + WAIT_S, data))
        if not data:
            return


def _pump(src: socket.socket, dst: socket.socket) -> None:
    while True:
        try:
            data = src.recv(CHUNK)
            if not data:
                break
            dst.sendall(data)
        except OSError:
            break
    _close(src, dst)


def _close(*socks: socket.socket) -> None:
    for sock in socks:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _serve(listener: socket.socket, upstream_port: int) -> None:
    while True:
        client, _ = listener.accept()
        try:
            server = socket.create_connection((HOST, upstream_port), timeout=10)
        except OSError:
            client.close()
            continue
        server.settimeout(None)
        for sock in (client, server):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_pump_delayed, args=(client, server), daemon=True).start()
        threading.Thread(target=_pump, args=(server, client), daemon=True).start()


def delay_proxy(upstream_port: int) -> int:
    """Listen on a free port; forward to ``upstream_port`` with each request WAIT_S late."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, 0))
    listener.listen(128)
    threading.Thread(target=_serve, args=(listener, upstream_port), daemon=True).start()
    return listener.getsockname()[1]
