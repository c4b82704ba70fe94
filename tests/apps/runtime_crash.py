"""Blocks the hub with a stale sleep, then raises: the report must still be complete."""

from time import sleep

from gevent import monkey

monkey.patch_all()

import gevent  # noqa: E402


def work():
    sleep(0.3)


gevent.spawn(work).join()
raise ValueError("boom")
