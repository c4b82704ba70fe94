"""Pure-Python HTTP clients against a local server that answers each GET after 0.2 s."""

from __future__ import annotations

from compat_tests.cases import Context, case


@case(
    "requests",
    "requests GET answered in 0.2 s",
    dists=("requests",),
    modules=("requests",),
    peers=("http",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def requests_get(ctx: Context):
    import requests

    sessions = [requests.Session() for _ in range(ctx.n)]
    url = ctx.peers["http"]["url"] + "wait"

    def wait(i: int) -> None:
        response = sessions[i].get(url, timeout=30)
        assert response.status_code == 200 and response.text == "ok\n"

    return wait


@case(
    "urllib3",
    "PoolManager GET answered in 0.2 s",
    dists=("urllib3",),
    modules=("urllib3",),
    peers=("http",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def urllib3_get(ctx: Context):
    import urllib3

    pool = urllib3.PoolManager(maxsize=ctx.n)
    url = ctx.peers["http"]["url"] + "wait"

    def wait(i: int) -> None:
        response = pool.request("GET", url, timeout=30)
        assert response.status == 200 and response.data == b"ok\n"

    return wait


@case(
    "httpx",
    "httpx.Client GET answered in 0.2 s",
    dists=("httpx",),
    modules=("httpx",),
    peers=("http",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def httpx_get(ctx: Context):
    import httpx

    clients = [httpx.Client(timeout=30) for _ in range(ctx.n)]
    url = ctx.peers["http"]["url"] + "wait"

    def wait(i: int) -> None:
        response = clients[i].get(url)
        assert response.status_code == 200 and response.text == "ok\n"

    return wait
