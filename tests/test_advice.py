"""Fixes fit how the target is started: a gunicorn or celery target has no first line to edit."""

from __future__ import annotations

from patchkit.audit.advice import fit_fixes
from patchkit.findings import Finding

LATE = Finding("PK101", "patch_all ran late", file="app.py", line=3)


def test_gunicorn_target_is_told_about_the_worker_class_not_patchkit_auto() -> None:
    (fixed,) = fit_fixes([LATE], "module", "gunicorn")
    assert "patchkit.gunicorn.GeventWorker" in fixed.fix
    assert "import patchkit.auto" not in fixed.fix


def test_celery_target_is_told_to_start_under_patchkit_run() -> None:
    (fixed,) = fit_fixes([LATE], "module", "celery")
    assert "python -m patchkit run --profile P -m patchkit.celery" in fixed.fix
    assert "import patchkit.auto" not in fixed.fix


def test_a_script_keeps_the_first_line_advice() -> None:
    assert fit_fixes([LATE], "script", "app.py") == [LATE]
    assert "`import patchkit.auto`" in LATE.fix


def test_findings_without_patch_advice_are_left_alone() -> None:
    other = Finding("PK302", "hub blocked", fix="Move it to a thread pool.")
    assert fit_fixes([other], "module", "gunicorn") == [other]


def test_the_patchkit_celery_entry_is_a_celery_target() -> None:
    (fixed,) = fit_fixes([LATE], "module", "patchkit.celery")
    assert "-m patchkit.celery" in fixed.fix and "import patchkit.auto" not in fixed.fix
