"""A private OpenSSH server: its own host key, one client key it authorises, a free port.

Nothing of the machine's ssh setup is used or changed: the config, keys and authorized_keys live
in a temporary directory, and the login is the current user with the generated key.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from compat_tests.peers._tethered import free_port, spawn, wait_for_port

SSHD = "/usr/sbin/sshd"

CONFIG = """\
ListenAddress 127.0.0.1
Port {port}
HostKey {dir}/host_key
AuthorizedKeysFile {dir}/authorized_keys
PidFile {dir}/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 64
MaxStartups 64
LogLevel ERROR
# Debian's bash sources ~/.bashrc for commands run by sshd unless it is a nested shell; this
# machine's root .bashrc runs `pyenv init`, 0.3-0.5 s of the server's CPU per command.
SetEnv SHLVL=1
"""


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip


def start() -> dict:
    sshd = shutil.which("sshd") or SSHD
    if not os.path.exists(sshd) or not shutil.which("ssh-keygen"):
        raise RuntimeError(
            f"{SSHD} or ssh-keygen not found "
            "(Debian: apt-get install openssh-server openssh-client)"
        )
    # Privilege separation needs this directory even when sshd runs as an ordinary user.
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="patchkit-sshd-"))
    _keygen(work / "host_key")
    _keygen(work / "client_key")
    shutil.copy(work / "client_key.pub", work / "authorized_keys")
    port = free_port()
    (work / "sshd_config").write_text(CONFIG.format(port=port, dir=work))
    log = work / "sshd.log"
    proc = spawn([sshd, "-D", "-e", "-f", str(work / "sshd_config")], log)
    wait_for_port(port, proc, log)
    return {"port": port, "user": getpass.getuser(), "key": str(work / "client_key"), "_proc": proc}
