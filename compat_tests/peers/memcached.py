"""A memcached server on a free port, behind the delaying proxy: each request lasts WAIT_S.

``port`` is the proxy (what clients use); ``direct_port`` reaches memcached itself, for setup
that should not pay the delay.
"""

from __future__ import annotations

from compat_tests.peers._delay_proxy import (
    HOST,
    ask,
    delay_proxy,
    find_binary,
    free_port,
    spawn,
    temp_dir,
    wait_until,
)


def start() -> dict:
    binary = find_binary(
        "memcached", "memcached", ("/usr/bin/memcached", "/opt/homebrew/bin/memcached")
    )
    tmp = temp_dir("memcached")
    port = free_port()
    log = tmp / "memcached.log"
    # -U 0: no UDP listener; -u root: memcached refuses to run as root without being told to.
    argv = [binary, "-l", HOST, "-p", str(port), "-U", "0", "-m", "16", "-c", "256", "-u", "root"]
    proc = spawn(argv, tmp, log)
    wait_until(proc, lambda: ask(port, b"version\r\n").startswith(b"VERSION"), "memcached", log, 20)
    return {"port": delay_proxy(port), "direct_port": port, "_proc": proc}
