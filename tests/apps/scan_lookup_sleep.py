"""PK102's harmless twin: looks time.sleep up at call time, so it gets the patched one."""

import time


def backoff(seconds):
    time.sleep(seconds)
