"""Who imported what first: a near-free import hook, so "patched late" can name the importer.

The hook is a ``sys.meta_path`` finder that never finds anything: on the first import of each
non-stdlib module it notes the caller's ``file:line`` and returns ``None``, so the real finders
do the work. Stdlib modules are skipped at a dict lookup's cost.
"""

from __future__ import annotations

import sys
from types import FrameType

_STDLIB = frozenset(sys.stdlib_module_names)
_first: dict[str, str | None] = {}

# Frames that belong to the import machinery rather than the code that asked for the import.
_MACHINERY = ("<frozen importlib", "<frozen zipimport")
_IMPORTLIB_INIT = getattr(sys.modules.get("importlib"), "__file__", None)  # import_module()


def _caller(frame: FrameType | None) -> str | None:
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_MACHINERY) and filename != _IMPORTLIB_INIT:
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return None


class _FirstImporter:
    """A meta path finder that only watches."""

    @staticmethod
    def find_spec(fullname: str, path: object = None, target: object = None) -> None:
        if fullname not in _first and fullname.partition(".")[0] not in _STDLIB:
            _first[fullname] = _caller(sys._getframe(1))
        return None

    @staticmethod
    def invalidate_caches() -> None:
        return None


_FINDER = _FirstImporter()


def install() -> None:
    """Start noting first importers (idempotent); call it before the application imports."""
    if not any(finder is _FINDER for finder in sys.meta_path):
        sys.meta_path.insert(0, _FINDER)


def installed() -> bool:
    return any(finder is _FINDER for finder in sys.meta_path)


def first_importer(name: str) -> str | None:
    """``file:line`` that first imported ``name``, or None if that happened before install()."""
    return _first.get(name)
