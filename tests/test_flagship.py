"""The shipped examples are regression tests: their objectives are stored beside them.

After a deliberate change of the formulation or of the data, run
``PLANNER_UPDATE_EXPECTED=1 python -m pytest tests/test_flagship.py`` and say why in the commit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from planner.config import load_model_config
from planner.loader import load_case
from planner.plan import solve_case

INPUTS = Path(__file__).resolve().parent.parent / "inputs"
CHECKS = [("tiny", "phased", False), ("tiny", "all-at-once", False), ("stargate", "phased", True)]


@pytest.mark.parametrize(("case_name", "model", "relax"), CHECKS)
def test_example_objective_is_unchanged(case_name: str, model: str, relax: bool) -> None:
    case, warnings = load_case(INPUTS / case_name)
    config = load_model_config(model).with_overrides(relax=relax, mip_gap=0.0)
    objective = solve_case(case, config).objective_musd
    stored_path = INPUTS / case_name / "expected_objectives.json"
    stored = json.loads(stored_path.read_text()) if stored_path.exists() else {}
    key = f"{model}{'-relaxed' if relax else ''}"
    if os.environ.get("PLANNER_UPDATE_EXPECTED"):
        stored[key] = objective
        stored_path.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
    assert key in stored, f"no stored objective for {case_name}/{key}; run with PLANNER_UPDATE_EXPECTED=1"
    assert objective == pytest.approx(stored[key], rel=1e-6)


def test_tiny_objective_is_the_hand_computation() -> None:
    """inputs/tiny/README.md: build 3 + chips 6 + energy 0.9855 = 9.9855 $M."""
    case, _ = load_case(INPUTS / "tiny")
    assert solve_case(case, load_model_config("phased")).objective_musd == pytest.approx(9.9855, rel=1e-9)


def test_lp_and_fix_warm_start_keeps_the_optimum() -> None:
    """The warm start only hands HiGHS a first plan: with mip_gap 0 the answer is the same
    optimum and its bound is never above it. (Automatic at gap 0 only under a time limit; see
    tests/test_warmstart.py.)"""
    from planner.config import ModelConfig, SolverSettings

    case, _ = load_case(INPUTS / "tiny")
    gap = 0.0
    plain = solve_case(case, ModelConfig(name="p", solver=SolverSettings(mip_gap=gap)))
    warm = solve_case(case, ModelConfig(name="w", solver=SolverSettings(mip_gap=gap, warm_start_s=10)))
    assert warm.outcome.bound_musd <= warm.objective_musd + 1e-6
    assert warm.objective_musd == pytest.approx(plain.objective_musd, rel=gap + 1e-9)
