"""``patchkit audit --static [ENTRY...]``: the entry points to read, from the command line/config.

Every word after the options is an entry file (``--static app.py tasks.py``), or ``-m MODULE``
names one; with none, ``[tool.patchkit] entry`` lists them, relative to the config file, as the
pre-commit hook runs it. Nothing is run: see ``patchkit.detect.static_audit``.
"""

from __future__ import annotations

import argparse
import os

from patchkit import profiles
from patchkit.config import ProjectConfig
from patchkit.detect.static_audit import audit_entries
from patchkit.errors import PatchkitError
from patchkit.findings import Report
from patchkit.target import Target


def static_report(
    target: Target | None, config: ProjectConfig, options: argparse.Namespace
) -> Report:
    entries = entry_files(target, config)
    integrations = profiles.resolve(options.profile, config).integrations
    findings = audit_entries(entries, use_cache=not options.no_cache, integrations=integrations)
    return Report(tuple(findings), " ".join(entries), "static", options.profile)


def entry_files(target: Target | None, config: ProjectConfig) -> list[str]:
    """The files to read, each checked like a script python could run."""
    if target is None:
        if not config.entry:
            raise PatchkitError(
                "--static: no entry points: give files (--static app.py tasks.py) or set "
                "entry = [...] in [tool.patchkit]"
            )
        base = os.path.dirname(config.source or "")
        targets = [Target("script", os.path.join(base, name)) for name in config.entry]
    elif target.kind == "module":
        targets = [target]
    else:
        targets = [Target("script", name) for name in (target.name, *target.args)]
    out = []
    for each in targets:
        each.check()
        path = each.entry_file()
        if path is not None:
            out.append(path if each.kind == "module" else _as_given(each.name, path))
    return out


def _as_given(name: str, path: str) -> str:
    """The path as the user wrote it (reports show it), or ``DIR/__main__.py`` for a directory."""
    return os.path.join(name, "__main__.py") if os.path.isdir(name) else name
