"""Merging the per-process results files into one report, and how reports name processes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from patchkit.audit import merge
from patchkit.findings import Finding, Outcome, Report
from patchkit.formats import render

STATIC = {"code": "PK102", "message": "app.sleep is the original time.sleep", "file": "/a.py"}
STALL = {"code": "PK301", "message": "time.sleep was called on the hub", "file": "/a.py", "line": 5}


def described(tmp: Path, pid: int, role: str, started: float) -> None:
    about = {"pid": pid, "role": role, "argv": ["gunicorn", "app:app"], "started": started}
    (tmp / f"process-{pid}.json").write_text(json.dumps(about))


def results(tmp: Path, pid: int, findings: list[dict[str, Any]], **extra: Any) -> None:
    (tmp / f"results-{pid}.json").write_text(json.dumps({"findings": findings, **extra}))


def test_static_facts_once_with_their_pids_runtime_findings_per_worker(tmp_path: Path) -> None:
    described(tmp_path, 10, "main", 1.0)
    described(tmp_path, 12, "worker", 3.0)
    described(tmp_path, 11, "worker", 2.0)
    results(tmp_path, 10, [], outcome={"status": "exit", "exit_code": 0})
    results(tmp_path, 11, [STATIC, STALL])
    results(tmp_path, 12, [STATIC, STALL])
    data = merge.read_all(str(tmp_path))
    assert [(p["pid"], p["role"]) for p in data.processes] == [
        (10, "main"),
        (11, "worker"),
        (12, "worker"),
    ]
    static = [f for f in data.findings if f.code == "PK102"]
    assert len(static) == 1 and static[0].detail["processes"] == [11, 12]
    assert sorted(f.process for f in data.findings if f.code == "PK301") == [11, 12]
    assert data.outcome is not None and data.outcome.message is None


def test_a_process_killed_before_writing_is_named_in_the_outcome(tmp_path: Path) -> None:
    described(tmp_path, 10, "main", 1.0)
    described(tmp_path, 11, "worker", 2.0)
    results(tmp_path, 10, [], outcome={"status": "exit", "exit_code": 0})
    data = merge.read_all(str(tmp_path))
    assert data.outcome is not None
    assert "worker pid 11 ended without handing back findings" in (data.outcome.message or "")
    assert not merge.wait_for_all(str(tmp_path), 0.2)


def test_workers_findings_survive_a_main_that_never_wrote(tmp_path: Path) -> None:
    described(tmp_path, 10, "main", 1.0)
    described(tmp_path, 11, "worker", 2.0)
    results(tmp_path, 11, [STALL])
    data = merge.read_all(str(tmp_path))
    assert data.outcome is None
    assert [f.process for f in data.findings] == [11]


def test_text_names_the_process_of_each_finding_and_lists_them_all() -> None:
    processes = (
        {"pid": 10, "role": "main", "argv": ["gunicorn"]},
        {"pid": 11, "role": "worker", "argv": ["gunicorn"]},
        {"pid": 12, "role": "worker", "argv": ["gunicorn"]},
    )
    findings = (
        Finding("PK301", "time.sleep was called on the hub", file="/a.py", line=5, process=12),
        Finding("PK102", "stale", file="/a.py", line=1, process=11, detail={"processes": [11, 12]}),
    )
    report = Report(findings, "gunicorn", "run", None, Outcome("stopped", 0, 1.0), (), processes)
    text = render(report, "text")
    assert "processes: main (pid 10), worker 1 (pid 11), worker 2 (pid 12)" in text
    assert "    in worker 2 (pid 12)\n    time.sleep was called" in text
    assert "in worker 1 (pid 11), worker 2 (pid 12)" in text
    data = json.loads(render(report, "json"))
    assert data["processes"] == [dict(p) for p in processes]
    assert {f["process"] for f in data["findings"]} == {11, 12}
    sarif = json.loads(render(report, "sarif"))["runs"][0]
    assert sarif["properties"]["processes"][1]["pid"] == 11
    assert {r["properties"]["process"] for r in sarif["results"]} == {11, 12}
