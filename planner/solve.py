"""Hand a built model to HiGHS as a matrix and read the plan back.

The model is compiled once by Pyomo's ``LinearStandardFormCompiler`` into a CSC matrix and passed
whole with ``highspy.passModel``; the per-constraint persistent interface is several times slower
at scale (``shared/domain/performance.md``). Build, load and solve seconds are measured apart.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from planner.config import SolverSettings
from planner.errors import ModelError

INF = highspy.kHighsInf

_STATUS_WORDS = {
    "kOptimal": "optimal",
    "kTimeLimit": "time_limit",
    "kInterrupt": "interrupted",
    "kHighsInterrupt": "interrupted",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded",
    "kIterationLimit": "iteration_limit",
    "kSolutionLimit": "solution_limit",
    "kMemoryLimit": "memory_limit",
    "kModelEmpty": "optimal",
}


@dataclass
class SolveOutcome:
    """What HiGHS said, in the terms a planner reads."""

    status: str
    """optimal, time_limit, interrupted, infeasible, unbounded, ... (HiGHS model status)."""
    has_solution: bool
    objective_musd: float
    bound_musd: float
    mip_gap: float
    """Relative gap between plan and bound (0 for an optimal LP)."""
    load_seconds: float
    solve_seconds: float
    rows: int
    columns: int
    nonzeros: int
    integer_columns: int
    row_duals: dict[str, dict[tuple, float]] = field(default_factory=dict)
    """Constraint name -> index -> dual value (LPs only), in objective units per row unit."""

    @property
    def is_proven_optimal(self) -> bool:
        return self.status == "optimal"


@dataclass(frozen=True)
class Progress:
    """A snapshot of a running MIP solve."""

    elapsed_s: float
    incumbent_musd: float
    bound_musd: float
    gap: float


def solve_model(
    model: pyo.ConcreteModel,
    settings: SolverSettings,
    log_file: Path | None = None,
    stream_log: bool = False,
    with_duals: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
) -> SolveOutcome:
    """Compile, pass to HiGHS, solve, and load the primal values back into ``model``.

    Ctrl-C stops HiGHS cleanly (status ``interrupted``) and the best plan found is still loaded.
    """
    started = time.perf_counter()
    repn, lp, integer_columns = compile_model(model)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", bool(stream_log or log_file))
    highs.setOptionValue("log_to_console", stream_log)
    if log_file is not None:
        highs.setOptionValue("log_file", str(log_file))
    highs.setOptionValue("mip_rel_gap", settings.mip_gap)
    highs.setOptionValue("random_seed", settings.random_seed)
    if settings.threads:
        highs.setOptionValue("threads", settings.threads)
    for option, value in settings.highs_options.items():
        if highs.setOptionValue(option, value) != highspy.HighsStatus.kOk:
            raise ModelError(f"HiGHS refused option {option} = {value!r} (see the HiGHS option list).")
    if not integer_columns and settings.lp_solver != "choose":
        highs.setOptionValue("solver", settings.lp_solver)
    if settings.time_limit_s is not None:
        highs.setOptionValue("time_limit", float(settings.time_limit_s))
    highs.passModel(lp)
    load_seconds = time.perf_counter() - started
    lp_bound = -math.inf
    if integer_columns and settings.warm_start_s > 0:
        start = lp_and_fix_start(lp, settings)
        if start is not None:
            solution = highspy.HighsSolution()
            solution.col_value = list(start[0])
            solution.value_valid = True
            highs.setSolution(solution)
            lp_bound = start[1]

    solve_started = time.perf_counter()
    if on_progress is not None and integer_columns:
        _report_progress(highs, on_progress)
    highs.HandleKeyboardInterrupt = True
    highs.solve()
    solve_seconds = time.perf_counter() - solve_started

    status_name = highs.modelStatusToString(highs.getModelStatus())
    status = _STATUS_WORDS.get(str(highs.getModelStatus()).split(".")[-1], status_name)
    info = highs.getInfo()
    has_solution = (
        info.primal_solution_status == 2 and lp.num_col_ > 0 or (lp.num_col_ == 0 and status == "optimal")
    )
    objective = info.objective_function_value if has_solution else math.nan
    if integer_columns:
        # Stopped before the root bound is known: the LP relaxation of the warm start is one.
        bound = max(info.mip_dual_bound, lp_bound)
        gap = _relative_gap(objective, bound) if has_solution else math.inf
    else:
        bound = objective if status == "optimal" else math.nan
        gap = 0.0 if status == "optimal" else math.inf
    outcome = SolveOutcome(
        status=status,
        has_solution=bool(has_solution),
        objective_musd=objective,
        bound_musd=bound,
        mip_gap=gap,
        load_seconds=load_seconds,
        solve_seconds=solve_seconds,
        rows=lp.num_row_,
        columns=lp.num_col_,
        nonzeros=int(repn.A.nnz),
        integer_columns=integer_columns,
    )
    if has_solution:
        solution = highs.getSolution()
        values = np.asarray(solution.col_value)
        for var, value in zip(repn.columns, values, strict=True):
            var.set_value(float(value), skip_validation=True)
        if with_duals and not integer_columns and status == "optimal":
            outcome.row_duals = _row_duals(repn, np.asarray(solution.row_dual))
    return outcome


def lp_and_fix_start(lp: highspy.HighsLp, settings: SolverSettings) -> tuple[np.ndarray, float] | None:
    """A first plan for a hard MIP, and the LP bound: solve the LP relaxation, fix every integer
    column the LP leaves integral, and solve the (much smaller) remaining MIP within
    ``warm_start_s``."""
    integrality = list(lp.integrality_)
    relaxed = highspy.Highs()
    relaxed.setOptionValue("output_flag", False)
    if settings.lp_solver != "choose":
        relaxed.setOptionValue("solver", settings.lp_solver)
    lp.integrality_ = []
    try:
        relaxed.passModel(lp)
        relaxed.run()
    finally:
        lp.integrality_ = integrality
    if relaxed.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    x = np.asarray(relaxed.getSolution().col_value)
    is_integer = np.array([kind == highspy.HighsVarType.kInteger for kind in integrality])
    integral = is_integer & (np.abs(x - np.round(x)) <= 1e-6)
    lower, upper = np.array(lp.col_lower_), np.array(lp.col_upper_)
    lower[integral] = upper[integral] = np.round(x[integral])
    fixed = highspy.Highs()
    fixed.setOptionValue("output_flag", False)
    fixed.setOptionValue("mip_rel_gap", settings.mip_gap)
    fixed.setOptionValue("random_seed", settings.random_seed)
    fixed.setOptionValue("time_limit", float(settings.warm_start_s))
    fixed.passModel(lp)
    fixed.changeColsBounds(len(lower), np.arange(len(lower), dtype=np.int32), lower, upper)
    fixed.run()
    if fixed.getInfo().primal_solution_status != 2:
        return None
    return np.asarray(fixed.getSolution().col_value), relaxed.getInfo().objective_function_value


def _report_progress(highs: highspy.Highs, on_progress: Callable[[Progress], None]) -> None:
    """Forward MIP progress at most once a second (HiGHS calls back far more often)."""
    last = [-1.0]

    def callback(event: object) -> None:
        out = event.data_out
        if out.running_time - last[0] < 1.0:
            return
        last[0] = out.running_time
        on_progress(Progress(out.running_time, out.mip_primal_bound, out.mip_dual_bound, out.mip_gap))

    highs.cbMipInterrupt.subscribe(callback)


def _relative_gap(objective: float, bound: float) -> float:
    """HiGHS's definition: |objective - bound| / |objective|."""
    if not math.isfinite(bound):
        return math.inf
    return abs(objective - bound) / max(abs(objective), 1e-9)


def compile_model(model: pyo.ConcreteModel) -> tuple[object, highspy.HighsLp, int]:
    """Pyomo model -> standard-form matrices -> ``HighsLp`` (and its count of integer columns)."""
    repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    lp, integer_columns = _to_highs_lp(repn)
    return repn, lp, integer_columns


def _to_highs_lp(repn: object) -> tuple[highspy.HighsLp, int]:
    """The standard-form matrices as a ``HighsLp``; rows keep their sense (mixed form)."""
    a_matrix = repn.A.tocsc()
    n_rows, n_cols = a_matrix.shape
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    cost = repn.c.toarray()[0] if repn.c.shape[0] else np.zeros(n_cols)
    lp.col_cost_ = cost
    lp.offset_ = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
    lower = np.array([-INF if v.lb is None else v.lb for v in repn.columns], dtype=float)
    upper = np.array([INF if v.ub is None else v.ub for v in repn.columns], dtype=float)
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    rhs = np.asarray(repn.rhs, dtype=float)
    sense = np.array([multiplier for _con, multiplier in repn.rows], dtype=int)
    lp.row_lower_ = np.where(sense >= 0, np.where(sense == 0, rhs, -INF), rhs)
    lp.row_upper_ = np.where(sense <= 0, np.where(sense == 0, rhs, INF), rhs)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a_matrix.indptr
    lp.a_matrix_.index_ = a_matrix.indices
    lp.a_matrix_.value_ = a_matrix.data
    is_integer = [v.is_integer() or v.is_binary() for v in repn.columns]
    integer_columns = int(sum(is_integer))
    if integer_columns:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous for flag in is_integer
        ]
    return lp, integer_columns


def _row_duals(repn: object, row_dual: np.ndarray) -> dict[str, dict[tuple, float]]:
    """Duals keyed by constraint name and index: d(objective) / d(right-hand side)."""
    duals: dict[str, dict[tuple, float]] = {}
    for (con, _multiplier), dual in zip(repn.rows, row_dual, strict=True):
        index = con.index()
        key = index if isinstance(index, tuple) else (index,)
        table = duals.setdefault(con.parent_component().local_name, {})
        table[key] = table.get(key, 0.0) + float(dual)
    return duals
