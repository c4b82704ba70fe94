"""``patchkit explain CODE`` prints the rule's page; an unknown code is a one-line error."""

from __future__ import annotations

from patchkit import rules
from tests.helpers import run_patchkit


def test_explain_prints_the_same_page_as_the_docs() -> None:
    proc = run_patchkit("explain", "pk102")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == rules.page("PK102")
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert heading in proc.stdout


def test_unknown_code_is_one_line_on_stderr_and_exit_2() -> None:
    proc = run_patchkit("explain", "PK999")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "unknown rule 'PK999'" in proc.stderr


def test_explain_takes_a_rule_name_in_any_case() -> None:
    proc = run_patchkit("explain", "Prepatch-Object")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == rules.page("PK105")


def test_explain_list_prints_every_rule_once_with_code_name_and_severity() -> None:
    proc = run_patchkit("explain", "--list")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines] == rules.codes()
    for line, rule in zip(lines, rules.CATALOG, strict=True):
        assert line.split()[1:3] == [rule.name, rule.severity] and rule.summary in line


def test_unknown_name_or_no_rule_is_one_line_and_exit_2() -> None:
    for args, words in ((("stale-globals",), "unknown rule 'stale-globals'"),
                        ((), "give one rule"), (("PK102", "--list"), "give one rule")):  # fmt: skip
        proc = run_patchkit("explain", *args)
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.count("\n") == 1 and words in proc.stderr
