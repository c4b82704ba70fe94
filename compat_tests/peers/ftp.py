"""pyftpdlib's FTP server, one thread per session, answering NOOP WAIT_S after it arrived.

NOOP stands for any command a real server takes time over (a directory listing on a slow disk,
a size lookup); delaying one command keeps logins and the other replies immediate.
"""

from __future__ import annotations

import tempfile
import threading
import time

from compat_tests import WAIT_S


def start() -> dict:
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import ThreadedFTPServer

    class SlowNoop(FTPHandler):
        def ftp_NOOP(self, line: str) -> None:
            time.sleep(WAIT_S)  # this session's own thread: other sessions go on
            super().ftp_NOOP(line)

    authorizer = DummyAuthorizer()
    authorizer.add_anonymous(tempfile.mkdtemp(prefix="patchkit-ftp-"))
    SlowNoop.authorizer = authorizer
    server = ThreadedFTPServer(("127.0.0.1", 0), SlowNoop)
    server.max_cons = 256
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return {"port": server.address[1]}
