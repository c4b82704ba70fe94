"""Check the docs site in a real headless browser: layout at 390, 1400 and 1920 px, screenshots.

    python tools/docs_check.py                      # build the site (mkdocs --strict), check it
    python tools/docs_check.py --site site --shots build/docs-shots

Per page and width: the page never scrolls sideways; on the matrix page the table fits without
scrolling from 1400 px up, its header row and library column stay in view while it scrolls, and a
cell opens on click to show what to do. Relative links of the matrix pages must resolve in the
built site. Exit status 0 when everything holds, 1 otherwise, 2 when chromium is missing.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDTHS = (390, 1400, 1920)
HEIGHT = 900
# The home page, the matrix as Markdown and as its own page, and one rule page (the nav).
PAGES = ("index.html", "compat-matrix/index.html", "compat-matrix.html", "rules/PK101/index.html")
MATRIX = "compat-matrix.html"  # the page whose table the probe must find
LINKED = ("compat-matrix.html", "compat-matrix/index.html")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--allow-file-access-from-files")  # fmt: skip
PROBE = (Path(__file__).with_name("templates") / "docs_probe.js").read_text(encoding="utf-8")


def find_chromium() -> str | None:
    """$CHROMIUM, else the first chromium/chrome on PATH."""
    names = [os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"]
    return next((shutil.which(n) for n in names if n and shutil.which(n)), None)


def _run(chromium: str, args: list[str], timeout: float = 60) -> str:
    with tempfile.TemporaryDirectory(prefix="docs-check-profile-") as profile:
        proc = subprocess.run(
            [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
    return proc.stdout


WRAPPER = """<!DOCTYPE html><html><body style="margin:0">
<iframe src="{src}" style="border:0;width:{width}px;height:{height}px"></iframe>
<script>window.addEventListener("message", function (e) {{
  var pre = document.createElement("pre"); pre.id = "__probe"; pre.textContent = e.data;
  document.body.appendChild(pre);
}});</script></body></html>"""


def measure(chromium: str, page: Path, width: int) -> dict:
    """What the probe script saw in ``page`` at ``width``: a copy with the probe injected, in an
    iframe exactly ``width`` px wide."""
    text = page.read_text(encoding="utf-8")
    probed = page.with_name(f"__probe-{width}-{page.name}")
    wrapper = page.with_name(f"__wrap-{width}-{page.name}")
    probed.write_text(text.replace("</body>", f"<script>{PROBE}</script></body>"), "utf-8")
    wrapper.write_text(WRAPPER.format(src=probed.name, width=width, height=HEIGHT), "utf-8")
    try:
        window = f"--window-size={max(width, 800)},{HEIGHT + 100}"
        dom = _run(chromium, [window, "--virtual-time-budget=5000", "--dump-dom", wrapper.as_uri()])
    finally:
        probed.unlink()
        wrapper.unlink()
    found = re.findall(r'<pre id="__probe">(.*?)</pre>', dom, re.S)
    if not found:
        return {"error": "the probe did not run (no result in the DOM)"}
    return json.loads(html.unescape(found[-1]))


def screenshot(chromium: str, page: Path, width: int, out: Path) -> tuple[int, int]:
    """Save a screenshot of ``page`` at ``width``; return the PNG's (width, height)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(chromium, [f"--window-size={width},{HEIGHT}", f"--screenshot={out}", page.as_uri()])
    return png_size(out)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24] if path.exists() else b""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return (0, 0)
    w, h = struct.unpack(">II", data[16:24])
    return int(w), int(h)


def problems(result: dict, width: int) -> list[str]:
    """What is wrong in one probe result; empty when the page is fine at this width."""
    if "error" in result:
        return [result["error"]]
    out = []
    if result["scrollWidth"] > result["innerWidth"]:
        wide = ", ".join(result.get("wide", []))
        out.append(f"scrolls sideways: {result['scrollWidth']} px > {result['innerWidth']} px "
                   f"({wide})")  # fmt: skip
    matrix = result.get("matrix")
    if matrix:
        if width >= 1400 and matrix["tableWidth"] > matrix["boxWidth"]:
            out.append(f"the table is cut off: {matrix['tableWidth']} px in a "
                       f"{matrix['boxWidth']} px box")  # fmt: skip
        if not matrix["headerStays"]:
            out.append("the header row scrolls out of view")
        if not matrix["libraryStays"]:
            out.append(f"the library column scrolls out of view ({matrix['atLeftEdge']})")
        if not matrix["opens"]:
            out.append("a cell's details do not open on click")
    return out


def broken_links(site: Path, pages: tuple[str, ...] = LINKED) -> list[str]:
    """Relative links in ``pages`` of the built site whose target does not exist."""
    out = []
    for name in pages:
        page = site / name
        for href in re.findall(r'href="([^"#?]+)', page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", href) or href.startswith("/"):
                continue
            target = (page.parent / href).resolve()
            if not (target.is_file() or (target / "index.html").is_file()):
                out.append(f"{name}: {href}")
    return out


def build_site(out: Path) -> None:
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(out)]
    subprocess.run(cmd, cwd=ROOT, check=True, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))


def check_site(chromium: str, site: Path, shots: Path, pages: tuple[str, ...] = PAGES) -> list[str]:
    """Every problem found, one line each, over pages x WIDTHS; screenshots land in ``shots``."""
    jobs = [(page, width) for page in pages for width in WIDTHS]

    def one(job: tuple[str, int]) -> list[str]:
        page, width = job
        path = site / page
        name = page.replace("/index.html", "").replace(".html", "-html").replace("/", "-")
        shot = shots / f"{name}-{width}.png"
        size = screenshot(chromium, path, width, shot)
        result = measure(chromium, path, width)
        found = problems(result, width)
        if page == MATRIX and not result.get("matrix") and "error" not in result:
            found.append("no scrolling matrix table (.scroll) to check")
        if size != (width, HEIGHT):
            found.append(f"screenshot is {size[0]}x{size[1]}, not {width}x{HEIGHT}")
        return [f"{page} at {width} px: {p}" for p in found]

    with ThreadPoolExecutor(max_workers=2) as pool:
        found = [line for lines in pool.map(one, jobs) for line in lines]
    return found + [f"broken link in {link}" for link in broken_links(site)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="a built site (default: build one)")
    parser.add_argument("--shots", type=Path, default=ROOT / "build" / "docs-shots")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("docs_check: chromium not found (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="docs-site-") as tmp:
        site = args.site or Path(tmp)
        if args.site is None:
            build_site(site)
        found = check_site(chromium, site, args.shots)
    print("\n".join(found) if found else f"docs: {len(PAGES)} pages fine at {WIDTHS} px")
    print(f"screenshots in {args.shots}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
