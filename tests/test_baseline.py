"""Baselines: accept today's findings, fail only on new ones, whatever lines move above them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from patchkit import baseline
from patchkit.findings import Finding
from tests.helpers import run_patchkit, write


def stale(path: Path, line: int, module: str = "mod") -> Finding:
    return Finding("PK102", "sleep", module=module, file=str(path), line=line, object="time.sleep")


def test_a_finding_moved_by_lines_added_above_keeps_its_key(tmp_path: Path) -> None:
    path = write(tmp_path / "mod.py", "from time import sleep\n")
    (before,) = baseline.keyed([stale(path, 1)], str(tmp_path))
    path.write_text("import os\n\n\nfrom time import sleep\n")
    (after,) = baseline.keyed([stale(path, 4)], str(tmp_path))
    assert before.key == after.key
    assert before.key[:2] == ("PK102", "mod.py")
    path.write_text("import os\n\n\nfrom time import sleep as nap\n")  # the line itself changed
    (edited,) = baseline.keyed([stale(path, 4)], str(tmp_path))
    assert edited.key != before.key


def test_identical_findings_are_told_apart_by_an_occurrence_counter(tmp_path: Path) -> None:
    path = write(tmp_path / "mod.py", "x = sleep\nx = sleep\n")
    keys = [k.fingerprint for k in baseline.keyed([stale(path, 1), stale(path, 2)], str(tmp_path))]
    assert keys[0].endswith(":0") and keys[1].endswith(":1")
    assert keys[0].split(":")[0] == keys[1].split(":")[0]
    accepted = frozenset(k.key for k in baseline.keyed([stale(path, 1)], str(tmp_path)))
    new, old = baseline.split([stale(path, 1), stale(path, 2)], accepted, str(tmp_path))
    assert [f.line for f in new] == [2] and [f.line for f in old] == [1]


def test_the_file_is_sorted_json_with_a_schema_and_reads_back(tmp_path: Path) -> None:
    b = write(tmp_path / "b.py", "from time import sleep\n")
    a = write(tmp_path / "a.py", "from time import sleep\n")
    findings = [stale(b, 1, "b"), stale(a, 1, "a"), Finding("PK201", "C", module="psycopg2")]
    out = tmp_path / "baseline.json"
    assert baseline.write(str(out), findings, str(tmp_path)) == 3
    document = json.loads(out.read_text())
    assert document["schema"] == baseline.SCHEMA and document["tool"] == "patchkit"
    assert [(e["file"], e["code"]) for e in document["findings"]] == [
        ("", "PK201"), ("a.py", "PK102"), ("b.py", "PK102"),
    ]  # fmt: skip
    assert out.read_text() == json.dumps(document, indent=2, sort_keys=True) + "\n"
    accepted = baseline.load(str(out))
    assert baseline.split(findings, accepted, str(tmp_path)) == ([], findings)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read baseline"),
        ("{", "invalid JSON"),
        ('{"schema": 99, "findings": []}', "schema: 99"),
        ('{"schema": 1, "findings": [{"code": 1}]}', "string code, file and fingerprint"),
    ],
)
def test_a_bad_baseline_is_one_line_and_exit_2(
    tmp_path: Path, content: str | None, message: str
) -> None:
    from tests.hostile.cli_helpers import assert_one_line_error

    write(tmp_path / "app.py", "print('hi')\n")
    if content is not None:
        (tmp_path / "base.json").write_text(content)
    proc = run_patchkit("audit", "--baseline", "base.json", "app.py", cwd=tmp_path)
    assert message in assert_one_line_error(proc)


def test_baseline_and_write_baseline_together_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_patchkit("audit", "--baseline", "a", "--write-baseline", "b", "x.py", cwd=tmp_path)
    assert proc.returncode == 2 and "not allowed with" in proc.stderr


APP = """
import helper
from gevent import monkey
monkey.patch_all()
"""


def test_the_adoption_workflow_fails_only_on_new_findings(tmp_path: Path) -> None:
    write(tmp_path / "helper.py", "from time import sleep\n")
    write(tmp_path / "app.py", APP)
    assert run_patchkit("audit", "app.py", cwd=tmp_path).returncode == 1
    wrote = run_patchkit("audit", "--write-baseline", "base.json", "app.py", cwd=tmp_path)
    assert wrote.returncode == 0, wrote.stderr
    assert wrote.stdout == "" and "wrote 3 finding(s) to base.json" in wrote.stderr
    # Lines added above the finding: still accepted.
    write(tmp_path / "helper.py", '"""Helpers."""\n\nimport os\n\nfrom time import sleep\n')
    quiet = run_patchkit("audit", "--baseline", "base.json", "app.py", cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "No findings." in quiet.stdout and "3 finding(s) accepted by base.json" in quiet.stderr
    # A new finding fails, and SARIF marks which results are new.
    write(
        tmp_path / "helper.py",
        "import os\n\nfrom time import sleep\nfrom time import sleep as nap\n",
    )
    loud = run_patchkit("audit", "--baseline", "base.json", "--format", "sarif", "app.py",
                        cwd=tmp_path)  # fmt: skip
    assert loud.returncode == 1, loud.stderr
    results = json.loads(loud.stdout)["runs"][0]["results"]
    states = sorted((r["ruleId"], r["baselineState"]) for r in results)
    assert states == [("PK101", "unchanged"), ("PK102", "new"), ("PK102", "unchanged"),
                      ("PK501", "unchanged")]  # fmt: skip
    assert "helper.nap" in loud.stdout
    fingerprints = {r["partialFingerprints"]["patchkit/v1"] for r in results}
    recorded = json.loads((tmp_path / "base.json").read_text())["findings"]
    assert {e["fingerprint"] for e in recorded} < fingerprints
