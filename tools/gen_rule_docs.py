"""Write docs/rules/PKxxx.md and docs/rules/index.md from the rule catalog (patchkit/rules.py).

python tools/gen_rule_docs.py           # write the pages
python tools/gen_rule_docs.py --check   # exit 1 if any page is stale (the test runs this)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from patchkit import rules  # noqa: E402

OUT = ROOT / "docs" / "rules"


def pages() -> dict[Path, str]:
    """Every generated file and its text."""
    out = {OUT / f"{rule.code}.md": rules.page(rule.code) for rule in rules.CATALOG}
    lines = [
        "# Rules",
        "",
        "Generated from `patchkit/rules.py` by `python tools/gen_rule_docs.py`; do not edit.",
        "`python -m patchkit explain CODE` prints the same page.",
        "",
        "| code | name | severity | reports | checked in |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| [{r.code}]({r.code}.md) | {r.name} | {r.severity} | {r.summary} "
        f"| {rules.checked_in(r)} |"
        for r in rules.CATALOG
    ]
    out[OUT / "index.md"] = "\n".join(lines) + "\n"
    return out


def stale() -> list[Path]:
    return [p for p, text in pages().items() if not p.exists() or p.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale pages")
    options = parser.parse_args(argv)
    if options.check:
        old = stale()
        for path in old:
            print(f"stale: {path.relative_to(ROOT)}", file=sys.stderr)
        return 1 if old else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for path, text in pages().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
