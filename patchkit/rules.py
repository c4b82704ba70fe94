"""The rule catalog: one entry per code, read by the detectors, the writers, explain and docs.

Each rule keeps its documentation next to its code (ruff-style), so ``docs/rules/PKxxx.md`` is
generated from here and cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str  # "error" blocks the hub or breaks, "warning" is risky, "info" is context
    summary: str
    fix: str
    what: str = ""
    why: str = ""
    example: str = ""
    use_instead: str = ""
    profiles: str = "all profiles that patch the affected module"


CATALOG: tuple[Rule, ...] = (
    Rule(
        "PK101",
        "patched-late",
        "warning",
        "patching ran after non-stdlib modules that use patch targets were loaded",
        "Patch before anything else: make `import patchkit.auto` the first line of the entry "
        "point, or run it under `python -m patchkit run`.",
    ),
    Rule(
        "PK102",
        "stale-global",
        "error",
        "a module global bound to an unpatched original that bypasses gevent",
        "Import the module, not the name (`import time; time.sleep(...)`), or patch before "
        "this module is imported.",
    ),
    Rule(
        "PK103",
        "stale-binding",
        "error",
        "a class attribute, function default or closure bound to an unpatched original",
        "Look the function up at call time instead of binding it at import, or patch before "
        "this module is imported.",
    ),
    Rule(
        "PK104",
        "unpatched-subclass",
        "error",
        "a class derived from an unpatched original class",
        "Patch before the module defining this class is imported, so it derives from "
        "gevent's class.",
    ),
    Rule(
        "PK105",
        "prepatch-object",
        "error",
        "a live object made before patching that keeps blocking or per-thread behaviour",
        "Create the object after patching (lazily, on first use), or patch before this "
        "module is imported.",
    ),
    Rule(
        "PK106",
        "repatched",
        "warning",
        "patching requested again with different settings",
        "Patch once, from one place, with one profile: remove the other patch call or make "
        "both use the same profile.",
    ),
    Rule(
        "PK107",
        "patched-off-main-thread",
        "warning",
        "patching ran outside the main thread, or while other OS threads were running",
        "Patch in the main thread before any thread is started.",
    ),
    Rule(
        "PK108",
        "patch-drift",
        "error",
        "a patched attribute was replaced or restored after patching",
        "Find the code that reassigns the attribute (often a test helper or an SDK "
        "`restore_*()` call) and remove it, or re-apply the profile after it.",
    ),
    Rule(
        "PK201",
        "blocking-extension",
        "error",
        "a loaded C-extension client that does its I/O in C and is not made cooperative",
        "Make the client cooperative (see the message) or run its calls in a real thread "
        "(`gevent.get_hub().threadpool`).",
    ),
    Rule(
        "PK301",
        "blocking-call",
        "error",
        "at run time, a blocking original was called from a greenlet on the hub's thread",
        "Call the patched function (look it up on its module at call time), or patch before "
        "the caller's module is imported.",
    ),
    Rule(
        "PK302",
        "hub-blocked",
        "error",
        "at run time, the event loop did not run for longer than the threshold",
        "Move the CPU-bound or blocking work to a real thread (`gevent.get_hub().threadpool`) "
        "or a process, or yield with `gevent.sleep(0)` inside long loops.",
    ),
    Rule(
        "PK501",
        "import-before-patch",
        "warning",
        "static: in the entry file a module-level import precedes the patch call",
        "Move the patch call (`import patchkit.auto`) above every other import.",
    ),
    Rule(
        "PK502",
        "patch-not-top-level",
        "warning",
        "static: the patch call is inside a function, class or condition",
        "Call the patch at module level, as the first statement of the entry file.",
    ),
)

_BY_CODE = {rule.code: rule for rule in CATALOG}


def get(code: str) -> Rule:
    """The rule for ``code``; ``KeyError`` for an unknown code."""
    return _BY_CODE[code.upper()]


def codes() -> list[str]:
    return [rule.code for rule in CATALOG]
