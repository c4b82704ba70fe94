"""Two real Celery workers on their own queues: ``-P threads -c 20`` and ``-P gevent -c 20``.

The threads worker always runs 20 tasks at once, so a row that uses it measures only the
client. The gevent worker is the deployment users ask about: whether it runs the tasks of one
burst concurrently is part of its row's measurement. Both are ready once a task sent to each
came back through the result backend: the whole path works before any probe starts.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from compat_tests.peers._tethered import spawn

POOLS = ("threads", "gevent")
READY_S = 40


def start() -> dict:
    from compat_tests.peers.celery_app import TASK, make_app, urls

    if shutil.which("celery", path=os.path.dirname(sys.executable)) is None:
        raise RuntimeError("celery is not installed (pip install 'celery[redis]')")
    work = Path(tempfile.mkdtemp(prefix="patchkit-celery-"))
    queues, procs = {}, []
    for pool in POOLS:
        queue = f"patchkit.compat.celery.{pool}"  # fixed: durable queues would pile up
        cmd = [sys.executable, "-m", "celery", "-A", "compat_tests.peers.celery_app",
               "worker", "-P", pool, "-c", "20", "-Q", queue,
               "-n", f"{pool}-{os.getpid()}@patchkit", "-l", "WARNING",
               "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
        procs.append(spawn(cmd, work / f"{pool}.log"))
        queues[pool] = queue
    app = make_app()
    pending = {pool: app.send_task(TASK, queue=queue) for pool, queue in queues.items()}
    for pool, result in pending.items():
        try:
            result.get(timeout=READY_S)
        except Exception as exc:
            log = (work / f"{pool}.log").read_text(errors="replace")[-400:]
            raise RuntimeError(
                f"the celery -P {pool} worker did not run a task: {exc}; {log}"
            ) from exc
    broker, backend = urls()
    return {"broker": broker, "backend": backend, "task": TASK, "queues": queues,
            "_procs": procs, "_app": app}  # fmt: skip
