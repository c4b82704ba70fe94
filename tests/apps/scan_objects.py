"""PK105: objects made before patching that keep OS-thread behaviour."""

import selectors
import threading

STATS_LOCK = threading.Lock()
REGISTRY_LOCK = threading.RLock()
request = threading.local()
SELECTOR = selectors.DefaultSelector()


class Cache:
    lock = threading.Lock()
