"""``patchkit run [--profile P] (SCRIPT | -m MODULE) [ARGS...]``: patch first, then run."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from patchkit import imports, runner
from patchkit.commands import Parser
from patchkit.target import split_target

DESCRIPTION = (
    "Apply a profile, then run SCRIPT or -m MODULE exactly as python would: same sys.argv, "
    "__main__, sys.path[0] and exit status. Everything after the target goes to the target."
)


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="patchkit run",
        usage="patchkit run [--profile P] (SCRIPT | -m MODULE) [ARGS...]",
        description=DESCRIPTION,
    )
    p.add_argument(
        "--profile",
        metavar="P",
        help="profile to apply (default: PATCHKIT_PROFILE, the project's config, then full)",
    )
    return p


def main(argv: Sequence[str]) -> int:
    imports.install()  # before the target imports anything, so audits can name importers
    p = parser()
    own, target = split_target(argv, value_options=("--profile",))
    options = p.parse_args(own)
    if target is None:
        p.error("missing SCRIPT or -m MODULE")
    target.check()
    from patchkit.manager import apply

    apply(options.profile, requested_by=f"patchkit run {target.display}")
    return runner.run(target)
