"""A Thrift service ``Waiter { void wait() }`` whose ``wait`` takes WAIT_S, on TThreadedServer.

Both sides are written by hand against thrift's protocol API (what the thrift compiler would
generate for that one method), so the suite needs no compiler and no generated files. The probe
uses ``call_wait`` as its client.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from compat_tests import WAIT_S

METHOD = "wait"


def _write_empty_struct(prot: Any, name: str) -> None:
    prot.writeStructBegin(name)
    prot.writeFieldStop()
    prot.writeStructEnd()


def call_wait(prot: Any, seqid: int) -> None:
    """Client side of ``wait()``: one CALL, then read its REPLY (or raise the server's error)."""
    from thrift.Thrift import TApplicationException, TMessageType, TType

    prot.writeMessageBegin(METHOD, TMessageType.CALL, seqid)
    _write_empty_struct(prot, "wait_args")
    prot.writeMessageEnd()
    prot.trans.flush()
    name, kind, got = prot.readMessageBegin()
    if kind == TMessageType.EXCEPTION:
        error = TApplicationException()
        error.read(prot)
        prot.readMessageEnd()
        raise error
    prot.skip(TType.STRUCT)  # wait_result: void, no fields
    prot.readMessageEnd()
    if (name, got) != (METHOD, seqid):
        raise RuntimeError(f"thrift reply to {name!r} #{got}, expected {METHOD!r} #{seqid}")


class _Processor:
    """Server side: what a generated ``Waiter.Processor`` does for its one method."""

    def process(self, iprot: Any, oprot: Any) -> bool:
        from thrift.Thrift import TMessageType, TType

        name, _, seqid = iprot.readMessageBegin()
        iprot.skip(TType.STRUCT)
        iprot.readMessageEnd()
        time.sleep(WAIT_S)  # this connection's own thread: other connections go on
        oprot.writeMessageBegin(name, TMessageType.REPLY, seqid)
        _write_empty_struct(oprot, "wait_result")
        oprot.writeMessageEnd()
        oprot.trans.flush()
        return True


def start() -> dict:
    from thrift.protocol import TBinaryProtocol
    from thrift.server import TServer
    from thrift.transport import TSocket, TTransport

    class BoundOnce(TSocket.TServerSocket):
        # serve() calls listen() again; binding once here lets start() learn the port first.
        def listen(self) -> None:
            if self.handle is None:
                super().listen()

    transport = BoundOnce(host="127.0.0.1", port=0)
    transport.listen()
    server = TServer.TThreadedServer(
        _Processor(), transport, TTransport.TBufferedTransportFactory(),
        TBinaryProtocol.TBinaryProtocolFactory(), daemon=True,
    )  # fmt: skip
    threading.Thread(target=server.serve, daemon=True).start()
    return {"port": transport.handle.getsockname()[1]}
