"""Whose frame is this? The one answer to "patchkit's, the toolchain's, or the user's code".

Findings point at the user's line; tracebacks and stacks leave patchkit's own frames out. Every
module that looks at frames asks here, so the list of what counts as "ours" lives in one place.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import sysconfig
from types import FrameType, TracebackType
from typing import Any

from greenlet import getcurrent

Entry = tuple[str, int, str]  # (file, line, function) of one frame

PATCHKIT_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SITE_DIRS = ("site-packages", "dist-packages")
_THREAD_NAME = re.compile(r"<\w*Thread\((.*?), (?:started|initial|stopped)")


def _package_dir(name: str) -> str:
    module = sys.modules.get(name)
    if module is None:
        import importlib

        module = importlib.import_module(name)
    return os.path.dirname(os.path.abspath(module.__file__ or "")) + os.sep


@functools.lru_cache(maxsize=1)
def toolchain_dirs() -> tuple[str, ...]:
    """gevent's, patchkit's and greenlet's directories: code that holds originals on purpose."""
    return (_package_dir("gevent"), PATCHKIT_DIR, _package_dir("greenlet"))


@functools.lru_cache(maxsize=1)
def stdlib_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple(
        os.path.abspath(paths[key]) + os.sep for key in ("stdlib", "platstdlib") if key in paths
    )


def is_patchkit_file(filename: str) -> bool:
    return filename.startswith(PATCHKIT_DIR)


def is_gevent_file(filename: str) -> bool:
    return filename.startswith(toolchain_dirs()[0])


def is_installed_file(path: str | None) -> bool:
    """Code pip installed, as opposed to the user's project (which may live anywhere)."""
    return bool(path) and any(part in path for part in _SITE_DIRS)  # type: ignore[operator]


def is_app_file(filename: str) -> bool:
    """True for code the user wrote or installed (not the stdlib, gevent, greenlet or patchkit)."""
    if filename.startswith("<frozen") or filename.startswith(toolchain_dirs()):
        return False  # "<string>" (python -c, exec) is the user's
    if any(part in filename for part in _SITE_DIRS):
        return True
    return not filename.startswith(stdlib_dirs())


def frame_entries(frame: FrameType | None, limit: int = 60) -> list[Entry]:
    """A cheap copy of the stack from ``frame`` outwards, innermost first.

    Taken at once because a frame that keeps running changes its line under us.
    """
    out: list[Entry] = []
    while frame is not None and len(out) < limit:
        code = frame.f_code
        out.append((code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    return out


def entries_location(entries: list[Entry]) -> tuple[str | None, int | None]:
    """The innermost entry in user code (else the innermost of all)."""
    for file, line, _ in entries:
        if is_app_file(file):
            return file, line
    return (entries[0][0], entries[0][1]) if entries else (None, None)


def format_entries(entries: list[Entry], limit: int = 30) -> list[str]:
    """``file:line in function``, outermost first, patchkit's own frames left out."""
    out = [f"{file}:{line} in {name}" for file, line, name in entries if not is_patchkit_file(file)]
    return list(reversed(out[:limit]))


def app_location(frame: FrameType) -> tuple[str, int]:
    """The innermost frame of user code in the stack from ``frame`` out (else ``frame`` itself)."""
    file, line = entries_location(frame_entries(frame))
    return file or frame.f_code.co_filename, line or frame.f_lineno


def frame_stack(frame: FrameType | None, limit: int = 30) -> list[str]:
    """``file:line in function``, outermost first, to ``frame``; patchkit's own left out."""
    return format_entries(frame_entries(frame), limit)


def without_own_frames(tb: TracebackType | None) -> TracebackType | None:
    """A traceback with patchkit's (and runpy's) leading frames dropped, as python would show it."""
    while tb is not None and _is_launch_frame(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb


def _is_launch_frame(filename: str) -> bool:
    return (
        is_patchkit_file(filename)
        or filename.startswith("<frozen runpy>")
        or (filename == getattr(sys.modules.get("runpy"), "__file__", None))
    )


def greenlet_label(glet: Any = None) -> str:
    """A short name for a greenlet: gevent's name and function, or "the main greenlet"."""
    if glet is None:
        glet = getcurrent()
    if getattr(glet, "parent", True) is None:
        return "the main greenlet"
    text = str(glet)
    name = getattr(glet, "name", None) or type(glet).__name__
    running = text.split(": ", 1)[1].rstrip(">") if ": " in text else ""
    thread = _THREAD_NAME.search(running)
    if thread:  # a patched threading.Thread: its greenlet's repr is the whole bound method
        running = f"thread {thread.group(1)}"
    elif len(running) > 60:
        running = running[:57] + "..."
    # gevent drops the function once a greenlet ends: its repr then says only "_run".
    if running and not running.startswith("_run"):
        return f"greenlet {name} ({running})"
    return f"greenlet {name}"


def strip_own_frames(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` with every patchkit frame unlinked (a tripwire's wrapper, the runner), as the
    program would show it without patchkit; the innermost frame left is the user's."""
    tb = without_own_frames(tb)
    kept: list[TracebackType] = []
    while tb is not None:
        if not is_patchkit_file(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    for outer, inner in zip(kept, kept[1:], strict=False):
        outer.tb_next = inner
    if kept:
        kept[-1].tb_next = None
    return kept[0] if kept else None


def strip_exception(exc: BaseException) -> BaseException:
    """``strip_own_frames`` on ``exc`` and every exception chained to it (cause, context)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        item.__traceback__ = strip_own_frames(item.__traceback__)
        todo += [item.__cause__, item.__context__]
    return exc
