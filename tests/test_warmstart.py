"""The warm start (relax-and-fix, LP-and-fix): its plans are plans of the full model, its bound is
a bound, and it never changes the optimum it hands over to HiGHS."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pytest
from factory import config
from hypothesis import given
from scipy import sparse
from test_properties import PROPERTY, cases, close, leq

from planner import highs_factory, solve, warmstart
from planner.case import Case
from planner.config import SolverSettings
from planner.errors import ModelError
from planner.formulation import build_model
from planner.loader import load_case
from planner.matrix import compile_model
from planner.plan import solve_case
from planner.solve import Progress
from planner.synthetic import synthetic_case_files, write_case
from planner.warmstart import WarmStart, lp_and_fix, relative_gap

FEASIBILITY = 1e-6


@pytest.fixture(scope="module")
def synthetic_lp(tmp_path_factory: pytest.TempPathFactory) -> tuple[highspy.HighsLp, np.ndarray]:
    """A small synthetic case with lumpy modules and binary contracts on a 2x2 scenario tree."""
    files = synthetic_case_files(sites=5, chips=3, periods=8, quarters=False, branching=2, stages=2, seed=3)
    return _lp_and_periods(files, tmp_path_factory.mktemp("syn"))


@pytest.fixture(scope="module")
def smaller_synthetic_lp(tmp_path_factory: pytest.TempPathFactory) -> tuple[highspy.HighsLp, np.ndarray]:
    """Like ``synthetic_lp`` on 3 sites, 2 chips and 6 periods with one branching: HiGHS proves its
    optimum within a second."""
    files = synthetic_case_files(sites=3, chips=2, periods=6, quarters=False, branching=2, stages=1, seed=3)
    return _lp_and_periods(files, tmp_path_factory.mktemp("smaller"))


def _lp_and_periods(files: dict[str, str], folder: Path) -> tuple[highspy.HighsLp, np.ndarray]:
    """The phased model of the case ``files`` as HiGHS gets it, and each column's decision period
    (-1 for a continuous column)."""
    case, _ = load_case(write_case(folder / "case", files))
    pm = build_model(case, policy="phased")
    compiled = compile_model(pm.model)
    repn, lp = compiled.repn, compiled.lp
    assert compiled.integer_columns > 0
    periods = np.array(
        [pm.decision_period(v) if v.is_integer() or v.is_binary() else -1 for v in repn.columns]
    )
    return lp, periods


def _assert_plan_of_the_full_model(lp: highspy.HighsLp, values: np.ndarray, objective: float) -> None:
    """Within column and row bounds, integral where the model says so, and costing ``objective``."""
    x = np.asarray(values)
    assert np.all(x >= np.asarray(lp.col_lower_) - FEASIBILITY)
    assert np.all(x <= np.asarray(lp.col_upper_) + FEASIBILITY)
    is_integer = np.array([kind == highspy.HighsVarType.kInteger for kind in lp.integrality_])
    assert np.all(np.abs(x[is_integer] - np.round(x[is_integer])) <= FEASIBILITY)
    matrix = lp.a_matrix_
    shape = (lp.num_row_, lp.num_col_)
    activity = sparse.csc_array((matrix.value_, matrix.index_, matrix.start_), shape=shape) @ x
    scale = np.maximum(1.0, np.abs(activity))
    assert np.all(activity >= np.asarray(lp.row_lower_) - FEASIBILITY * scale)
    assert np.all(activity <= np.asarray(lp.row_upper_) + FEASIBILITY * scale)
    assert float(np.dot(lp.col_cost_, x)) + lp.offset_ == pytest.approx(objective, rel=1e-7)


def test_relax_and_fix_plan_is_a_plan_of_the_full_model(synthetic_lp: tuple) -> None:
    lp, periods = synthetic_lp
    # warm_start_s ~ 0 leaves the restricted MIP no time: the plan comes from relax-and-fix.
    warm = lp_and_fix(lp, SolverSettings(mip_gap=0.0, warm_start_s=1e-3), math.inf, column_period=periods)
    assert warm.values is not None and not warm.interrupted
    assert warm.fractional_columns > 0, "the case must exercise rounding"
    _assert_plan_of_the_full_model(lp, warm.values, warm.objective_musd)
    assert warm.lp_bound_musd <= warm.objective_musd + 1e-6


def test_lp_bound_and_plan_bracket_the_mip_optimum(smaller_synthetic_lp: tuple) -> None:
    """On a case where HiGHS proves the optimum (within 1e-4) its plan and bound are almost the
    optimum itself: the bracket is tight."""
    lp, periods = smaller_synthetic_lp
    warm = lp_and_fix(lp, SolverSettings(mip_gap=0.0, warm_start_s=3), math.inf, column_period=periods)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", 1e-4)
    highs.setOptionValue("time_limit", 5.0)
    highs.passModel(lp)
    highs.run()
    info = highs.getInfo()
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert warm.fractional_columns > 0, "the case must exercise rounding"
    # HiGHS's plan is above the optimum and its bound below it; so must ours be.
    assert warm.lp_bound_musd <= info.objective_function_value + 1e-6
    assert warm.objective_musd >= info.mip_dual_bound - 1e-6 * abs(info.mip_dual_bound)
    assert warm.values is not None
    _assert_plan_of_the_full_model(lp, warm.values, warm.objective_musd)


def test_a_proven_warm_start_skips_branch_and_bound_and_says_so(tmp_path: Path) -> None:
    files = synthetic_case_files(sites=5, chips=3, periods=8, quarters=False, branching=2, stages=2, seed=3)
    case, _ = load_case(write_case(tmp_path / "case", files))
    loose = config().model_copy(update={"solver": SolverSettings(mip_gap=0.2, warm_start_s=30)})
    result = solve_case(case, loose)
    assert result.status == "optimal"
    assert result.outcome.warm_start is not None
    assert result.outcome.bound_musd == pytest.approx(result.outcome.warm_start["lp_bound_musd"])
    assert result.outcome.mip_gap == pytest.approx(
        relative_gap(result.objective_musd, result.outcome.bound_musd)
    )
    assert result.outcome.mip_gap <= 0.2


def test_the_solver_log_covers_the_warm_start_even_when_it_ends_the_solve(tmp_path: Path) -> None:
    """A proven warm start runs no main HiGHS solve: its own HiGHS logs and planner's lines are the log."""
    files = synthetic_case_files(sites=5, chips=3, periods=8, quarters=False, branching=2, stages=2, seed=3)
    case, _ = load_case(write_case(tmp_path / "case", files))
    loose = config().model_copy(update={"solver": SolverSettings(mip_gap=0.2, warm_start_s=30)})
    log_file = tmp_path / "solver.log"
    result = solve_case(case, loose, log_file=log_file)
    assert result.status == "optimal"
    lines = log_file.read_text().splitlines()
    planner_lines = [line for line in lines if line.startswith("planner: ")]
    assert planner_lines[0].startswith("planner: warm start, step 1 of 3: the LP relaxation")
    assert "returned without a branch and bound" in planner_lines[-1]
    assert result.outcome.warm_start is not None
    lp_bound = result.outcome.warm_start["lp_bound_musd"]
    assert f"LP bound {lp_bound:,.6f} musd" in "\n".join(planner_lines)
    assert f"a plan of {result.objective_musd:,.6f} musd" in "\n".join(planner_lines)
    # HiGHS's own log of the LP relaxation sits between planner's first two lines.
    first, second = (lines.index(line) for line in planner_lines[:2])
    assert any(line.startswith("Coefficient ranges") for line in lines[first:second])


def test_log_streams_the_warm_start_as_it_runs(tmp_path: Path) -> None:
    """``--log`` on a warm-started MIP: the terminal shows each step before HiGHS's output for it,
    not minutes of silence until the main solve (HiGHS writes to the C stdout, hence a child)."""
    files = synthetic_case_files(sites=5, chips=3, periods=8, quarters=False, branching=2, stages=2, seed=3)
    case = write_case(tmp_path / "case", files)
    command = [sys.executable, "-c", "from planner.entry import run; run()", "solve", str(case)]
    command += ["--log", "--warm-start", "5", "--mip-gap", "0.2", "--out", str(tmp_path / "run")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    steps = [i for i, line in enumerate(lines) if line.startswith("planner: warm start, step")]
    assert [lines[i][len("planner: warm start, step ") :][:6] for i in steps[:2]] == ["1 of 3", "2 of 3"]
    assert any(line.startswith("Coefficient ranges") for line in lines[steps[0] : steps[1]])
    logged = (tmp_path / "run" / "solver.log").read_text().splitlines()
    assert [line for line in lines if line.startswith("planner: ")] == [
        line for line in logged if line.startswith("planner: ")
    ]


def test_the_restricted_mip_stops_at_its_node_budget_and_highs_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its search tree's memory grows with nodes x model size: past the budget the restricted MIP
    stops (not as an interruption) and HiGHS's own search takes over, to the same optimum."""
    files = synthetic_case_files(sites=3, chips=2, periods=6, quarters=False, branching=2, stages=1, seed=3)
    case, _ = load_case(write_case(tmp_path / "case", files))
    exact = config().model_copy(update={"solver": SolverSettings(mip_gap=0.0, threads=1)})
    plain = solve_case(case, exact)
    monkeypatch.setattr(warmstart, "RESTRICTED_MIP_NODE_CELLS", 0.5)  # stop after its first node
    warm_config = exact.model_copy(update={"solver": exact.solver.model_copy(update={"warm_start_s": 60})})
    log_file = tmp_path / "solver.log"
    warm = solve_case(case, warm_config, log_file=log_file)
    notes = [line for line in log_file.read_text().splitlines() if line.startswith("planner: ")]
    assert any("the restricted MIP stops after" in line for line in notes), notes
    assert "HiGHS's branch and bound follows" in notes[-1]
    assert warm.status == "optimal"
    assert warm.objective_musd == close(plain.objective_musd)


def test_time_limit_is_shared_with_the_warm_start(tmp_path: Path) -> None:
    files = synthetic_case_files(sites=8, chips=4, periods=12, quarters=True, branching=2, stages=2, seed=1)
    case, _ = load_case(write_case(tmp_path / "case", files))
    limited = config().model_copy(
        update={"solver": SolverSettings(mip_gap=0.0, warm_start_s=60, time_limit_s=2)}
    )
    result = solve_case(case, limited)
    # Generous slack for a loaded CI machine; without sharing it would run 60 s + HiGHS.
    assert result.outcome.solve_seconds < 20
    assert result.status in ("time_limit", "optimal")
    if result.outcome.has_solution:
        assert leq(result.outcome.bound_musd, result.objective_musd)


def test_no_branch_and_bound_when_too_little_time_is_left_for_its_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HiGHS's root does not look at its clock for long stretches (a 10-site bench case given 20 s
    took 47): with less than HIGHS_ROOT_LP_FACTOR x the LP relaxation's seconds left after the
    warm start, its plan is returned at once, marked time_limit, and the log says why."""
    files = synthetic_case_files(sites=3, chips=2, periods=6, quarters=False, branching=2, stages=1, seed=3)
    case, _ = load_case(write_case(tmp_path / "case", files))
    timed = SolverSettings(mip_gap=0.0, threads=1, warm_start_s=5, time_limit_s=600)
    lp_seconds = [600 / solve.HIGHS_ROOT_LP_FACTOR]  # the rule's edge: nothing left
    no_plan = [False]

    def slow_lp(*args: Any, **kwargs: Any) -> WarmStart:
        warm = replace(lp_and_fix(*args, **kwargs), lp_seconds=lp_seconds[0])
        return replace(warm, values=None, objective_musd=math.nan) if no_plan[0] else warm

    monkeypatch.setattr(solve, "lp_and_fix", slow_lp)
    log_file = tmp_path / "solver.log"
    result = solve_case(case, config().model_copy(update={"solver": timed}), log_file=log_file)
    notes = [line for line in log_file.read_text().splitlines() if line.startswith("planner: ")]
    assert "too little for HiGHS's branch and bound to get past its root" in notes[-1]
    assert not any("branch and bound follows" in line for line in notes)
    assert result.status == "time_limit" and result.outcome.has_solution
    assert result.outcome.solve_seconds < 100
    lp_seconds[0] = 500 / solve.HIGHS_ROOT_LP_FACTOR  # time enough: HiGHS runs
    result = solve_case(case, config().model_copy(update={"solver": timed}), log_file=log_file)
    assert "HiGHS's branch and bound follows" in log_file.read_text()
    assert result.status == "optimal"
    lp_seconds[0], no_plan[0] = 600 / solve.HIGHS_ROOT_LP_FACTOR, True  # no plan: HiGHS's chance
    result = solve_case(case, config().model_copy(update={"solver": timed}), log_file=log_file)
    assert "HiGHS's branch and bound follows, without a start" in log_file.read_text()
    assert result.status == "optimal"


@PROPERTY
@given(case=cases())
def test_warm_start_never_changes_the_optimum(case: Case) -> None:
    plain = solve_case(case, config())
    warm_config = config().model_copy(
        update={"solver": SolverSettings(mip_gap=0.0, threads=1, warm_start_s=10)}
    )
    warm = solve_case(case, warm_config)
    assert warm.status == "optimal"
    assert warm.objective_musd == close(plain.objective_musd)
    assert leq(warm.outcome.bound_musd, warm.objective_musd)


def test_progress_is_reported_during_the_warm_start(tmp_path: Path) -> None:
    files = synthetic_case_files(sites=8, chips=4, periods=12, quarters=True, branching=2, stages=2, seed=1)
    case, _ = load_case(write_case(tmp_path / "case", files))
    seen: list[Progress] = []
    settings = SolverSettings(mip_gap=0.0, warm_start_s=3, time_limit_s=4)
    result = solve_case(case, config().model_copy(update={"solver": settings}), on_progress=seen.append)
    assert seen, "no progress while solving"
    assert result.outcome.warm_start is not None
    lp_bound = result.outcome.warm_start["lp_bound_musd"]
    assert lp_bound is not None
    for progress in seen:
        assert progress.bound_musd >= lp_bound - 1e-6 * abs(lp_bound)
        assert progress.elapsed_s >= 0


def test_progress_is_reported_without_the_warm_start_too(tmp_path: Path) -> None:
    files = synthetic_case_files(sites=5, chips=3, periods=8, quarters=False, branching=2, stages=2, seed=3)
    case, _ = load_case(write_case(tmp_path / "case", files))
    seen: list[Progress] = []
    settings = SolverSettings(mip_gap=0.0, time_limit_s=3)
    solve_case(case, config().model_copy(update={"solver": settings}), on_progress=seen.append)
    assert seen, "no progress while solving"
    elapsed = [progress.elapsed_s for progress in seen]
    assert all(later - earlier >= 1.0 for earlier, later in zip(elapsed, elapsed[1:], strict=False))


def test_every_warm_start_solve_applies_the_models_highs_options(
    synthetic_lp: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[object] = []  # each object's tolerance as handed over: HiGHS >= 1.16 resets it in a MIP

    def spy(settings: SolverSettings, *log: Any) -> highspy.Highs:
        highs = warmstart_factory(settings, *log)
        made.append(highs.getOptionValue("primal_feasibility_tolerance")[1])
        return highs

    warmstart_factory = highs_factory.configured_highs
    monkeypatch.setattr(highs_factory, "configured_highs", spy)
    lp, periods = synthetic_lp
    settings = SolverSettings(mip_gap=0.0, highs_options={"primal_feasibility_tolerance": 3e-8})
    lp_and_fix(lp, settings, seconds_left=60.0, column_period=periods)
    assert len(made) >= 2  # the LP relaxation (re-solved by relax-and-fix) and the restricted MIP
    assert made == [3e-8] * len(made)


def test_a_refused_highs_option_is_a_model_error_not_a_traceback(tmp_path: Path) -> None:
    case, _ = load_case(write_case(tmp_path / "case", synthetic_case_files(sites=2, chips=2, periods=3)))
    good = config()
    solver = good.solver.model_copy(update={"highs_options": {"no_such_option": 1}})
    bad = good.model_copy(update={"solver": solver})
    with pytest.raises(ModelError, match="no_such_option"):
        solve_case(case, bad)


def test_relax_and_fix_goes_on_to_the_next_threshold_when_a_period_cannot_be_fixed(
    synthetic_lp: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fix_period = warmstart._fix_period
    tried: list[float] = []

    def first_threshold_fails(*args: Any) -> object:
        threshold = args[4]
        tried.append(threshold)
        return None if threshold == warmstart.ROUNDING_THRESHOLDS[0] else real_fix_period(*args)

    monkeypatch.setattr(warmstart, "_fix_period", first_threshold_fails)
    lp, periods = synthetic_lp
    warm = lp_and_fix(lp, SolverSettings(mip_gap=0.0, warm_start_s=1e-3), math.inf, column_period=periods)
    assert set(tried) == set(warmstart.ROUNDING_THRESHOLDS)
    assert warm.values is not None
    _assert_plan_of_the_full_model(lp, warm.values, warm.objective_musd)


@pytest.mark.parametrize(
    ("warm_start_s", "time_limit_s", "mip_gap", "integer_columns", "expected_s"),
    [
        (None, None, 0.005, 10_000, math.inf),  # auto without a time limit: no limit of its own
        (None, None, 0.0, 10_000, 0.0),  # auto at gap 0 without a time limit: HiGHS alone
        (None, None, 0.005, 499, 0.0),  # auto, small MIP: HiGHS alone
        (None, 160.0, 0.005, 499, 0.0),  # auto, small MIP: HiGHS alone
        (None, 160.0, 0.005, 500, 120.0),  # auto, large MIP: 3/4 of the limit
        (None, 160.0, 0.0, 500, 120.0),  # at gap 0 too: the limit may end it before any proof
        (0.0, 160.0, 0.005, 10_000, 0.0),  # told off
        (7.0, None, 0.005, 3, 7.0),  # told on
    ],
)
def test_the_warm_start_budget_is_the_one_set_else_automatic_for_large_mips(
    warm_start_s: float | None,
    time_limit_s: float | None,
    mip_gap: float,
    integer_columns: int,
    expected_s: float,
) -> None:
    settings = SolverSettings(warm_start_s=warm_start_s, time_limit_s=time_limit_s, mip_gap=mip_gap)
    assert settings.warm_start_seconds(integer_columns) == expected_s


@pytest.mark.parametrize("time_limit_s", [120.0, None])
def test_a_mip_gets_the_automatic_warm_start_from_its_size(
    time_limit_s: float | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timed or not (at a gap above 0); untimed, the warm start has no limit either, so its plan
    cannot depend on timing: two runs give the same plan."""
    # A small MIP (56 integer columns) whose warm-start plan is not within the gap of its LP bound:
    # HiGHS's branch and bound follows the warm start, as on larger cases.
    files = synthetic_case_files(sites=3, chips=2, periods=6, quarters=False, branching=2, stages=1, seed=3)
    case, _ = load_case(write_case(tmp_path / "case", files))
    gap = 0.01
    model = config().model_copy(update={"solver": SolverSettings(mip_gap=gap, time_limit_s=time_limit_s)})
    alone = solve_case(case, model)
    assert alone.outcome.warm_start is None, "below the size threshold HiGHS works alone"
    monkeypatch.setattr("planner.config.AUTO_WARM_START_MIN_INTEGERS", alone.outcome.integer_columns)
    runs = [solve_case(case, model) for _ in range(1 if time_limit_s else 2)]
    assert all(run.outcome.warm_start is not None and run.status == "optimal" for run in runs)
    assert all(run.objective_musd == runs[0].objective_musd for run in runs)
    assert all(run.results.builds.equals(runs[0].results.builds) for run in runs)
    warmed = runs[0]
    assert warmed.outcome.warm_start is not None
    warm_plan, lp_bound = (warmed.outcome.warm_start[key] for key in ("objective_musd", "lp_bound_musd"))
    assert warm_plan is not None and lp_bound is not None
    assert relative_gap(warm_plan, lp_bound) > gap  # the warm start alone did not end the solve
    # Both bracket the same optimum, each within the gap of its own bound.
    assert leq(warmed.outcome.bound_musd, alone.objective_musd)
    assert leq(alone.outcome.bound_musd, warmed.objective_musd)
    assert warmed.outcome.mip_gap <= gap + 1e-9


@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_as_a_re_solve_ends_stops_the_warm_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C that lands just after a relax-and-fix re-solve has ended (HiGHS reports it
    optimal, so it never saw the cancel) used to be lost: the warm start went on for its remaining
    re-solves and the run ended "optimal". It stops the whole solve at once: no further HiGHS run,
    and with no plan found yet, the interrupt reaches the caller (exit 130, nothing written)."""
    files = synthetic_case_files(sites=5, chips=3, periods=8, quarters=False, branching=2, stages=2, seed=3)
    case, _ = load_case(write_case(tmp_path / "case", files))
    loose = config().model_copy(update={"solver": SolverSettings(mip_gap=0.0, warm_start_s=30)})
    real_join = highspy.Highs.joinSolve
    runs: list[highspy.HighsModelStatus] = []

    def join_then_ctrl_c_after_the_third(self: highspy.Highs) -> highspy.HighsStatus | None:
        status = real_join(self)
        runs.append(self.getModelStatus())
        if len(runs) == 3:  # the LP, then two re-solves
            signal.raise_signal(signal.SIGINT)  # to this (main) thread: handled before the next run
        return status

    monkeypatch.setattr(highspy.Highs, "joinSolve", join_then_ctrl_c_after_the_third)
    with pytest.raises(KeyboardInterrupt):
        solve_case(case, loose)
    assert runs[2] == highspy.HighsModelStatus.kOptimal
    assert len(runs) == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
