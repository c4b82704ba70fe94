"""Imports patch targets but binds nothing from them: not a PK101 finding."""

import socket
import threading
import time


def now():
    return time.time(), socket.gethostname(), threading.get_ident()
