"""docs/index.md: the install line, a ten-line example and the report it really prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAD = re.compile(r"^(?:\S+:\d+|<unknown>): PK\d{3} [a-z-]+$", re.M)


def _blocks(text: str) -> dict[str, str]:
    """The first ```python block and the ```console block of the audit, by language."""
    found: dict[str, str] = {}
    for lang, body in re.findall(r"```(\w+)\n(.*?)```", text, re.S):
        if lang == "python" or body.startswith("$ python -m patchkit audit"):
            found.setdefault(lang, body)
    return found


def test_home_page_has_the_install_line_and_a_ten_line_example() -> None:
    text = (ROOT / "docs" / "index.md").read_text()
    assert "```console\n$ pip install patchkit\n```" in text
    example = _blocks(text)["python"]
    assert len(example.splitlines()) == 10


def test_the_home_page_report_is_what_the_example_prints(tmp_path: Path) -> None:
    blocks = _blocks((ROOT / "docs" / "index.md").read_text())
    (tmp_path / "app.py").write_text(blocks["python"])
    proc = subprocess.run(
        [sys.executable, "-m", "patchkit", "audit", "app.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    shown = blocks["console"]
    assert HEAD.findall(proc.stdout) == HEAD.findall(shown), proc.stdout
    summary = re.compile(r"^Found .*$", re.M)
    assert summary.findall(proc.stdout) == summary.findall(shown)
    assert len(HEAD.findall(shown)) == 5
