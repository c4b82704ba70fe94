"""``patchkit explain (CODE | NAME | --list)``: a rule's documentation page, or the catalog.

The page is the same text as docs/rules/; a rule is named by its code (``PK105``, any case) or
its name (``prepatch-object``), as ruff's ``rule`` command takes either.
"""

from __future__ import annotations

from collections.abc import Sequence

from patchkit import rules
from patchkit.commands import Parser, write_stdout
from patchkit.errors import PatchkitError


class UnknownRuleError(PatchkitError):
    """A rule code or name that is not in the catalog."""


def main(argv: Sequence[str]) -> int:
    parser = Parser(
        prog="patchkit explain",
        usage="patchkit explain (CODE | NAME | --list)",
        description="print a rule's docs, or the catalog",
    )
    parser.add_argument("rule", nargs="?", help="a rule code (PK102) or name (stale-global)")
    parser.add_argument("--list", action="store_true", help="print every rule, one per line")
    options = parser.parse_args(list(argv))
    if options.list == (options.rule is not None):
        parser.error("give one rule (code or name), or --list")
    write_stdout(catalog() if options.list else rules.page(code_of(options.rule)))
    return 0


def code_of(word: str) -> str:
    """The code for a rule code or name; UnknownRuleError otherwise."""
    by_name = {rule.name: rule.code for rule in rules.CATALOG}
    code = by_name.get(word.strip().lower(), word.strip().upper())
    if code not in rules.codes():
        raise UnknownRuleError(
            f"unknown rule {word!r} (see 'patchkit explain --list'; "
            f"codes: {', '.join(rules.codes())})"
        )
    return code


def catalog() -> str:
    """One line per rule: code, name, severity, summary, aligned like ``ruff rule --all``'s list."""
    width = max(len(rule.name) for rule in rules.CATALOG)
    return "".join(
        f"{rule.code}  {rule.name:<{width}}  {rule.severity:<7}  {rule.summary}\n"
        for rule in rules.CATALOG
    )
