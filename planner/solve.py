"""Solve a built model with HiGHS and read the plan back: the warm start, the proof budget, time
limits, progress and the status, gap and bound that come with every answer.

The model reaches HiGHS as one matrix (:mod:`planner.matrix`); build, load and solve seconds are
measured apart.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap
from pyomo.common.log import pyomo_handler
from pyomo.repn.plugins.standard_form import LinearStandardFormInfo

from planner.config import SolverSettings
from planner.errors import ModelError
from planner.formulation.variables import Index
from planner.highs_factory import FEASIBLE_PLAN, SolverLog, give_start
from planner.highs_run import signals_stop_solves, solve_interruptibly, stop_requested
from planner.matrix import CompiledModel, check_numbers, compile_model, row_duals
from planner.warmstart import GivenPlan, WarmStart, complete_start, lp_and_fix, relative_gap


class _ToStderr(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a record comes (as Pyomo's own handler does for
    stdout)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: object) -> None:
        pass


def _pyomo_logs_to_stderr() -> None:
    """Pyomo logs to stdout, which is the report (one JSON object under ``--json``): its lines
    (an error as Ctrl-C lands while a value is read) go to stderr with planner's messages."""
    pyomo_logger = logging.getLogger("pyomo")
    if pyomo_handler in pyomo_logger.handlers:
        to_stderr = _ToStderr()
        to_stderr.setFormatter(pyomo_handler.formatter)
        to_stderr.setLevel(pyomo_handler.level)
        pyomo_logger.removeHandler(pyomo_handler)
        pyomo_logger.addHandler(to_stderr)


_pyomo_logs_to_stderr()

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


PROVEN_GAP = 1e-6
"""Plan and bound this close (relative, or absolute in musd as HiGHS's own ``mip_abs_gap``) make
a proven optimum; a MIP stopped at its 0.5% ``mip_gap`` is optimal within that gap only."""


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
    rescaled: bool = False
    """Whether HiGHS got the model rescaled (:mod:`planner.scaling`)."""
    row_duals: dict[str, dict[Index, float]] = field(default_factory=dict)
    """Constraint name -> index -> dual value (LPs only), in objective units per row unit."""
    warm_start: dict[str, float | None] | None = None
    """LP-and-fix figures (LP bound, first plan, fractional columns, seconds) when it ran."""
    stop_requested: bool = False
    """A stop signal (or a Dask stop) came during the solve, also when HiGHS ended anyway: what
    runs several solves must stop too, not start the next."""

    @property
    def is_within_mip_gap(self) -> bool:
        """HiGHS proved the plan within the model's ``mip_gap`` of the optimum (status optimal)."""
        return self.status == "optimal"

    @property
    def is_proven_optimal(self) -> bool:
        """The plan is the optimum, up to HiGHS's tolerances: not merely within a ``mip_gap``."""
        close = self.mip_gap <= PROVEN_GAP or abs(self.objective_musd - self.bound_musd) <= PROVEN_GAP
        return self.is_within_mip_gap and close


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
    period_of: Callable[[pyo.Var], int] | None = None,
    on_plan: Callable[[], None] | None = None,
    start: ComponentMap | None = None,
) -> SolveOutcome:
    """Compile, pass to HiGHS, solve, and load the primal values back into ``model``.

    ``start`` (a MIP's integer decisions, every one of them) is completed into a plan (an LP with
    them fixed, :func:`planner.warmstart.complete_start`) that HiGHS starts from, or that the warm
    start must beat.

    ``on_plan()`` is called as soon as the solve is over with a plan, before it is loaded: a
    ``solve`` keeps it from then on, whatever stop signal comes (:func:`planner.entry.plan_found`).

    ``period_of(var)`` (the period index of an integer decision) lets the warm start walk the
    periods in order (relax-and-fix).

    With a warm start (``settings.warm_start_seconds``: set, or automatic for large time-limited
    MIPs) a MIP first goes through LP-and-fix (:mod:`planner.warmstart`),
    which shares the time limit with HiGHS and may prove the gap on its own. Ctrl-C stops
    cleanly (status ``interrupted``) and the best plan found is still loaded.
    """
    started = time.perf_counter()
    compiled = compile_model(model, settings.scales)
    repn, lp, integer_columns = compiled.repn, compiled.lp, compiled.integer_columns
    log = SolverLog(log_file, stream_log)
    highs = _configured_highs(settings, log, integer_columns)
    check_numbers(compiled, highs)
    if highs.passModel(lp) == highspy.HighsStatus.kError:
        raise ModelError("HiGHS refused the model; run with --log to see its message.")
    load_seconds = time.perf_counter() - started

    solve_started = time.perf_counter()
    # One Ctrl-C stops the whole solve: the warm start and the HiGHS run that would follow it.
    with signals_stop_solves():
        progress = _once_a_second(on_progress) if on_progress is not None else None
        given = _given_start(lp, repn, start, settings, log, solve_started) if start else None
        warm = None
        if integer_columns and settings.warm_start_seconds(integer_columns) > 0:
            warm = _warm_start(lp, settings, repn, period_of, progress, log, solve_started, given)
        if warm is not None and _warm_start_is_final(warm, settings, solve_started):
            answer = _answer_of_warm_start(warm, settings, log, _seconds_left(settings, solve_started))
        else:
            if warm is None and given is not None:
                give_start(highs, given.values)
            answer = _run_highs(highs, lp, settings, log, warm, progress, integer_columns, solve_started)
        if on_plan is not None and answer.values is not None:
            on_plan()  # still inside: no moment where a press could throw the plan away
        stopped = stop_requested()
    outcome = SolveOutcome(
        status=answer.status,
        has_solution=answer.values is not None,
        objective_musd=answer.objective_musd,
        bound_musd=answer.bound_musd,
        mip_gap=answer.gap,
        load_seconds=load_seconds,
        solve_seconds=time.perf_counter() - solve_started,
        rows=lp.num_row_,
        columns=lp.num_col_,
        nonzeros=int(repn.A.nnz),
        integer_columns=integer_columns,
        rescaled=compiled.rescaled,
        warm_start=_warm_start_summary(warm),
        stop_requested=stopped,
    )
    _load_answer(compiled, answer, outcome, with_duals)
    return outcome


def _load_answer(compiled: CompiledModel, answer: _Answer, outcome: SolveOutcome, with_duals: bool) -> None:
    """The plan's values into the model's variables (in the model's units), and an optimal LP's
    row duals into ``outcome`` when asked."""
    if answer.values is None:
        return
    repn = compiled.repn
    for var, value in zip(repn.columns, compiled.scaling.model_values(answer.values), strict=True):
        var.set_value(float(value), skip_validation=True)
    lp_optimum = not compiled.integer_columns and answer.status == "optimal"
    if with_duals and lp_optimum and answer.row_dual is not None:
        outcome.row_duals = row_duals(repn, compiled.scaling.model_row_duals(answer.row_dual))


@dataclass(frozen=True)
class _Answer:
    """How a solve ended, in solver units: status, plan (None: no plan) and its duals, figures."""

    status: str
    values: np.ndarray | None
    objective_musd: float
    bound_musd: float
    gap: float
    row_dual: np.ndarray | None = None


def _given_start(
    lp: highspy.HighsLp,
    repn: LinearStandardFormInfo,
    start: ComponentMap,
    settings: SolverSettings,
    log: SolverLog,
    solve_started: float,
) -> GivenPlan | None:
    """``start`` completed into a plan, when it sets every integer column (else its completion
    would relax the others: no plan of the MIP)."""
    is_integer = [kind == highspy.HighsVarType.kInteger for kind in lp.integrality_]
    values = {j: start[var] for j, var in enumerate(repn.columns) if is_integer[j] and var in start}
    if len(values) < sum(is_integer):
        log.note("start: the given decisions leave integer columns unset; no start")
        return None
    seconds = _seconds_left(settings, solve_started)
    found_by = "the start from the frozen plan's later decisions"
    return complete_start(lp, values, settings, seconds, found_by, log)


def _warm_start(
    lp: highspy.HighsLp,
    settings: SolverSettings,
    repn: LinearStandardFormInfo,
    period_of: Callable[[pyo.Var], int] | None,
    progress: Callable[[Progress], None] | None,
    log: SolverLog,
    solve_started: float,
    given: GivenPlan | None = None,
) -> WarmStart:
    """LP-and-fix (:func:`planner.warmstart.lp_and_fix`) in what is left of the time limit,
    marked interrupted when a Ctrl-C came while it ran."""
    periods = _integer_periods(repn.columns, lp, period_of) if period_of is not None else None
    warm_progress = None
    if progress is not None:

        def warm_progress(elapsed: float, plan: float, bound: float) -> None:
            progress(Progress(elapsed, plan, bound, relative_gap(plan, bound)))

    seconds = _seconds_left(settings, solve_started)
    warm = lp_and_fix(lp, settings, seconds, warm_progress, periods, log, given)
    if stop_requested():  # also a Ctrl-C since the warm start returned: no HiGHS run follows
        warm = replace(warm, interrupted=True)
    return warm


def _answer_of_warm_start(
    warm: WarmStart, settings: SolverSettings, log: SolverLog, seconds_left: float
) -> _Answer:
    """The warm start's plan as the answer (its gap is proven against the LP bound, or the solve
    was stopped or ran out of time)."""
    status = _warm_start_status(warm, settings)
    if status == "time_limit" and seconds_left >= 0.05:  # not merely the deadline's round-off
        log.note(
            f"warm start: {seconds_left:,.1f} s of the time limit left, under {HIGHS_ROOT_LP_FACTOR:g} x the"
            f" LP relaxation's {warm.lp_seconds:,.1f} s: too little for HiGHS's branch and bound to get past"
            " its root, so the best plan found, if any, is returned now"
        )
    else:
        log.note(_FINAL_WARM_START_NOTES[status].format(mip_gap=settings.mip_gap))
    gap = warm.gap if warm.values is not None else math.inf
    return _Answer(status, warm.values, warm.objective_musd, warm.lp_bound_musd, gap)


def _run_highs(
    highs: highspy.Highs,
    lp: highspy.HighsLp,
    settings: SolverSettings,
    log: SolverLog,
    warm: WarmStart | None,
    progress: Callable[[Progress], None] | None,
    integer_columns: int,
    solve_started: float,
) -> _Answer:
    """HiGHS's own solve (after a warm start: from its plan), in what is left of the time limit;
    without a warm start a MIP first searches for a proof (:class:`_ProofBudget`)."""
    if warm is not None:
        handed = "without a start"
        if warm.values is not None:
            give_start(highs, warm.values)
            handed = "with the warm start's plan as a start"
        log.note(f"warm start done after {warm.seconds:,.1f} s: HiGHS's branch and bound follows, {handed}")
    proof = _search_for_a_proof(highs, settings, lp) if integer_columns and warm is None else None
    _limit_to_time_left(highs, settings, solve_started)
    if progress is not None and integer_columns:
        _report_progress(
            highs,
            progress,
            offset_s=time.perf_counter() - solve_started,
            lp_bound=warm.lp_bound_musd if warm is not None else -math.inf,
        )
    solve_interruptibly(highs)
    if _presolve_said_infeasible(highs):
        # HiGHS's presolve can call a feasible model with extreme magnitudes infeasible (seen
        # with 1e-6 and 1e4 in one row); only the solve without it is trusted to say so.
        highs.setOptionValue("presolve", "off")
        _limit_to_time_left(highs, settings, solve_started)
        solve_interruptibly(highs)
    status, has_solution, objective, bound, gap = _highs_result(highs, lp, integer_columns, warm)
    if proof is not None and proof.settled(status, gap):
        status = "optimal"
        log.note(proof.why_settled())
    solution = highs.getSolution() if has_solution else None
    if solution is None:
        return _Answer(status, None, objective, bound, gap)
    return _Answer(
        status, np.asarray(solution.col_value), objective, bound, gap, np.asarray(solution.row_dual)
    )


def _configured_highs(settings: SolverSettings, log: SolverLog, integer_columns: int) -> highspy.Highs:
    """The main solve's HiGHS; its time limit is set just before it runs (what the warm start left)."""
    highs = log.highs(settings)
    if not integer_columns and settings.lp_solver != "choose":
        highs.setOptionValue("solver", settings.lp_solver)
    return highs


def _integer_periods(
    columns: list[pyo.Var], lp: highspy.HighsLp, period_of: Callable[[pyo.Var], int]
) -> np.ndarray:
    """Period index of every integer column of ``lp`` (-1 for continuous ones)."""
    integer = highspy.HighsVarType.kInteger
    return np.array(
        [period_of(v) if kind == integer else -1 for v, kind in zip(columns, lp.integrality_, strict=True)]
    )


@dataclass
class _ProofBudget:
    """Keeps HiGHS searching for a proven optimum until ``node_cells`` of branch and bound are
    spent (nodes x (rows + columns)), then stops it at the first moment the plan is within
    ``mip_gap``: what HiGHS would have done from the start with ``mip_rel_gap = mip_gap``."""

    node_cells: float
    model_size: int
    mip_gap: float
    nodes: int | None = None
    """The node count when the budget stopped HiGHS (None: it did not)."""

    def watch(self, event: highspy.HighsCallbackEvent) -> None:
        out = event.data_out
        if (out.mip_node_count + 1) * self.model_size < self.node_cells:  # + the node in progress
            return
        if relative_gap(out.mip_primal_bound, out.mip_dual_bound) <= self.mip_gap:
            self.nodes = int(out.mip_node_count)
            assert event.data_in is not None  # HiGHS passes one to every MIP-interrupt callback
            event.data_in.user_interrupt = True

    def settled(self, status: str, gap: float) -> bool:
        """Whether the solve ended with a plan within mip_gap while HiGHS searched for a proof:
        the budget stopped it (an ``interrupted`` that is not Ctrl-C), or the time limit came
        first (HiGHS at ``mip_rel_gap = mip_gap`` would have stopped there and called it optimal)."""
        if status == "time_limit":
            return gap <= self.mip_gap
        return status == "interrupted" and self.nodes is not None and not stop_requested()

    def why_settled(self) -> str:
        """The log's line for a :meth:`settled` solve."""
        if self.nodes is None:
            return (
                f"the time limit came while HiGHS searched for a proven optimum; the plan is within"
                f" mip_gap ({self.mip_gap:.3%})"
            )
        return (
            f"HiGHS stopped within mip_gap ({self.mip_gap:.3%}) after {self.nodes:,} nodes:"
            f" the proof budget ({self.node_cells:,.0f} node-cells) is spent"
        )


def _search_for_a_proof(
    highs: highspy.Highs, settings: SolverSettings, lp: highspy.HighsLp
) -> _ProofBudget | None:
    """Set HiGHS's gap to 0 and let a :class:`_ProofBudget` settle for ``mip_gap`` (see
    ``SolverSettings.proof_budget``); None when there is no budget or nothing to settle for."""
    if settings.mip_gap <= 0 or settings.proof_budget <= 0:
        return None
    budget = _ProofBudget(settings.proof_budget, lp.num_row_ + lp.num_col_, settings.mip_gap)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.cbMipInterrupt.subscribe(budget.watch)
    return budget


def _presolve_said_infeasible(highs: highspy.Highs) -> bool:
    infeasible = (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible)
    return highs.getModelStatus() in infeasible and highs.getOptionValue("presolve")[1] != "off"


def _limit_to_time_left(highs: highspy.Highs, settings: SolverSettings, since: float) -> None:
    """HiGHS's next solve gets what is left of the model's time limit (if it has one)."""
    if settings.time_limit_s is not None:
        highs.setOptionValue("time_limit", max(_seconds_left(settings, since), 1e-3))


def _seconds_left(settings: SolverSettings, since: float) -> float:
    if settings.time_limit_s is None:
        return math.inf
    return settings.time_limit_s - (time.perf_counter() - since)


HIGHS_ROOT_LP_FACTOR = 4.0
"""HiGHS's branch and bound follows a time-limited warm start only if this many times the LP
relaxation's seconds are left. Its root needs about that before it can find or prove anything
(10-site bench case: LP 10.8 s; given the 20.5 s the warm start left, HiGHS's root LP ended at
19.4 s and it then worked 28 s more without looking at its clock: 47.3 s), and the bound it
starts from is the LP's, which the warm start already has. With less left, the warm start's plan
is the answer (time_limit); without one, HiGHS still gets what time is left."""


def _warm_start_is_final(warm: WarmStart, settings: SolverSettings, since: float) -> bool:
    """No full solve after the warm start: gap already proven, Ctrl-C, or too little time left
    for HiGHS's root (:data:`HIGHS_ROOT_LP_FACTOR`)."""
    left = _seconds_left(settings, since)
    # Without a plan from the warm start, HiGHS's search is the only chance of one: it gets any
    # time that is left.
    too_late = left <= 0 or (warm.values is not None and left <= HIGHS_ROOT_LP_FACTOR * warm.lp_seconds)
    return warm.proves(settings.mip_gap) or warm.interrupted or too_late


_FINAL_WARM_START_NOTES = {
    "optimal": "warm start: the plan is within mip_gap ({mip_gap:.3%}) of the LP bound,"
    " so it is returned without a branch and bound",
    "interrupted": "warm start: interrupted; the best plan found, if any, is returned",
    "time_limit": "warm start: the time limit is reached; the best plan found, if any, is returned",
}
"""The log's line when the warm start ends the solve, by :func:`_warm_start_status`."""


def _warm_start_status(warm: WarmStart, settings: SolverSettings) -> str:
    if warm.proves(settings.mip_gap):
        return "optimal"
    return "interrupted" if warm.interrupted else "time_limit"


def _highs_result(
    highs: highspy.Highs, lp: highspy.HighsLp, integer_columns: int, warm: WarmStart | None
) -> tuple[str, bool, float, float, float]:
    """Status, has-plan, objective, bound and gap after ``highs.solve()``."""
    status_name = highs.modelStatusToString(highs.getModelStatus())
    status = _STATUS_WORDS.get(highs.getModelStatus().name, status_name)
    info = highs.getInfo()
    has_plan = info.primal_solution_status == FEASIBLE_PLAN and lp.num_col_ > 0
    has_solution = bool(
        has_plan or (lp.num_col_ == 0 and status == "optimal")
    ) and status not in ("unbounded", "infeasible_or_unbounded")  # a feasible point, but no optimum
    objective = info.objective_function_value if has_solution else math.nan
    if integer_columns:
        # HiGHS may stop before its root bound is known; the warm start's LP bound is one too.
        bound = max(info.mip_dual_bound, warm.lp_bound_musd if warm is not None else -math.inf)
        gap = relative_gap(objective, bound) if has_solution else math.inf
    else:
        bound = objective if status == "optimal" else math.nan
        gap = 0.0 if status == "optimal" else math.inf
    return status, has_solution, objective, bound, gap


def _warm_start_summary(warm: WarmStart | None) -> dict[str, float | None] | None:
    if warm is None:
        return None
    return {
        "lp_bound_musd": warm.lp_bound_musd if math.isfinite(warm.lp_bound_musd) else None,
        "objective_musd": warm.objective_musd if warm.values is not None else None,
        "fractional_columns": warm.fractional_columns,
        "seconds": warm.seconds,
    }


def _once_a_second(on_progress: Callable[[Progress], None]) -> Callable[[Progress], None]:
    """Forward progress at most once a second of solve time (HiGHS calls back far more often)."""
    last = [-math.inf]

    def forward(progress: Progress) -> None:
        if progress.elapsed_s - last[0] >= 1.0:
            last[0] = progress.elapsed_s
            on_progress(progress)

    return forward


def _report_progress(
    highs: highspy.Highs, on_progress: Callable[[Progress], None], offset_s: float, lp_bound: float
) -> None:
    """Tell ``on_progress`` of HiGHS's MIP progress; time counts from the start of the solve,
    warm start included, and the bound is at least the LP bound."""

    def callback(event: highspy.HighsCallbackEvent) -> None:
        out = event.data_out
        bound = max(out.mip_dual_bound, lp_bound)
        plan = out.mip_primal_bound
        on_progress(Progress(offset_s + out.running_time, plan, bound, relative_gap(plan, bound)))

    highs.cbMipInterrupt.subscribe(callback)
