"""Imported by static_chain.py before patching."""

import threading
from time import sleep  # noqa: F401

LOCK = threading.RLock()


class Worker(threading.Thread):
    pass
