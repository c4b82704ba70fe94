"""Suppression: inline comments on the reported line, --select/--ignore, the config's ignore."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def test_noqa_comments_mean_what_flake8_and_ruff_make_them_mean(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mod.py",
        """
        from time import sleep  # noqa: PK102
        X = 1  # noqa
        from time import sleep as nap  # noqa: E501, F401
        LOCK = None  # NOQA:pk1
        """,
    )
    # PK102 named; bare noqa drops all; other tools' codes drop none of ours; a prefix works.
    assert [f.message for f in filter_findings(findings_for(path))] == ["c", "e"]


def test_a_noqa_with_only_a_colon_drops_every_code_as_in_flake8(tmp_path: Path) -> None:
    path = write(tmp_path / "mod.py", "a = 1  # noqa:\nb = 2  # noqas\nc = 3\nd = 4\n")
    assert [f.message for f in filter_findings(findings_for(path))] == ["b", "c", "d", "e"]


def test_path_patterns_match_like_ruffs_exclude() -> None:
    from patchkit.suppress import path_matches

    assert path_matches("migrations/0001_init.py", "migrations/*")
    assert path_matches("migrations/deep/x.py", "migrations/*")  # * crosses /, as in ruff
    assert path_matches("app/migrations/x.py", "migrations")  # a bare name: any directory
    assert path_matches("app/test_views.py", "test_*.py")
    assert path_matches("src/legacy/a.py", "./src/legacy/")
    assert not path_matches("app/migrations/x.py", "migrations/*")  # anchored at the root
    assert not path_matches("src/app.py", "tests/*")


def test_exclude_and_per_file_ignores_are_relative_to_the_root(tmp_path: Path) -> None:
    write(tmp_path / "migrations" / "m.py", "\n\n")
    write(tmp_path / "tests" / "t.py", "\n\n")
    write(tmp_path / "app.py", "\n\n")
    every = [
        Finding("PK102", "m", file=str(tmp_path / "migrations" / "m.py"), line=1),
        Finding("PK102", "t102", file=str(tmp_path / "tests" / "t.py"), line=1),
        Finding("PK105", "t105", file=str(tmp_path / "tests" / "t.py"), line=2),
        Finding("PK102", "app", file=str(tmp_path / "app.py"), line=1),
        Finding("PK201", "lib", module="psycopg2"),
    ]
    kept = filter_findings(
        every,
        exclude=["migrations/*"],
        per_file_ignores={"tests/*": ("PK102",), "app.py": ()},
        root=str(tmp_path),
    )
    assert [f.message for f in kept] == ["t105", "app", "lib"]
    elsewhere = filter_findings(every, exclude=["migrations/*"], root=str(tmp_path / "tests"))
    assert "m" in [f.message for f in elsewhere]  # outside the root no pattern matches


def test_config_reads_exclude_and_per_file_ignores_in_toml_and_ini(tmp_path: Path) -> None:
    from patchkit.config import load_config

    write(
        tmp_path / "a" / "pyproject.toml",
        """
        [tool.patchkit]
        exclude = ["migrations/*"]
        per-file-ignores = {"tests/*" = ["PK102"], "scripts/*.py" = ["pk1", "PK201"]}
        """,
    )
    config = load_config(tmp_path / "a")
    assert config.exclude == ("migrations/*",)
    assert config.per_file_ignores == {"tests/*": ("PK102",), "scripts/*.py": ("PK1", "PK201")}
    assert config.root == str((tmp_path / "a").resolve())
    write(
        tmp_path / "b" / "setup.cfg",
        """
        [patchkit]
        exclude = migrations/*, build
        per-file-ignores =
            tests/*: PK102
            scripts/a.py scripts/b.py:PK101,PK103
        """,
    )
    config = load_config(tmp_path / "b")
    assert config.exclude == ("migrations/*", "build")
    assert config.per_file_ignores == {
        "tests/*": ("PK102",),
        "scripts/a.py": ("PK101", "PK103"),
        "scripts/b.py": ("PK101", "PK103"),
    }


@pytest.mark.parametrize(
    ("filename", "body", "message"),
    [
        ("pyproject.toml", '[tool.patchkit]\nexclude = "migrations"\n', "exclude: expected a list"),
        ("pyproject.toml", '[tool.patchkit]\nper-file-ignores = ["x"]\n', "expected a table"),
        ("pyproject.toml", '[tool.patchkit.per-file-ignores]\n"t/*" = ["PK9"]\n', "'PK9'"),
        ("setup.cfg", "[patchkit]\nper-file-ignores = tests/*\n", "has no ': CODES'"),
        ("tox.ini", "[patchkit]\nper-file-ignores = t/*: PK999\n", "'PK999'"),
    ],
)
def test_bad_exclude_or_per_file_ignores_is_a_one_line_error(
    tmp_path: Path, filename: str, body: str, message: str
) -> None:
    from patchkit.config import load_config
    from patchkit.errors import ConfigError

    (tmp_path / filename).write_text(body)
    with pytest.raises(ConfigError, match="per-file-ignores|exclude") as info:
        load_config(tmp_path)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert filename in str(info.value)


def test_audit_honours_noqa_exclude_and_per_file_ignores(tmp_path: Path) -> None:
    import json

    from tests.helpers import run_patchkit

    write(tmp_path / "pyproject.toml", '[tool.patchkit]\nexclude = ["vendor/*"]\n'
          'per-file-ignores = {"quiet.py" = ["PK1"]}\n')  # fmt: skip
    write(tmp_path / "vendor" / "v.py", "from time import sleep\n")
    write(tmp_path / "quiet.py", "from time import sleep\n")
    write(tmp_path / "hushed.py", "from time import sleep  # noqa: PK102\n")
    write(tmp_path / "loud.py", "from time import sleep\n")
    write(
        tmp_path / "app.py",
        """
        import sys
        sys.path.insert(0, "vendor")
        import v, quiet, hushed, loud
        from gevent import monkey
        monkey.patch_all()
        """,
    )
    proc = run_patchkit("audit", "--format", "json", "--select", "PK102", "app.py", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert [f["module"] for f in report["findings"]] == ["loud"]
