"""An S3-compatible server (moto's server mode) whose every answer comes 0.2 s late.

moto answers at once; a real S3 wait is the network and the service. The delay wraps moto's WSGI
application, so each request is answered WAIT_S after it arrived, in its own server thread
(werkzeug's threaded server, as ``moto.server.ThreadedMotoServer`` builds it, on a free port).
The peer creates one bucket holding one small object before it reports ready.
"""

from __future__ import annotations

import logging
import threading
import time

from compat_tests import WAIT_S

BUCKET = "patchkit-compat"
KEY = "wait.txt"
BODY = b"ok\n"
CREDENTIALS = {
    "aws_access_key_id": "patchkit",
    "aws_secret_access_key": "patchkit",
}  # moto takes any
REGION = "us-east-1"


def _delayed(app):
    def delayed(environ, start_response):
        time.sleep(WAIT_S)
        return app(environ, start_response)

    return delayed


def start() -> dict:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request on stderr
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        "127.0.0.1", 0, _delayed(app), threaded=True, request_handler=MotoRequestHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    _put_object(url)
    return {"url": url, "bucket": BUCKET, "key": KEY, "body": BODY.decode(), "region": REGION,
            **CREDENTIALS, "_keep": server}  # fmt: skip


def _put_object(url: str) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=url, region_name=REGION, **CREDENTIALS)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=BODY)
