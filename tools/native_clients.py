"""Install the optional native clients (tools/native_clients.txt) into a Python, best effort.

    python tools/native_clients.py            # into this interpreter's environment

One ``pip install`` per package, so one that cannot build (missing system library) does not
stop the others; each miss is one ``note:`` line. The Makefile, tox.ini and tools/matrix.py all
use this, so the list lives in one file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LIST = Path(__file__).with_name("native_clients.txt")


def names(path: Path = LIST) -> list[str]:
    """The package names, without comments and blank lines."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def install(python: str = sys.executable, timeout_s: float = 600) -> list[str]:
    """pip-install each native client into ``python``; return the ones that did not install."""
    missing = []
    for name in names():
        cmd = [python, "-m", "pip", "install", "-q", name]
        try:
            ok = subprocess.run(cmd, capture_output=True, timeout=timeout_s).returncode == 0
        except subprocess.TimeoutExpired:
            ok = False
        if not ok:
            missing.append(name)
    return missing


def main() -> int:
    for name in install():
        print(f"note: {name} not installed (missing system library?); its tests will skip")
    return 0  # best effort by design: a missing client is a skipped row, not a failure


if __name__ == "__main__":
    sys.exit(main())
