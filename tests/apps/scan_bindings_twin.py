"""PK103's harmless twin: call-time lookups, and captures of originals measured harmless."""

import queue
import socket
import subprocess
import threading
import time

CONFIG = {"queue": queue.Queue, "connect": socket.create_connection, "run": subprocess.check_output}


class Poller:
    event_class = threading.Event
    lock_factory = staticmethod(threading.RLock)

    def wait(self, seconds):
        time.sleep(seconds)


def retry(seconds, queue_class=queue.LifoQueue):
    time.sleep(seconds)
