"""A module-level ThreadPoolExecutor, made at import."""

import time
from concurrent.futures import ThreadPoolExecutor

POOL = ThreadPoolExecutor(max_workers=2)


def use() -> None:
    POOL.submit(time.sleep, 0.01).result(timeout=2)
