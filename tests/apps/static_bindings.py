"""Patches late: bindings the runtime scan reports, and the static audit must predict."""

import selectors
import socket
import threading
import time
from time import sleep as _sleep

LOCK = threading.Lock()
LOCAL = threading.local()
SELECTOR = selectors.DefaultSelector()
pause = time.sleep
CONFIG = {"retries": 3, "wait": time.sleep}


class Poller:
    wait = staticmethod(time.sleep)

    def tick(self, seconds, sleep=time.sleep):
        sleep(seconds)


class Conn(socket.socket):
    pass


def retry(seconds, sleep=_sleep):
    sleep(seconds)


def make_waiter():
    nap = time.sleep

    def wait(seconds):
        nap(seconds)

    return wait


waiter = make_waiter()

from gevent import monkey  # noqa: E402

monkey.patch_all()
