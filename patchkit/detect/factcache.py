"""Facts of files already read, kept by content hash between runs of the static audit.

A pre-commit hook runs on every commit, and most files in an import closure (all of
site-packages) never change between two commits: their facts are looked up by the hash of their
bytes instead of being parsed again. One file per patchkit version and Python (the facts depend
on the harm table, which depends on both), in ``$PATCHKIT_CACHE_DIR`` or
``$XDG_CACHE_HOME/patchkit`` (``~/.cache/patchkit``). Writers replace the file atomically
(``os.replace`` of a private temporary file), so concurrent runs never see half a file: the last
one wins. A file that does not load (truncated, another format) counts as empty.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
import tempfile
from typing import Any

from patchkit._version import __version__

ENV_DIR = "PATCHKIT_CACHE_DIR"
_MAX_ENTRIES = 20_000  # beyond this the cache starts again: it holds facts, not history


def cache_dir() -> str:
    explicit = os.environ.get(ENV_DIR, "").strip()
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
    return os.path.join(base, "patchkit")


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


class FactCache:
    """``digest -> facts``, loaded once, saved once if anything was added."""

    def __init__(self, directory: str | None = None, enabled: bool = True) -> None:
        self.enabled = enabled
        self.path = os.path.join(directory or cache_dir(), _file_name())
        self.entries: dict[bytes, Any] = self._load() if enabled else {}
        self.added = 0

    def get(self, key: bytes) -> Any:
        return self.entries.get(key)

    def put(self, key: bytes, facts: Any) -> None:
        self.entries[key] = facts
        self.added += 1

    def _load(self) -> dict[bytes, Any]:
        try:
            with open(self.path, "rb") as handle:
                data = marshal.load(handle)
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        return data if isinstance(data, dict) and len(data) <= _MAX_ENTRIES else {}

    def save(self) -> None:
        """Write the cache if anything was added; a cache that cannot be written is skipped."""
        if not self.enabled or not self.added:
            return
        directory = os.path.dirname(self.path)
        try:
            os.makedirs(directory, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".facts-", dir=directory)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                marshal.dump(self.entries, handle)
            os.replace(temp, self.path)
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                os.unlink(temp)


def _file_name() -> str:
    """Per Python and per version of the code that makes facts (the harm table included)."""
    from patchkit.detect import facts, originals

    impl = f"{sys.implementation.name}{sys.version_info[0]}{sys.version_info[1]}"
    code = b""
    for module in (facts, originals):
        with open(module.__file__ or "", "rb") as handle:
            code += handle.read()
    return f"static-facts-{__version__}-{impl}-{digest(code).hex()[:12]}.marshal"
