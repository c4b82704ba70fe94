"""PK102: binds the C time.sleep at import; imported before patching, it blocks the hub."""

from time import sleep


def backoff(seconds):
    sleep(seconds)
