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
