"""PK103: originals held by a class attribute, a default, a closure and a config dict."""

import selectors
import time
from time import sleep as _sleep

DEFAULT_CONFIG = {
    "retries": 3,
    "selector": selectors.DefaultSelector,
}


class Poller:
    wait = staticmethod(time.sleep)
    nap = classmethod(time.sleep)
    SETTINGS = {"sleep": time.sleep}

    def tick(self, seconds, sleep=time.sleep):
        sleep(seconds)


def retry(seconds, sleep=time.sleep):
    sleep(seconds)


def make_waiter():
    pause = time.sleep

    def wait(seconds):
        pause(seconds)

    return wait


waiter = make_waiter()
