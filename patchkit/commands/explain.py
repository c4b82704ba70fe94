"""``patchkit explain CODE``: print a rule's documentation page (the same text as docs/rules/)."""

from __future__ import annotations

from collections.abc import Sequence

from patchkit import rules
from patchkit.commands import Parser, write_stdout
from patchkit.errors import PatchkitError


class UnknownRuleError(PatchkitError):
    """A rule code that is not in the catalog."""


def main(argv: Sequence[str]) -> int:
    parser = Parser(prog="patchkit explain", description="print a rule's docs")
    parser.add_argument("code", help="a rule code, such as PK102")
    options = parser.parse_args(list(argv))
    try:
        text = rules.page(options.code)
    except KeyError:
        raise UnknownRuleError(
            f"unknown rule {options.code!r} (known: {', '.join(rules.codes())})"
        ) from None
    write_stdout(text)
    return 0
