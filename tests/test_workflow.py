"""The CI workflow is valid GitHub Actions and runs what tox.ini defines."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"


def _check_jsonschema() -> list[str]:
    exe = Path(sys.executable).with_name("check-jsonschema")
    if exe.exists():
        return [str(exe)]
    if shutil.which("check-jsonschema"):
        return ["check-jsonschema"]
    pytest.skip("check-jsonschema is not installed (pip install check-jsonschema)")


def test_workflow_validates_against_the_github_workflow_schema():
    # The schema ships inside check-jsonschema (vendored): no network needed.
    proc = subprocess.run(
        [*_check_jsonschema(), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _workflow() -> dict:
    yaml = pytest.importorskip("ruamel.yaml")
    return yaml.YAML(typ="safe").load(WORKFLOW.read_text())


def test_workflow_runs_every_python_on_linux_and_macos_with_the_five_services():
    jobs = _workflow()["jobs"]
    assert jobs["linux"]["runs-on"] == "ubuntu-latest"
    assert jobs["macos"]["runs-on"] == "macos-latest"
    assert jobs["linux"]["strategy"]["matrix"]["python-version"] == [
        "3.10", "3.11", "3.12", "3.13"
    ]  # fmt: skip
    images = {svc["image"].split(":")[0] for svc in jobs["linux"]["services"].values()}
    assert images == {"postgres", "mariadb", "redis", "rabbitmq", "eclipse-mosquitto"}


def test_every_ci_python_maps_to_tox_envs_that_exist():
    tox = configparser.ConfigParser()
    tox.read(REPO / "tox.ini")
    mapping = dict(line.split(":", 1) for line in tox["gh-actions"]["python"].strip().splitlines())
    for version in _workflow()["jobs"]["linux"]["strategy"]["matrix"]["python-version"]:
        envs = [e.strip() for e in mapping[version].split(",")]
        assert f"py{version.replace('.', '')}" in envs


def test_each_job_uploads_its_measured_matrix():
    jobs = _workflow()["jobs"]
    for name in ("linux", "macos"):
        steps = jobs[name]["steps"]
        uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
        assert uploads and uploads[0]["with"]["path"] == "compat-matrix/"
        assert any("tools/matrix.py --render-only" in s.get("run", "") for s in steps)
