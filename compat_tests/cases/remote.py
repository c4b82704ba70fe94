"""Remote shells, mail and file transfer: each wait is one command a local server takes 0.2 s over.

Connections are opened in setup, so a wait is the command alone: the peer (sshd, an SMTP or FTP
server, an XML-RPC or Thrift service) answers it WAIT_S after it arrived, on a thread or process
of its own, so waits that overlap on the client side overlap on the server too.
"""

from __future__ import annotations

import itertools

from compat_tests.cases import Context, case

TIMEOUT_S = 30


@case(
    "paramiko",
    "exec_command('sleep 0.2') + recv_exit_status() on an open SSH connection (local sshd)",
    dists=("paramiko",),
    modules=("paramiko",),
    peers=("sshd",),
    fix="Use the `full` profile: paramiko's Transport thread reads the socket the caller "
    "opened; with `socket` patched and `thread` not, that gevent socket cannot be used from the "
    "other OS thread (connect() fails: 'Error reading SSH protocol banner').",
)
def paramiko_exec(ctx: Context):
    import paramiko

    peer = ctx.peers["sshd"]
    clients = []
    for _ in range(ctx.n):
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # a throwaway host key
        client.connect("127.0.0.1", peer["port"], username=peer["user"],
                       key_filename=peer["key"], look_for_keys=False, allow_agent=False,
                       timeout=TIMEOUT_S)  # fmt: skip
        clients.append(client)

    def wait(i: int) -> None:
        _, stdout, _ = clients[i].exec_command("sleep 0.2", timeout=TIMEOUT_S)
        status = stdout.channel.recv_exit_status()
        if status != 0:
            raise RuntimeError(f"sleep exited with status {status}")

    return wait


@case(
    "smtplib",
    "sendmail() on an open connection; the server accepts the message 0.2 s after DATA",
    peers=("smtp",),
    fix="Patch `socket` (every profile but `none`).",
)
def smtplib_sendmail(ctx: Context):
    import smtplib

    port = ctx.peers["smtp"]["port"]
    clients = [smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT_S) for _ in range(ctx.n)]
    message = "Subject: patchkit compat\r\n\r\nOne wait.\r\n"

    def wait(i: int) -> None:
        refused = clients[i].sendmail("app@example.invalid", ["ops@example.invalid"], message)
        if refused:
            raise RuntimeError(f"recipients refused: {refused}")

    return wait


@case(
    "ftplib",
    "voidcmd('NOOP') on a logged-in connection, answered in 0.2 s (pyftpdlib)",
    modules=("pyftpdlib",),
    peers=("ftp",),
    fix="Patch `socket` (every profile but `none`).",
)
def ftplib_noop(ctx: Context):
    import ftplib

    port = ctx.peers["ftp"]["port"]
    clients = []
    for _ in range(ctx.n):
        ftp = ftplib.FTP(timeout=TIMEOUT_S)
        ftp.connect("127.0.0.1", port)
        ftp.login()  # anonymous
        clients.append(ftp)

    def wait(i: int) -> None:
        clients[i].voidcmd("NOOP")

    return wait


@case(
    "xmlrpc.client",
    "ServerProxy.wait() answered in 0.2 s (threading SimpleXMLRPCServer)",
    peers=("xmlrpc",),
    fix="Patch `socket` (every profile but `none`).",
)
def xmlrpc_call(ctx: Context):
    import xmlrpc.client

    url = ctx.peers["xmlrpc"]["url"]
    proxies = [xmlrpc.client.ServerProxy(url) for _ in range(ctx.n)]
    for proxy in proxies:
        proxy.wait()  # opens the keep-alive connection before the clock starts

    def wait(i: int) -> None:
        if proxies[i].wait() is not True:
            raise RuntimeError("wait() returned something else than True")

    return wait


@case(
    "thrift",
    "wait() over TSocket + TBufferedTransport + TBinaryProtocol, answered in 0.2 s "
    "(TThreadedServer)",
    dists=("thrift",),
    modules=("thrift",),
    peers=("thrift_server",),
    fix="Patch `socket` (every profile but `none`).",
)
def thrift_call(ctx: Context):
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TSocket, TTransport

    from compat_tests.peers.thrift_server import call_wait

    port = ctx.peers["thrift_server"]["port"]
    protocols = []
    for _ in range(ctx.n):
        sock = TSocket.TSocket("127.0.0.1", port)
        sock.setTimeout(TIMEOUT_S * 1000)
        transport = TTransport.TBufferedTransport(sock)
        transport.open()
        protocols.append(TBinaryProtocol.TBinaryProtocol(transport))
    seqids = itertools.count(1)

    def wait(i: int) -> None:
        call_wait(protocols[i], next(seqids))

    return wait
