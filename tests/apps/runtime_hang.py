"""Hangs cooperatively after starting a grandchild process; writes both pids to argv[1]."""

import subprocess
import sys

import gevent

child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
with open(sys.argv[1], "w") as handle:
    handle.write(f"{__import__('os').getpid()} {child.pid}\n")


def wait_forever():
    gevent.sleep(3600)


gevent.spawn(wait_forever).join()
