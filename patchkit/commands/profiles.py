"""``patchkit profiles [--format json]``: every profile, where it comes from, what it patches."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from patchkit.commands import Parser, write_stdout
from patchkit.config import load_config
from patchkit.formats import FORMATS
from patchkit.profiles import Profile, resolve, resolve_all


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="patchkit profiles",
        description="List the built-in and project profiles and exactly what each patches.",
    )
    # SARIF describes findings, not profiles: the registry's other formats apply here.
    choices = [name for name in FORMATS if name != "sarif"]
    p.add_argument("--format", choices=choices, default="text")
    return p


def main(argv: Sequence[str]) -> int:
    options = parser().parse_args(list(argv))
    config = load_config()
    found = resolve_all(config)
    default = resolve(None, config).name  # also reports a configured profile that does not exist
    if options.format == "json":
        document = {
            "default": default,
            "config": config.source,
            "profiles": [p.as_dict() for p in found],
        }
        write_stdout(json.dumps(document, indent=2) + "\n")
        return 0
    write_stdout("\n\n".join(render(p, default) for p in found) + "\n")
    return 0


def render(profile: Profile, default: str) -> str:
    settings = profile.settings()
    patched = [name for name, on in settings.items() if on]
    lines = [
        f"{profile.name}{'  (default)' if profile.name == default else ''}",
        f"  source:       {profile.source}",
        f"  patches:      {', '.join(patched) or '(nothing)'}",
        "  patch_all(" + ", ".join(f"{k}={v}" for k, v in settings.items()) + ")",
        f"  integrations: {', '.join(profile.integrations) or '(none)'}",
    ]
    return "\n".join(lines)
