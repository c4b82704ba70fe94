"""PK105's harmless twin: made lazily after patching; a logging handler gevent converts itself."""

import logging
import threading

HANDLER = logging.StreamHandler()
logging.getLogger("scan_objects_twin").addHandler(HANDLER)
_lock = None


def stats_lock():
    global _lock
    if _lock is None:
        _lock = threading.Lock()
    return _lock
