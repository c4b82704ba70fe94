"""A real (pre-patch) lock taken twice inside a greenlet: the hub deadlocks."""

import threading

LOCK = threading.Lock()  # made before patching: a real OS lock

from gevent import monkey  # noqa: E402

monkey.patch_all()

import gevent  # noqa: E402


def handler():
    with LOCK:
        helper()


def helper():
    with LOCK:  # the second acquire never returns
        pass


gevent.spawn(handler).join()
