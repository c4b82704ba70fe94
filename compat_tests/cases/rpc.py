"""RPC and DNS clients with their own I/O engines: gRPC core, libzmq, dnspython."""

from __future__ import annotations

from compat_tests.cases import Context, case

GRPC = {"dists": ("grpcio",), "modules": ("grpc",), "peers": ("grpc",)}
ZMQ = {"dists": ("pyzmq",), "modules": ("zmq",), "peers": ("zmq",)}


def _grpc_wait(ctx: Context):
    import grpc

    peer = ctx.peers["grpc"]
    channel = grpc.insecure_channel(f"127.0.0.1:{peer['port']}")
    grpc.channel_ready_future(channel).result(timeout=30)
    call = channel.unary_unary(peer["method"])

    def wait(i: int) -> None:
        assert call(b"ping", timeout=30) == b"ping"

    return wait


@case(
    "grpcio",
    "unary call answered in 0.2 s",
    **GRPC,
    fix="Add the `grpc` integration (`grpc.experimental.gevent.init_gevent()` after patching).",
)
def grpc_plain(ctx: Context):
    return _grpc_wait(ctx)


@case(
    "grpcio+init_gevent",
    "unary call answered in 0.2 s",
    **GRPC,
    fix="Nothing: cooperative in every profile.",
)
def grpc_init_gevent(ctx: Context):
    import grpc.experimental.gevent

    grpc.experimental.gevent.init_gevent()
    return _grpc_wait(ctx)


def _zmq_wait(zmq, ctx: Context):
    context = zmq.Context()
    sockets = []
    for _ in range(ctx.n):
        sock = context.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(f"tcp://127.0.0.1:{ctx.peers['zmq']['port']}")
        sockets.append(sock)

    def wait(i: int) -> None:
        sockets[i].send(b"ping")
        assert sockets[i].recv() == b"ping"

    return wait


@case("pyzmq", "REQ/REP round trip answered in 0.2 s", **ZMQ, fix="`import zmq.green as zmq`.")
def zmq_plain(ctx: Context):
    import zmq

    return _zmq_wait(zmq, ctx)


@case(
    "zmq.green",
    "REQ/REP round trip answered in 0.2 s",
    **ZMQ,
    fix="Nothing: cooperative in every profile.",
)
def zmq_green(ctx: Context):
    import zmq.green

    return _zmq_wait(zmq.green, ctx)


@case(
    "dnspython",
    "dns.query.udp answered in 0.2 s by a local DNS server",
    dists=("dnspython",),
    modules=("dns",),
    peers=("dns",),
    fix="Patch `socket` (every profile but `none`) before the library is imported.",
)
def dnspython_query(ctx: Context):
    import dns.message
    import dns.query

    port = ctx.peers["dns"]["port"]

    def wait(i: int) -> None:
        query = dns.message.make_query(f"w{i}.compat.test.", "A")
        answer = dns.query.udp(query, "127.0.0.1", port=port, timeout=30)
        assert answer.answer, answer

    return wait
