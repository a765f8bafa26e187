"""What lies between planner and the HiGHS library: its banner on stdout and its refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import highspy
import pytest
from test_diagnose import _case

from planner.config import SolverSettings
from planner.errors import ModelError
from planner.formulation import build_model
from planner.solve import solve_model


def test_a_solve_highs_refuses_to_start_is_a_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """HiGHS answers some set-ups (e.g. a thread count its scheduler was not made for) with an
    error and no model status: that is said in words, not reported as a plan-less status."""
    monkeypatch.setattr(highspy.Highs, "solve", lambda self: highspy.HighsStatus.kError)
    with pytest.raises(ModelError, match="refused to start"):
        solve_model(build_model(_case()).model, SolverSettings())


def test_json_output_is_one_object_even_from_a_fresh_process(tiny_case_dir: Path, tmp_path: Path) -> None:
    """highspy >= 1.16 prints a banner on the C library's stdout when a process makes its first
    HiGHS object; ``--json`` must still print exactly one JSON object."""
    command = [sys.executable, "-c", "from planner.entry import run; run()", "solve", str(tiny_case_dir)]
    done = subprocess.run(
        [*command, "--json", "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "optimal"
