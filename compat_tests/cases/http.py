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


@case(
    "httplib2",
    "httplib2.Http GET answered in 0.2 s",
    dists=("httplib2",),
    modules=("httplib2",),
    peers=("http",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def httplib2_get(ctx: Context):
    import httplib2

    clients = [httplib2.Http(timeout=30) for _ in range(ctx.n)]
    url = ctx.peers["http"]["url"] + "wait"

    def wait(i: int) -> None:
        response, content = clients[i].request(url, "GET")
        assert response.status == 200 and content == b"ok\n"

    return wait


@case(
    "pycurl",
    "pycurl Curl.perform() GET answered in 0.2 s",
    dists=("pycurl",),
    modules=("pycurl",),
    peers=("http",),
    fix=(
        "pycurl blocks in every profile: libcurl does its I/O in C, where no patch reaches. Use "
        "requests/urllib3/httpx instead, or run each `perform()` in gevent's threadpool "
        "(`gevent.get_hub().threadpool.apply(curl.perform)`)."
    ),
)
def pycurl_get(ctx: Context):
    from io import BytesIO

    import pycurl

    url = ctx.peers["http"]["url"] + "wait"
    handles = []
    for _ in range(ctx.n):
        curl = pycurl.Curl()
        curl.setopt(pycurl.URL, url)
        curl.setopt(pycurl.TIMEOUT, 30)
        handles.append(curl)

    def wait(i: int) -> None:
        body = BytesIO()
        handles[i].setopt(pycurl.WRITEDATA, body)
        handles[i].perform()
        assert handles[i].getinfo(pycurl.RESPONSE_CODE) == 200 and body.getvalue() == b"ok\n"

    return wait


@case(
    "websocket-client",
    "websocket send + echo received 0.2 s later",
    dists=("websocket-client",),
    modules=("websocket",),
    peers=("websocket",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def websocket_client_echo(ctx: Context):
    import websocket

    url = ctx.peers["websocket"]["url"]
    connections = [websocket.create_connection(url, timeout=30) for _ in range(ctx.n)]

    def wait(i: int) -> None:
        message = f"wait {i}"
        connections[i].send(message)
        assert connections[i].recv() == message

    return wait


@case(
    "grequests",
    "grequests.map() of one GET answered in 0.2 s",
    dists=("grequests",),
    modules=("grequests",),
    peers=("http",),
    fix=(
        "`import grequests` itself runs gevent's `monkey.patch_all(thread=False, select=False)`: "
        "it cooperates even under `none` because the import patches socket, ssl, time, os, "
        "subprocess, signal and queue behind your profile's back (under `nothread` it adds "
        "queue, which real threads must not share: see threading+queue). Apply your profile "
        "first and expect that union, or use requests with a gevent Pool instead."
    ),
)
def grequests_get(ctx: Context):
    import grequests  # first: it patches on import, as it would in a user's program
    import requests

    sessions = [requests.Session() for _ in range(ctx.n)]
    url = ctx.peers["http"]["url"] + "wait"

    def wait(i: int) -> None:
        (response,) = grequests.map([grequests.get(url, session=sessions[i], timeout=30)])
        assert response is not None and response.status_code == 200 and response.text == "ok\n"

    return wait
