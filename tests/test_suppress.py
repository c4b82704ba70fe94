"""Suppression: inline comments on the reported line, --select/--ignore, the config's ignore."""

from __future__ import annotations

from pathlib import Path

from patchkit.findings import Finding
from patchkit.suppress import filter_findings
from tests.helpers import write


def findings_for(path: Path) -> list[Finding]:
    return [
        Finding("PK102", "a", file=str(path), line=1),
        Finding("PK103", "b", file=str(path), line=2),
        Finding("PK102", "c", file=str(path), line=3),
        Finding("PK105", "d", file=str(path), line=4),
        Finding("PK201", "e", module="psycopg2"),
    ]


def test_inline_comment_drops_only_the_named_code_on_that_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mod.py",
        """
        from time import sleep  # patchkit: ignore[PK102]
        X = 1  # patchkit: ignore[PK102]
        from time import sleep as nap
        LOCK = None  # patchkit: ignore[PK103, PK105]
        """,
    )
    kept = [f.message for f in filter_findings(findings_for(path))]
    assert kept == ["b", "c", "e"]


def test_bare_ignore_comment_drops_every_code_on_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "mod.py", "a = 1  # patchkit: ignore\nb = 2\nc = 3\nd = 4\n")
    assert [f.message for f in filter_findings(findings_for(path))] == ["b", "c", "d", "e"]


def test_select_ignore_and_config_ignore_match_codes_by_prefix(tmp_path: Path) -> None:
    path = write(tmp_path / "mod.py", "\n\n\n\n")
    every = findings_for(path)
    assert [f.code for f in filter_findings(every, select=["PK1"])] == [
        "PK102", "PK103", "PK102", "PK105",
    ]  # fmt: skip
    assert [f.code for f in filter_findings(every, ignore=["PK102,PK201"])] == ["PK103", "PK105"]
    assert [f.code for f in filter_findings(every, config_ignore=("pk105",))] == [
        "PK102", "PK103", "PK102", "PK201",
    ]  # fmt: skip


def test_findings_without_a_file_are_never_dropped_by_comments() -> None:
    finding = Finding("PK201", "psycopg2 blocks", module="psycopg2")
    assert filter_findings([finding]) == [finding]


def test_a_scanned_module_with_an_ignore_comment_is_not_reported(tmp_path: Path) -> None:
    from tests.helpers import run_python

    write(tmp_path / "quiet.py", "from time import sleep  # patchkit: ignore[PK102]\n")
    write(tmp_path / "loud.py", "from time import sleep\n")
    code = f"""
    import sys, json
    sys.path.insert(0, {str(tmp_path)!r})
    import patchkit, quiet, loud
    from gevent import monkey
    monkey.patch_all()
    from patchkit.detect.scan import scan_findings
    from patchkit.suppress import filter_findings
    print(json.dumps([f.module for f in filter_findings(scan_findings()) if f.code == "PK102"]))
    """
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-1] == '["loud"]'


def test_a_comment_accepts_a_code_prefix_like_ignore_does(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mod.py",
        """
        from time import sleep  # patchkit: ignore[PK1]
        X = 1  # patchkit: ignore[pk10, PK2]
        Y = 2  # patchkit: ignore[PK3]
        LOCK = None  # patchkit: ignore[NOPE, PK105]
        """,
    )
    assert [f.message for f in filter_findings(findings_for(path))] == ["c", "e"]


def test_parse_codes_takes_prefixes_lists_and_commas_and_names_a_bad_word() -> None:
    import pytest

    from patchkit.rules import parse_codes

    assert parse_codes("pk1, PK201") == ("PK1", "PK201")
    assert parse_codes(["PK", "pk3,PK501"]) == ("PK", "PK3", "PK501")
    assert parse_codes([]) == ()
    with pytest.raises(ValueError, match="'PK9'"):
        parse_codes(["PK1", "PK9"])
