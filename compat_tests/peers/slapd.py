"""An OpenLDAP slapd on a free port, behind the delaying proxy: each LDAP request lasts WAIT_S.

A throwaway mdb database in a temporary directory holds one entry, ``base``; clients bind as
``bind_dn``/``password`` (the database's root DN). ``port`` is the proxy, ``direct_port``
slapd itself.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from compat_tests.peers._delay_proxy import (
    HOST,
    ask,
    delay_proxy,
    find_binary,
    free_port,
    spawn,
    temp_dir,
    wait_until,
)

BASE = "dc=patchkit,dc=test"
BIND_DN = f"cn=admin,{BASE}"
PASSWORD = "patchkit"
# Debian builds the backends as modules; Homebrew's openldap links mdb in.
MODULE_DIRS = ("/usr/lib/ldap", "/usr/lib64/openldap", "/usr/lib/openldap")
SCHEMA_DIRS = ("/etc/ldap/schema", "/etc/openldap/schema", "/opt/homebrew/etc/openldap/schema",
               "/usr/local/etc/openldap/schema")  # fmt: skip
SLAPD_CANDIDATES = ("/usr/sbin/slapd", "/opt/homebrew/opt/openldap/libexec/slapd",
                    "/usr/local/opt/openldap/libexec/slapd")  # fmt: skip
# An anonymous LDAPv3 simple bind, message id 1: slapd answers with a BindResponse (0x30 ...).
ANONYMOUS_BIND = bytes.fromhex("300c020101600702010304008000")


def _config(tmp: Path) -> Path:
    schema = next((Path(d) for d in SCHEMA_DIRS if (Path(d) / "core.schema").exists()), None)
    if schema is None:
        raise RuntimeError(f"slapd's core.schema not found in {', '.join(SCHEMA_DIRS)} (slapd)")
    modules = next((d for d in MODULE_DIRS if (Path(d) / "back_mdb.so").exists()), None)
    (tmp / "db").mkdir()
    lines = [
        f"include {schema / 'core.schema'}",
        f"pidfile {tmp / 'slapd.pid'}",
        f"argsfile {tmp / 'slapd.args'}",
        *([f"modulepath {modules}", "moduleload back_mdb"] if modules else []),
        "database mdb",
        f"suffix {BASE}",
        f"rootdn {BIND_DN}",
        f"rootpw {PASSWORD}",
        f"directory {tmp / 'db'}",
        "maxsize 16777216",
    ]
    conf = tmp / "slapd.conf"
    conf.write_text("\n".join(lines) + "\n")
    return conf


def _add_base(binary: str, conf: Path) -> None:
    """Load the base entry offline, before slapd opens the database (``slapd -T add`` is
    slapadd, wherever the package put that link)."""
    ldif = (
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: patchkit\no: patchkit\n"
    )
    argv = [binary, "-T", "add", "-f", str(conf)]
    done = subprocess.run(argv, input=ldif.encode(), capture_output=True, timeout=30)
    if done.returncode:
        raise RuntimeError(f"slapadd failed: {done.stderr.decode(errors='replace')[-400:]}")


def start() -> dict:
    binary = find_binary("slapd", "slapd", SLAPD_CANDIDATES)
    tmp = temp_dir("slapd")
    conf = _config(tmp)
    _add_base(binary, conf)
    port = free_port()
    log = tmp / "slapd.log"
    # -d 0: stay in the foreground (dies with the peer), log nothing but fatal errors.
    proc = spawn([binary, "-f", str(conf), "-h", f"ldap://{HOST}:{port}/", "-d", "0"], tmp, log)
    wait_until(proc, lambda: ask(port, ANONYMOUS_BIND)[:1] == b"\x30", "slapd", log, 20)
    return {"port": delay_proxy(port), "direct_port": port, "base": BASE, "bind_dn": BIND_DN,
            "password": PASSWORD, "_proc": proc}  # fmt: skip
