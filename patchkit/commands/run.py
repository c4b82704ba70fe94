"""``patchkit run [--profile P] (SCRIPT | -m MODULE) [ARGS...]``: patch first, then run."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from patchkit import imports, runner
from patchkit.commands import Parser, warn
from patchkit.errors import TargetError
from patchkit.target import split_target

DESCRIPTION = (
    "Apply a profile, then run SCRIPT or -m MODULE exactly as python would: same sys.argv, "
    "__main__, sys.path[0] and exit status. run's own options come before the target; every "
    "word after it (-- included) goes to the target."
)


def parser() -> Parser:
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
    own, target = split_target(argv, p.value_options())
    options: argparse.Namespace = p.parse_args(own)
    if target is None:
        p.error("missing SCRIPT or -m MODULE")
    try:
        target.check()
    except TargetError as exc:
        if target.kind != "module":
            raise
        warn(f"patchkit run: {exc}")
        return 1  # python -m's status for a module it cannot find or run
    from patchkit.manager import apply

    apply(options.profile, requested_by=f"patchkit run {target.display}")
    from patchkit.detect.production import start_from_config

    start_from_config()  # `watch = MS` in the config: the production hub watch
    return runner.run(target)
