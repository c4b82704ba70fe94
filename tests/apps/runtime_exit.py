"""Blocks the hub with a stale sleep, then ends with sys.exit(N) or os._exit(N) (argv)."""

import os
import sys
from time import sleep

from gevent import monkey

monkey.patch_all()

import gevent  # noqa: E402


def work():
    sleep(0.3)


gevent.spawn(work).join()
print("about to exit", flush=True)
if sys.argv[1] == "os":
    os._exit(int(sys.argv[2]))
sys.exit(int(sys.argv[2]))
