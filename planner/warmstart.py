"""A first plan for a hard MIP, and often the proof that it is good enough.

1. Solve the LP relaxation. Its objective ``L`` is a valid lower bound of the MIP.
2. Relax-and-fix in time: walk the periods in order; round the period's integer decisions
   *up* (a fraction above a small threshold becomes a whole module or a signed contract:
   rounding capacity down would leave demand unmet), fix them, and re-solve the LP from the
   previous basis so later periods adapt. Two thresholds are tried; each costs one warm-started
   dual simplex re-solve per period.
3. LP-and-fix: fix every integer column that the LP leaves integral (in capacity plans nearly all
   of them) and solve the small remaining MIP within ``warm_start_s`` and a node budget
   (``RESTRICTED_MIP_NODE_CELLS``: its search tree's memory).
4. The best plan ``U`` goes to HiGHS as a start. As soon as ``(U - L) / U <= mip_gap`` the plan
   is *proven* within the gap by ``L``, the warm start stops and the full branch and bound is
   skipped.

Every plan is a plan of the full model (only bounds of integer columns are changed), so it is
feasible there; ``L`` is a bound of the full model. With ``mip_gap = 0`` step 4 only skips the
full solve when the plan equals the LP bound, i.e. when it is optimal.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np

from planner.config import SolverSettings
from planner.highs_factory import FEASIBLE_PLAN, NO_LOG, SolverLog, give_start
from planner.highs_run import solve_interruptibly, stop_requested

INTEGRALITY_TOLERANCE = 1e-6


@dataclass(frozen=True)
class WarmStart:
    """What LP-and-fix found within its time."""

    lp_bound_musd: float
    """Optimal LP relaxation: a lower bound of the MIP (-inf when the LP did not finish)."""
    values: np.ndarray | None
    """Column values of the best plan found (None: none found)."""
    objective_musd: float
    seconds: float
    fractional_columns: int
    """Integer columns left free in the restricted MIP (the LP's fractional ones)."""
    interrupted: bool = False
    """Ctrl-C during the warm start: the caller must stop too."""
    lp_seconds: float = 0.0
    """How long the LP relaxation took (0 when it did not finish)."""

    @property
    def gap(self) -> float:
        if self.values is None or not math.isfinite(self.lp_bound_musd):
            return math.inf
        return relative_gap(self.objective_musd, self.lp_bound_musd)

    def proves(self, mip_gap: float) -> bool:
        """The plan is within ``mip_gap`` of the LP bound (so of the MIP optimum)."""
        return self.gap <= mip_gap


def relative_gap(objective: float, bound: float) -> float:
    """HiGHS's definition: |objective - bound| / |objective|."""
    if not math.isfinite(bound) or not math.isfinite(objective):
        return math.inf
    return abs(objective - bound) / max(abs(objective), 1e-9)


RESTRICTED_MIP_NODE_CELLS = 3e8
"""The restricted MIP stops once its nodes x (rows + columns of the model) pass this: its search
tree's memory grows with both (~0.5 MiB a node on the 20-site bench case, whose restricted MIP
grew the process from 0.8 to 1.97 GiB in 135 s and 2,305 nodes without a better plan than
relax-and-fix). On that case it stops after ~1,300 nodes; the flagship's (680 nodes of a
36,629-column-and-row model) is far below. A count, not a clock or a memory reading, so that
untimed runs stay deterministic."""

ROUNDING_THRESHOLDS: tuple[float, ...] = (0.05, 0.15)
"""Relax-and-fix variants: an LP value above the threshold is rounded up (measured on the
flagship and the bench case; a lower threshold holds more spare capacity)."""


@dataclass(frozen=True)
class GivenPlan:
    """A plan the caller already has (a frozen plan's own later decisions, completed)."""

    values: np.ndarray
    objective_musd: float
    found_by: str


def complete_start(
    lp: highspy.HighsLp,
    integer_values: dict[int, float],
    settings: SolverSettings,
    seconds_left: float,
    found_by: str,
    log: SolverLog = NO_LOG,
) -> GivenPlan | None:
    """The best plan with the integer columns of ``integer_values`` (column -> value, rounded to
    whole numbers) fixed, the others relaxed: an LP. None when it has no optimum in time (the
    decisions do not fit this case) or was stopped."""
    columns = np.fromiter(integer_values, dtype=np.int32, count=len(integer_values))
    values = np.round(np.fromiter(integer_values.values(), dtype=float, count=len(integer_values)))
    log.note(f"start: {found_by}: {len(columns):,} integer columns fixed, the best plan around them (an LP)")
    completion = log.highs(settings)
    _pass_relaxed(completion, lp)
    completion.changeColsBounds(len(columns), columns, values, values)
    completion.setOptionValue("time_limit", max(seconds_left, 1e-3))
    solve_interruptibly(completion)
    status = completion.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal or stop_requested():
        log.note(f"start: {found_by}: no plan ({completion.modelStatusToString(status)}); none given")
        return None
    objective = completion.getInfo().objective_function_value
    log.note(f"start: {found_by} gives a plan of {objective:,.6f} musd")
    return GivenPlan(np.asarray(completion.getSolution().col_value), objective, found_by)


def _pass_relaxed(highs: highspy.Highs, lp: highspy.HighsLp) -> None:
    """Pass ``lp`` to ``highs`` without its integrality (an LP), leaving ``lp`` as it was."""
    integrality = list(lp.integrality_)
    lp.integrality_ = []
    try:
        highs.passModel(lp)
    finally:
        lp.integrality_ = integrality


def lp_and_fix(
    lp: highspy.HighsLp,
    settings: SolverSettings,
    seconds_left: float,
    on_progress: Callable[[float, float, float], None] | None = None,
    column_period: np.ndarray | None = None,
    log: SolverLog = NO_LOG,
    given: GivenPlan | None = None,
) -> WarmStart:
    """Run the warm start on ``lp`` (an integer model) within ``seconds_left`` (the LP may use
    all of it; the restricted MIP at most ``settings.warm_start_s``). ``column_period`` gives the
    period index of each integer column (relax-and-fix is skipped without it).
    ``on_progress(elapsed, plan, bound)`` is told of plans against the LP bound; ``log`` gets
    the HiGHS logs of the LP and the restricted MIP, and a line per step and per plan. ``given``:
    a plan to beat from the start (it may already be within the gap of the LP bound)."""
    search = _Search(settings, seconds_left, on_progress, log)
    integrality = list(lp.integrality_)
    log.note("warm start, step 1 of 3: the LP relaxation (its optimum is a bound of the MIP)")
    relaxed = log.highs(settings)
    if settings.lp_solver != "choose":
        relaxed.setOptionValue("solver", settings.lp_solver)
    relaxed.setOptionValue("time_limit", max(seconds_left, 1e-3))
    _pass_relaxed(relaxed, lp)
    lp_started = time.perf_counter()
    solve_interruptibly(relaxed)
    status = relaxed.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal or stop_requested():
        search.interrupted = status == highspy.HighsModelStatus.kInterrupt or stop_requested()
        ended = "Interrupted by user" if search.interrupted else relaxed.modelStatusToString(status)
        log.note(f"warm start: the LP relaxation ended {ended!r}; no first plan")
        return search.result(0)
    search.lp_bound = relaxed.getInfo().objective_function_value
    search.lp_seconds = time.perf_counter() - lp_started
    x = np.asarray(relaxed.getSolution().col_value)
    is_integer = np.array([kind == highspy.HighsVarType.kInteger for kind in integrality])
    fractional = int((is_integer & (np.abs(x - np.round(x)) > INTEGRALITY_TOLERANCE)).sum())
    log.note(
        f"warm start: LP bound {search.lp_bound:,.6f} musd; {fractional:,} of {int(is_integer.sum()):,}"
        " integer columns fractional"
    )
    if given is not None:
        search.offer(given.values, given.objective_musd, given.found_by)
        if search.proven():
            return search.result(fractional)
    if fractional == 0:
        search.offer(x, search.lp_bound, "the LP relaxation (integral)")
        return search.result(0)
    if column_period is not None:
        _relax_and_fix(relaxed, lp, x, is_integer, column_period, search)
    del relaxed
    if not search.done():
        _restricted_mip(lp, x, is_integer, search)
    return search.result(fractional)


class _Search:
    """The best plan so far, the LP bound, the clock and the reasons to stop."""

    def __init__(
        self,
        settings: SolverSettings,
        seconds_left: float,
        on_progress: Callable[[float, float, float], None] | None,
        log: SolverLog,
    ) -> None:
        self.settings = settings
        self.log = log
        self.started = time.perf_counter()
        self.deadline = self.started + seconds_left
        self.on_progress = on_progress
        self.lp_bound = -math.inf
        self.lp_seconds = 0.0
        self.values: np.ndarray | None = None
        self.objective = math.inf
        self.interrupted = False

    def seconds_left(self) -> float:
        return self.deadline - time.perf_counter()

    def offer(self, values: np.ndarray, objective: float, found_by: str) -> None:
        better = objective < self.objective
        if better:
            self.values, self.objective = values, objective
        self.log.note(
            f"warm start: {found_by} gives a plan of {objective:,.6f} musd,"
            f" {relative_gap(objective, self.lp_bound):.3%} above the LP bound"
            + ("" if better else f" (kept: the plan of {self.objective:,.6f} musd)")
        )
        self.report(self.objective)

    def report(self, plan: float) -> None:
        if self.on_progress is not None:
            self.on_progress(time.perf_counter() - self.started, plan, self.lp_bound)

    def proven(self, plan: float | None = None) -> bool:
        plan = self.objective if plan is None else plan
        return relative_gap(plan, self.lp_bound) <= self.settings.mip_gap

    def done(self) -> bool:
        return self.proven() or self.interrupted or self.seconds_left() <= 0

    def result(self, fractional: int) -> WarmStart:
        found = self.values is not None
        return WarmStart(
            self.lp_bound,
            self.values,
            self.objective if found else math.nan,
            time.perf_counter() - self.started,
            fractional,
            self.interrupted,
            self.lp_seconds,
        )


def _relax_and_fix(
    highs: highspy.Highs,
    lp: highspy.HighsLp,
    x_lp: np.ndarray,
    is_integer: np.ndarray,
    column_period: np.ndarray,
    search: _Search,
) -> None:
    """Step 2 on the solved LP in ``highs`` (its basis is the start of every re-solve).

    One period at a time: decisions of one period sit on different paths of the scenario tree,
    so rounding them up together never breaks "sign at most once" or an integral site cap
    (windows of several periods did, and their fall-back plans were far worse)."""
    highs.setOptionValue("solver", "simplex")
    highs.setOptionValue("output_flag", False)  # 2 x periods re-solves: one planner line each instead
    basis = highs.getBasis()
    original = _Bounds(np.array(lp.col_lower_), np.array(lp.col_upper_))
    every_column = np.arange(len(original.lower), dtype=np.int32)
    periods = sorted({int(t) for t in column_period[is_integer]})
    for threshold in ROUNDING_THRESHOLDS:
        if search.done():
            return
        highs.changeColsBounds(len(every_column), every_column, original.lower, original.upper)
        highs.setBasis(basis)
        search.log.note(
            f"warm start, step 2 of 3: relax-and-fix over {len(periods)} periods, rounding integer LP"
            f" values above {threshold} up"
        )
        x = x_lp
        for number, t in enumerate(periods, start=1):
            fixed = _fix_period(
                highs, original, x, np.flatnonzero(is_integer & (column_period == t)), threshold, search
            )
            if fixed is None:  # stopped (the loop's check returns) or infeasible both ways: next threshold
                if not search.done():
                    search.log.note(f"warm start: period {number} of {len(periods)} cannot be fixed; no plan")
                break
            x = fixed
            search.log.note(
                f"warm start: period {number} of {len(periods)} fixed,"
                f" LP {highs.getInfo().objective_function_value:,.6f} musd"
            )
        else:
            search.offer(x, highs.getInfo().objective_function_value, f"relax-and-fix at {threshold}")


@dataclass(frozen=True)
class _Bounds:
    lower: np.ndarray
    upper: np.ndarray


def _fix_period(
    highs: highspy.Highs,
    original: _Bounds,
    x: np.ndarray,
    chosen: np.ndarray,
    threshold: float,
    search: _Search,
) -> np.ndarray | None:
    """Fix ``chosen`` columns rounded up (else, if that is infeasible, down: rounding down keeps
    every "at most" row) and re-solve; the new LP values, or None (infeasible, stopped)."""
    if chosen.size == 0:
        return x
    index = chosen.astype(np.int32)
    values = x[chosen]
    for rounded in (np.where(values > threshold, np.ceil(values - threshold), 0.0), np.floor(values)):
        fixed = np.clip(rounded, original.lower[chosen], original.upper[chosen])
        highs.changeColsBounds(len(index), index, fixed, fixed)
        # HiGHS compares its time limit with the run time summed over every solve of this object.
        highs.setOptionValue("time_limit", highs.getRunTime() + max(search.seconds_left(), 1e-3))
        solve_interruptibly(highs)
        status = highs.getModelStatus()
        if stop_requested():  # also when the re-solve ended just as the signal came
            search.interrupted = True
            return None
        if status == highspy.HighsModelStatus.kOptimal:
            return np.asarray(highs.getSolution().col_value)
        if status != highspy.HighsModelStatus.kInfeasible:
            search.interrupted = status == highspy.HighsModelStatus.kInterrupt
            return None
    highs.changeColsBounds(len(index), index, original.lower[chosen], original.upper[chosen])
    return None


def _restricted_mip(lp: highspy.HighsLp, x: np.ndarray, is_integer: np.ndarray, search: _Search) -> None:
    """Step 3: the MIP over the integer columns the LP leaves fractional."""
    settings = search.settings
    integral = is_integer & (np.abs(x - np.round(x)) <= INTEGRALITY_TOLERANCE)
    lower, upper = np.array(lp.col_lower_), np.array(lp.col_upper_)
    lower[integral] = upper[integral] = np.round(x[integral])
    budget_s = settings.warm_start_seconds(int(is_integer.sum()))
    seconds = min(budget_s, search.seconds_left())
    until = "until within mip_gap of the LP bound"
    if math.isfinite(seconds):
        until = f"for at most {seconds:,.1f} s"
    search.log.note(
        f"warm start, step 3 of 3: a MIP over the {int((is_integer & ~integral).sum()):,} integer columns the"
        f" LP leaves fractional (the others fixed at the LP's values), {until}"
    )
    restricted = search.log.highs(settings)
    # Its own gap is measured against its own (higher) bound: aim tighter, the callback stops it.
    restricted.setOptionValue("mip_rel_gap", settings.mip_gap / 4)
    restricted.passModel(lp)
    restricted.changeColsBounds(len(lower), np.arange(len(lower), dtype=np.int32), lower, upper)
    if search.values is not None:
        # Not always inside the restricted bounds; HiGHS ignores it then.
        give_start(restricted, search.values)
    stopped_on_purpose = [False]
    too_many_nodes = [False]
    model_size = lp.num_row_ + lp.num_col_

    def stop_when_proven_or_late(event: highspy.HighsCallbackEvent) -> None:
        plan = event.data_out.mip_primal_bound
        search.report(min(plan, search.objective))
        too_many_nodes[0] = event.data_out.mip_node_count * model_size > RESTRICTED_MIP_NODE_CELLS
        # HiGHS checks its own time limit only between some steps; the shared deadline is firm.
        if (math.isfinite(plan) and search.proven(plan)) or search.seconds_left() <= 0 or too_many_nodes[0]:
            stopped_on_purpose[0] = True
            assert event.data_in is not None  # HiGHS passes one to every MIP-interrupt callback
            event.data_in.user_interrupt = True

    restricted.cbMipInterrupt.subscribe(stop_when_proven_or_late)
    # Set last: passing a large model takes seconds that count against the shared limit.
    restricted.setOptionValue("time_limit", max(min(budget_s, search.seconds_left()), 1e-3))
    solve_interruptibly(restricted)
    cancelled = restricted.getModelStatus() == highspy.HighsModelStatus.kInterrupt
    if (cancelled and not stopped_on_purpose[0]) or stop_requested():
        search.interrupted = True
    if too_many_nodes[0]:
        search.log.note(
            f"warm start: the restricted MIP stops after {restricted.getInfo().mip_node_count:,} nodes"
            " (the memory of its search tree)"
        )
    if restricted.getInfo().primal_solution_status == FEASIBLE_PLAN:
        plan = np.asarray(restricted.getSolution().col_value)
        search.offer(plan, restricted.getInfo().objective_function_value, "the restricted MIP")
