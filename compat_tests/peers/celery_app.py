"""The Celery app the worker peers run (``celery -A compat_tests.peers.celery_app worker``).

One task, ``patchkit.compat.wait``, that takes WAIT_S with ``time.sleep``: in a ``-P threads``
worker each task has its own thread, in a ``-P gevent`` worker celery has monkey-patched the
worker process before loading this module, so the sleep yields to the worker's other tasks.
Broker RabbitMQ, result backend Redis: the suite's services.
"""

from __future__ import annotations

import time

from celery import Celery

from compat_tests import WAIT_S
from compat_tests.services import service

TASK = "patchkit.compat.wait"


def urls() -> tuple[str, str]:
    """(broker, result backend) of the suite's RabbitMQ and Redis."""
    amqp, redis = service("amqp"), service("redis")
    creds = amqp.creds
    broker = f"amqp://{creds['user']}:{creds['password']}@{amqp.host}:{amqp.port}//"
    return broker, f"redis://{redis.host}:{redis.port}/0"


def make_app() -> Celery:
    broker, backend = urls()
    app = Celery("patchkit_compat", broker=broker, backend=backend)
    app.conf.update(
        result_expires=300,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    return app


app = make_app()


@app.task(name=TASK)
def wait() -> bool:
    time.sleep(WAIT_S)
    return True
