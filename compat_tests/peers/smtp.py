"""A minimal SMTP server that takes WAIT_S to accept each message, like a real MTA's checks.

Enough of RFC 5321 for smtplib's ``sendmail``: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
Only the end of DATA is slow (where real servers queue, scan and sign); the other replies are
immediate, so the wait is the server's and not smtplib's chatter.
"""

from __future__ import annotations

import socketserver
import threading
import time

from compat_tests import WAIT_S

HOST = "127.0.0.1"


class _SMTPHandler(socketserver.StreamRequestHandler):
    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        self._reply("220 patchkit-compat ESMTP")
        for raw in self.rfile:
            verb = raw.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._reply("250-patchkit-compat\r\n250 8BITMIME")
            elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                for line in self.rfile:
                    if line in (b".\r\n", b".\n"):
                        break
                time.sleep(WAIT_S)
                self._reply("250 OK queued")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("502 Command not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def start() -> dict:
    server = _Server((HOST, 0), _SMTPHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return {"port": server.server_address[1]}
