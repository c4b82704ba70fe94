"""The pre-commit hook: its command, run in a fresh git repository with ``entry`` configured."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.helpers import write

ROOT = Path(__file__).resolve().parents[1]


def hook() -> dict[str, str]:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    return dict(re.findall(r"^\s*-?\s*(\w+):\s*(.+?)\s*$", text, re.MULTILINE))


def run_hook(repo: Path) -> subprocess.CompletedProcess[str]:
    command = shlex.split(hook()["entry"])
    command[0] = str(Path(sys.executable).parent / command[0])  # the console script
    env = {**os.environ, "PATCHKIT_CACHE_DIR": str(repo / ".cache")}
    return subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=120, env=env)


def test_hook_is_static_and_takes_no_filenames() -> None:
    fields = hook()
    assert fields["id"] == "patchkit"
    assert fields["pass_filenames"] == "false"
    assert "--static" in fields["entry"].split()


def test_hook_command_audits_the_configured_entries_in_a_fresh_repo(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, timeout=30)
    write(tmp_path / "pyproject.toml", '[tool.patchkit]\nentry = ["wsgi.py", "tasks.py"]\n')
    write(tmp_path / "wsgi.py", "import patchkit.auto\nimport views\n")
    write(tmp_path / "views.py", "import threading\n")
    write(tmp_path / "tasks.py", "import jobs\nfrom gevent import monkey\nmonkey.patch_all()\n")
    write(tmp_path / "jobs.py", "import threading\nLOCK = threading.Lock()\n")
    proc = run_hook(tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "jobs.py:2: PK105" in proc.stdout and "(static)" in proc.stdout
    assert "wsgi.py" not in proc.stdout.replace("wsgi.py tasks.py", "")

    write(tmp_path / "tasks.py", "from gevent import monkey\nmonkey.patch_all()\nimport jobs\n")
    fixed = run_hook(tmp_path)
    assert fixed.returncode == 0, fixed.stdout
