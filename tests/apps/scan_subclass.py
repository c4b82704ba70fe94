"""PK104: a threading.Thread subclass defined before patching."""

import threading


class Worker(threading.Thread):
    def run(self):
        self.result = "done"
