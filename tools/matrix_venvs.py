"""The Python x gevent combinations of the matrix: which interpreters, which gevents, one venv each.

A combination is measured in its own virtualenv, ``build/matrix-venvs/py312-gevent26.9.0``,
holding ``-e .[compat]`` with gevent pinned (a pip constraint, so nothing the extra pulls in can
move it) and the optional native clients (tools/native_clients.txt, best effort). A venv is
reused while its stamp (setup.cfg's hash, the native clients list, the gevent version, the
interpreter) matches: building 8 of them from scratch takes minutes of pip, reusing them none.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from tools import native_clients

ROOT = Path(__file__).resolve().parent.parent

MINORS = ("3.10", "3.11", "3.12", "3.13")
VENVS = ROOT / "build" / "matrix-venvs"
# The default pair, by the rule in pick_gevents(): the newest release and the newest one
# published at least a year (less a month's slack) before it. Hard-coded because asking PyPI
# at every run is neither offline-safe nor reproducible; `--gevents auto` applies the rule to
# PyPI's release dates instead. Update both when gevent releases.
DEFAULT_GEVENTS = ("26.9.0", "25.9.1")
YEAR_BEFORE = timedelta(days=335)


@dataclass(frozen=True)
class Combination:
    """One Python (minor version, interpreter path) with one gevent release."""

    python: str  # "3.12"
    interpreter: str
    gevent: str

    @property
    def name(self) -> str:
        return f"py{self.python.replace('.', '')}-gevent{self.gevent}"

    @property
    def label(self) -> str:
        return f"py{self.python} gevent {self.gevent}"

    @property
    def venv(self) -> Path:
        return VENVS / self.name

    @property
    def venv_python(self) -> Path:
        return self.venv / "bin" / "python"


def _minor_of(interpreter: str) -> str | None:
    """``"3.12"`` for a working interpreter, None for a shim or path that does not run."""
    code = "import sys; print('%d.%d' % sys.version_info[:2])"
    try:
        out = subprocess.run([interpreter, "-c", code], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def candidates() -> list[str]:
    """Interpreters to look at, most preferred first: this one, pyenv's, ``python3.1x`` on PATH."""
    found = [sys.executable]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for minor in MINORS:
        found += sorted(glob.glob(str(pyenv / f"{minor}.*" / "bin" / "python")), reverse=True)
        found += [p for p in [shutil.which(f"python{minor}")] if p]
    return found


def find_pythons(wanted: Iterable[str] = MINORS) -> dict[str, str]:
    """{minor: interpreter} for each wanted minor version found (the first candidate wins)."""
    want = set(wanted)
    out: dict[str, str] = {}
    for interpreter in candidates():
        minor = _minor_of(interpreter)
        if minor in want and minor not in out:
            out[minor] = interpreter
    return {m: out[m] for m in sorted(out, key=lambda v: tuple(map(int, v.split("."))))}


def pick_gevents(releases: dict[str, datetime]) -> tuple[str, str]:
    """(newest, a year earlier): the newest release, and the newest one published at least
    YEAR_BEFORE before it (the oldest release when none is that old)."""
    by_date = sorted(releases.items(), key=lambda item: item[1])
    newest, newest_at = by_date[-1]
    older = [v for v, at in by_date if at <= newest_at - YEAR_BEFORE]
    return newest, older[-1] if older else by_date[0][0]


def gevents_from_pypi(timeout_s: float = 15) -> tuple[str, str]:
    """pick_gevents() over PyPI's final gevent releases; DEFAULT_GEVENTS when PyPI is not
    reachable."""
    import urllib.request

    try:
        with urllib.request.urlopen("https://pypi.org/pypi/gevent/json", timeout=timeout_s) as r:
            data = json.load(r)
    except (OSError, ValueError):
        return DEFAULT_GEVENTS
    releases = {}
    for version, files in data.get("releases", {}).items():
        if files and version.replace(".", "").isdigit() and not any(f["yanked"] for f in files):
            releases[version] = min(datetime.fromisoformat(f["upload_time"]) for f in files)
    return pick_gevents(releases) if releases else DEFAULT_GEVENTS


def stamp(combo: Combination) -> dict[str, str]:
    """What the venv was built from; a different stamp means rebuild."""
    digest = hashlib.sha256()
    for path in (ROOT / "setup.cfg", native_clients.LIST):
        digest.update(path.read_bytes())
    return {"inputs": digest.hexdigest(), "gevent": combo.gevent, "python": combo.interpreter}


def _stamp_path(combo: Combination) -> Path:
    return combo.venv / ".patchkit-matrix-stamp"


def is_current(combo: Combination) -> bool:
    try:
        return json.loads(_stamp_path(combo).read_text()) == stamp(combo)
    except (OSError, ValueError):
        return False


class VenvError(RuntimeError):
    pass


def _pip(combo: Combination, args: list[str], log: Path, timeout_s: float) -> None:
    cmd = [str(combo.venv_python), "-m", "pip", "install", "-q", *args]
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        try:
            status = subprocess.call(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                     timeout=timeout_s)  # fmt: skip
        except subprocess.TimeoutExpired:
            status = -1
    if status != 0:
        raise VenvError(f"pip install {' '.join(args)} failed (see {log})")


def ensure_venv(combo: Combination, log: Path, timeout_s: float = 1200) -> tuple[bool, list[str]]:
    """Build the combination's venv unless a current one exists.

    Returns (reused, native clients that did not install); raises VenvError when the venv
    cannot hold patchkit and this gevent.
    """
    if is_current(combo):
        return True, []
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    shutil.rmtree(combo.venv, ignore_errors=True)
    combo.venv.parent.mkdir(parents=True, exist_ok=True)
    made = subprocess.run([combo.interpreter, "-m", "venv", str(combo.venv)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    if made.returncode != 0:
        raise VenvError(f"{combo.interpreter} -m venv failed: {made.stderr.strip()[-300:]}")
    constraints = combo.venv / "constraints.txt"
    constraints.write_text(f"gevent=={combo.gevent}\n")
    _pip(combo, ["--upgrade", "pip"], log, timeout_s)
    _pip(combo, ["-c", str(constraints), "-e", ".[compat]", f"gevent=={combo.gevent}"], log,
         timeout_s)  # fmt: skip
    missing = native_clients.install(str(combo.venv_python))
    _stamp_path(combo).write_text(json.dumps(stamp(combo)))
    return False, missing
