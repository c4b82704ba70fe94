"""A standalone ZooKeeper on a free port, behind the delaying proxy: each request lasts WAIT_S.

The server is ZooKeeper's own ``ZooKeeperServerMain`` run with java in the foreground, with a
config and data directory in a temporary directory (no admin server, so no port 8080).
``port`` is the proxy, ``direct_port`` ZooKeeper itself. The JVM takes a few seconds to start.
"""

from __future__ import annotations

import glob
import os

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

MAIN = "org.apache.zookeeper.server.ZooKeeperServerMain"
# Debian's zookeeper.jar names its dependencies in its manifest; Homebrew ships a lib directory.
CLASSPATHS = ("/usr/share/java/zookeeper.jar", "/opt/homebrew/opt/zookeeper/libexec/lib/*",
              "/usr/local/opt/zookeeper/libexec/lib/*")  # fmt: skip
START_S = 40.0  # under the suite's 45 s peer start limit; a cold JVM on a busy machine is slow


def _classpath() -> str:
    override = os.environ.get("PATCHKIT_COMPAT_ZOOKEEPER_CLASSPATH")
    for entry in [override] if override else CLASSPATHS:
        if glob.glob(entry):
            return entry
    raise RuntimeError(
        f"ZooKeeper's jar is not installed (looked for {override or ', '.join(CLASSPATHS)}): "
        "install the Debian package zookeeper (tools/ci_services.sh does)"
    )


def _serving(port: int) -> bool:
    # "srvr" says "not currently serving requests" until the database is loaded.
    return b"Mode:" in ask(port, b"srvr")


def start() -> dict:
    java = find_binary("java", "default-jre-headless", ("/usr/bin/java",))
    classpath = _classpath()
    tmp = temp_dir("zookeeper")
    port = free_port()
    (tmp / "data").mkdir()
    conf = tmp / "zoo.cfg"
    conf.write_text(
        "tickTime=2000\n"
        f"dataDir={tmp / 'data'}\n"
        f"clientPort={port}\n"
        f"clientPortAddress={HOST}\n"
        "maxClientCnxns=0\n"
        "admin.enableServer=false\n"
        "4lw.commands.whitelist=srvr\n"
    )
    log = tmp / "zookeeper.log"
    argv = [java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            f"-Dzookeeper.log.dir={tmp}", "-cp", classpath, MAIN, str(conf)]  # fmt: skip
    proc = spawn(argv, tmp, log)
    wait_until(proc, lambda: _serving(port), "ZooKeeper", log, START_S)
    return {"port": delay_proxy(port), "direct_port": port, "_proc": proc}
