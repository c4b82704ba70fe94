"""Threads, thread and process pools, and asyncio, each waited on from greenlets."""

from __future__ import annotations

import time

from compat_tests.cases import Context, case


def nap(seconds: float) -> float:
    """Run in a worker (thread or process); module-level so process pools can pickle it."""
    time.sleep(seconds)
    return seconds


@case(
    "threading+queue",
    "a Thread that sleeps 0.2 s then puts on a queue.Queue",
    fix=(
        "`full` (threads become greenlets). With real threads, do not patch `queue`: a gevent "
        "queue is not woken by another OS thread."
    ),
)
def threading_queue(ctx: Context):
    import queue
    import threading

    def wait(i: int) -> None:
        box: queue.Queue[float] = queue.Queue()
        worker = threading.Thread(target=lambda: box.put(nap(ctx.wait_s)), daemon=True)
        worker.start()
        assert box.get(timeout=30) == ctx.wait_s
        worker.join(timeout=30)

    return wait


@case(
    "concurrent.futures.ThreadPoolExecutor",
    "submit(sleep 0.2 s).result() on a 10-thread pool",
    fix=(
        "`full`, or `gevent.threadpool.ThreadPoolExecutor`. With real threads (`nothread`), also "
        "skip `queue`: the pool's SimpleQueue must stay the stdlib one."
    ),
)
def thread_pool(ctx: Context):
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=ctx.n)
    return lambda i: pool.submit(nap, ctx.wait_s).result(timeout=30)


@case(
    "concurrent.futures.ProcessPoolExecutor",
    "submit(sleep 0.2 s).result() on a 10-process pool",
    fix=(
        "`full` (its waits are green). Elsewhere wait through "
        "`gevent.get_hub().threadpool.spawn(future.result)`."
    ),
)
def process_pool(ctx: Context):
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=ctx.n)
    list(pool.map(nap, [0.0] * ctx.n))  # start the workers before the clock runs
    return lambda i: pool.submit(nap, ctx.wait_s).result(timeout=30)


@case(
    "multiprocessing.Pool",
    "apply(sleep 0.2 s) on a 10-process Pool",
    fix=(
        "Hangs when `thread` or `queue` is patched: use `concurrent.futures.ProcessPoolExecutor` "
        "under `full`, or run the pool outside the patched process (gipc, geventmp)."
    ),
)
def multiprocessing_pool(ctx: Context):
    import multiprocessing

    pool = multiprocessing.Pool(ctx.n)
    pool.map(nap, [0.0] * ctx.n)
    return lambda i: pool.apply_async(nap, (ctx.wait_s,)).get(timeout=30)


@case(
    "asyncio.run",
    "asyncio.run(asyncio.sleep(0.2)) in each greenlet",
    fix=(
        "Do not mix: one asyncio loop per OS thread. Run asyncio code in a real thread "
        "(`gevent.get_hub().threadpool`)."
    ),
)
def asyncio_run(ctx: Context):
    import asyncio

    return lambda i: asyncio.run(asyncio.sleep(ctx.wait_s))
