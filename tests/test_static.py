"""PK501/PK502 from the entry file's source alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from patchkit.detect.static import check_entry_file
from patchkit.errors import TargetError
from tests.helpers import write


def check(tmp_path: Path, source: str) -> list[tuple[str, int | None]]:
    path = write(tmp_path / "app.py", source)
    return [(f.code, f.line) for f in check_entry_file(str(path))]


def test_import_before_patch_all_is_reported_at_the_import_line(tmp_path: Path) -> None:
    source = """
    import requests
    from gevent import monkey
    monkey.patch_all()
    import redis
    """
    assert check(tmp_path, source) == [("PK501", 1)]


def test_each_import_before_patchkit_auto_is_reported(tmp_path: Path) -> None:
    source = """
    import requests, json
    from myapp import views
    import patchkit.auto
    """
    assert check(tmp_path, source) == [("PK501", 1), ("PK501", 2)]


def test_stdlib_imports_that_bind_no_harmful_original_may_come_first(tmp_path: Path) -> None:
    source = """
    import os, sys, time, threading, socket, queue
    from time import perf_counter
    from queue import Queue
    from socket import create_connection
    import patchkit.auto
    """
    assert check(tmp_path, source) == []


def test_from_import_of_a_harmful_original_and_import_ssl_are_reported(tmp_path: Path) -> None:
    source = """
    from time import sleep
    from threading import Lock, Event
    import ssl
    from select import *
    import patchkit.auto
    """
    assert check(tmp_path, source) == [("PK501", 1), ("PK501", 2), ("PK501", 3), ("PK501", 4)]


def test_docstring_future_gevent_and_patchkit_imports_may_come_first(tmp_path: Path) -> None:
    source = '''
    """The app."""
    from __future__ import annotations
    import gevent
    import patchkit
    from gevent import monkey
    monkey.patch_all()
    import requests
    '''
    assert check(tmp_path, source) == []


@pytest.mark.parametrize(
    "patch",
    ["import patchkit.auto", "patchkit.apply('full')", "gevent.monkey.patch_all()",
     "from patchkit import auto"],
)  # fmt: skip
def test_every_form_of_the_patch_call_counts(tmp_path: Path, patch: str) -> None:
    source = f"import gevent.monkey\nimport patchkit\nimport requests\n{patch}\n"
    assert check(tmp_path, source) == [("PK501", 3)]


def test_patch_inside_main_after_imports_is_reported(tmp_path: Path) -> None:
    source = """
    import myapp

    def main():
        from gevent import monkey
        monkey.patch_all()
        myapp.serve()
    """
    assert check(tmp_path, source) == [("PK502", 5)]


@pytest.mark.parametrize("wrapper", ["if USE_GEVENT:", "try:", "class Boot:"])
def test_patch_under_a_condition_try_or_class_is_reported(tmp_path: Path, wrapper: str) -> None:
    tail = "\nexcept ImportError:\n    pass" if wrapper == "try:" else ""
    source = f"import myapp\n{wrapper}\n    import patchkit.auto\n{tail}\n"
    assert check(tmp_path, source) == [("PK502", 3)]


def test_nested_patch_with_no_import_before_it_is_fine(tmp_path: Path) -> None:
    source = """
    def main():
        import patchkit.auto
    """
    assert check(tmp_path, source) == []


def test_file_without_any_patch_call_has_no_static_findings(tmp_path: Path) -> None:
    assert check(tmp_path, "import requests\nprint(requests)\n") == []


def test_relative_and_plain_imports_count_but_gevent_submodules_do_not(tmp_path: Path) -> None:
    source = "from gevent.pool import Pool\nfrom . import views\nimport patchkit.auto\n"
    assert check(tmp_path, source) == [("PK501", 2)]


def test_leaky_example_is_reported_and_clean_example_is_not() -> None:
    root = Path(__file__).resolve().parent.parent / "examples"
    leaky = [(f.code, f.line) for f in check_entry_file(str(root / "leaky_app.py"))]
    assert leaky == [("PK501", 9), ("PK501", 11)]
    assert check_entry_file(str(root / "clean_app.py")) == []


def test_syntax_error_is_a_target_error(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.py", "import (\n")
    with pytest.raises(TargetError, match="syntax error"):
        check_entry_file(str(path))
