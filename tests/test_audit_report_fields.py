"""What the audit report says about how the target was set up: profile applied, fixes that fit."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_patchkit, write


def test_report_names_the_profile_patchkit_auto_applied_from_the_config(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.patchkit]\nprofile = "nothread"\n')
    app = write(tmp_path / "app.py", "import patchkit.auto\n")
    proc = run_patchkit("audit", "--format", "json", str(app), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["profile"].startswith("nothread")


def test_a_server_started_with_dash_m_is_told_how_that_server_patches(tmp_path: Path) -> None:
    # A stand-in named like the server: what matters is how the target is started (-m celery).
    write(tmp_path / "celery" / "__init__.py", "")
    write(
        tmp_path / "celery" / "__main__.py",
        """
        from time import sleep
        import gevent.monkey
        gevent.monkey.patch_all()
        """,
    )
    proc = run_patchkit("audit", "--format", "json", "-m", "celery", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    fixes = [f["fix"] for f in json.loads(proc.stdout)["findings"] if f["code"] == "PK102"]
    assert fixes and all("patchkit run --profile P -m patchkit.celery" in fix for fix in fixes), (
        fixes
    )
    assert not any("import patchkit.auto" in fix for fix in fixes)
