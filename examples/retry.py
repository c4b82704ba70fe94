"""A helper module of the leaky app: it binds ``sleep`` at import time, before patching."""

from time import sleep


def with_retries(call, attempts=3, delay=0.15):
    """Call ``call`` until it succeeds, sleeping ``delay`` between attempts."""
    for attempt in range(attempts):
        try:
            return call()
        except ConnectionError:
            if attempt == attempts - 1:
                raise
            sleep(delay)  # the original time.sleep: the whole hub stops here
    return None
