"""Solve a case under a planning model: the decision policies of the contract, end to end.

``phased`` and ``all-at-once`` are one solve each. ``plan-on-mean`` solves the mean-demand case,
fixes its buildings and contracts (rounded where integer) and solves the scenario tree again with
only chips and operations free; its objective is that second solve's.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap
from pyomo.common.errors import InfeasibleConstraintException

from planner.case import Case
from planner.config import ModelConfig
from planner.entry import plan_found
from planner.errors import InputError, ModelError
from planner.formulation import LongLeadPlan, PlanningModel, build_model
from planner.magnitudes import MagnitudeError
from planner.results import Results, extract_results
from planner.solve import PROVEN_GAP, Progress, SolveOutcome, solve_model

if TYPE_CHECKING:
    from planner.frozen_plan_fit import FittedPlan


class Stage(TypedDict):
    """The figures of a solve before the final one (plan-on-mean's mean-demand solve)."""

    stage: str
    status: str
    objective_musd: float
    mip_gap: float
    build_seconds: float
    solve_seconds: float


def stages_proven(stages: Iterable[Mapping[str, Any]]) -> bool:
    """Every solve before the final one (a :class:`Stage`, or its record in a summary) ended at
    its proven optimum."""
    return all(s["status"] == "optimal" and s["mip_gap"] <= PROVEN_GAP for s in stages)


@dataclass
class PlanResult:
    """One solved planning model: solver figures, objective and result tables."""

    case: Case
    config: ModelConfig
    outcome: SolveOutcome
    results: Results
    planning_model: PlanningModel
    build_seconds: float
    objective_musd: float
    """The model's objective: expected cost, plus weight * CVaR when the model asks for it."""
    expected_cost_musd: float
    cvar_musd: float
    stages: list[Stage] = field(default_factory=list)
    """For plan-on-mean: the mean-demand solve's figures."""
    fixed_plan: dict[str, Any] | None = None
    """With ``--fix-plan``: where the frozen buildings and contracts (and chip purchases) came from
    (FittedPlan.describe)."""

    @property
    def status(self) -> str:
        return self.outcome.status

    @property
    def within_mip_gap(self) -> bool:
        """Every solve (plan-on-mean's mean-demand MIP too) ended optimal within ``mip_gap``."""
        return self.outcome.is_within_mip_gap and all(s["status"] == "optimal" for s in self.stages)

    @property
    def proven_optimal(self) -> bool:
        """Every solve ended at its proven optimum, not merely within a ``mip_gap``."""
        return self.outcome.is_proven_optimal and stages_proven(self.stages)

    @property
    def solve_seconds(self) -> float:
        return self.outcome.solve_seconds + sum(stage["solve_seconds"] for stage in self.stages)


def solve_case(
    case: Case,
    config: ModelConfig,
    log_file: Path | None = None,
    stream_log: bool = False,
    with_duals: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    fixed_plan: FittedPlan | None = None,
) -> PlanResult:
    """Build and solve ``case`` under ``config``, with the buildings and contracts (and chip
    purchases) of ``fixed_plan`` frozen when given; raise :class:`ModelError` when there is no plan."""
    stages: list[Stage] = []
    fixed: LongLeadPlan | None = None if fixed_plan is None else fixed_plan.decisions
    policy = config.policy
    build_seconds = 0.0
    if policy == "plan-on-mean" and fixed_plan is not None:
        raise ValueError("plan-on-mean fixes its own buildings and contracts: no plan can be frozen in it")
    if policy == "plan-on-mean":
        mean_model, mean_outcome, seconds = _build_and_solve(
            case.mean_demand_case(), config, "phased", None, log_file, stream_log, False, on_progress
        )
        build_seconds += seconds
        # Ctrl-C in the first stage: its plan is not this model's answer, and going on would start
        # a second solve the user asked to stop.
        stop_if_interrupted(mean_outcome)
        stages.append(
            {
                "stage": "mean-demand plan",
                "status": mean_outcome.status,
                "objective_musd": mean_outcome.objective_musd,
                "mip_gap": mean_outcome.mip_gap,
                "build_seconds": seconds,
                "solve_seconds": mean_outcome.solve_seconds,
            }
        )
        fixed = long_lead_plan(mean_model, round_integers=config.integer)
        policy = "phased"
    # The final solve: once it has a plan, a stop signal during a `solve` no longer throws it away.
    pm, outcome, seconds = _build_and_solve(
        case,
        config,
        policy,
        fixed,
        log_file,
        stream_log,
        with_duals,
        on_progress,
        on_plan=plan_found,
        start_from=fixed_plan,
    )
    build_seconds += seconds
    m = pm.model
    expected = pyo.value(m.expected_cost)
    cvar_value = pyo.value(m.cvar) if hasattr(m, "cvar") else math.nan
    return PlanResult(
        case=case,
        config=config,
        outcome=outcome,
        results=extract_results(pm, config.cvar.alpha),
        planning_model=pm,
        build_seconds=build_seconds,
        objective_musd=pyo.value(m.objective),
        expected_cost_musd=expected,
        cvar_musd=cvar_value,
        stages=stages,
        fixed_plan=None if fixed_plan is None else fixed_plan.describe(),
    )


def _build_and_solve(
    case: Case,
    config: ModelConfig,
    policy: str,
    fixed: LongLeadPlan | None,
    log_file: Path | None,
    stream_log: bool,
    with_duals: bool,
    on_progress: Callable[[Progress], None] | None,
    on_plan: Callable[[], None] | None = None,
    start_from: FittedPlan | None = None,
) -> tuple[PlanningModel, SolveOutcome, float]:
    """``start_from``: a frozen plan whose own decisions after its ``--fix-through`` the MIP starts
    from (:func:`later_decisions_start`)."""
    started = time.perf_counter()
    # Duals price every site and node, also where no IT MW is built yet: those need their rows.
    pm = _planning_model(case, config, policy, fixed, chips_only_where_built=not with_duals)
    start = later_decisions_start(pm, start_from) if start_from is not None else None
    build_seconds = time.perf_counter() - started
    try:
        with numbers_named_in_inputs(pm):
            outcome = solve_model(
                pm.model,
                config.solver,
                log_file,
                stream_log,
                with_duals,
                on_progress,
                pm.decision_period,
                on_plan,
                start,
            )
    except InfeasibleConstraintException as exc:
        from planner.diagnose import explain_trivially_infeasible

        raise ModelError(explain_trivially_infeasible(pm, str(exc))) from exc
    if not outcome.has_solution:
        stop_if_interrupted(outcome)  # Ctrl-C before HiGHS had any plan: there is nothing to write
        from planner.diagnose import explain_failure

        raise ModelError(explain_failure(pm, outcome))
    return pm, outcome, build_seconds


def later_decisions_start(pm: PlanningModel, plan: FittedPlan) -> ComponentMap | None:
    """The integer buildings and signings left free after a partial freeze, set to what ``plan``
    took at the same period and node (0 where it took nothing): a start for the MIP, which the
    solve completes with the best chips and operations for those decisions. On the case the plan
    was made for, that start costs at most the plan, so the frozen solve never returns more. None
    when there is nothing to start (a freeze of every period, an LP)."""
    if not pm.integer or plan.decisions.through_t is None:
        return None
    m, nodes = pm.model, pm.sets.long_lead_tree.nodes
    start = ComponentMap()  # Pyomo variables are not hashable: keyed by identity
    for decision, taken in ((m.build, plan.later_builds), (m.sign, plan.later_signs)):
        for key, b in decision:
            var = decision[key, b]
            if not var.fixed and not var.is_continuous():
                start[var] = taken.get((key, nodes[b].t, frozenset(nodes[b].scenarios)), 0.0)
    return start or None


def check_case_numbers(case: Case, config: ModelConfig) -> None:
    """Raise :class:`InputError` when ``case`` under ``config`` makes numbers HiGHS would not
    take as written: what a solve would answer, said before any solve (``validate``, and
    ``compare`` and ``sweep`` before they start their solves). Plan-on-mean is checked on the
    phased tree model, whose rows hold both of its stages' numbers."""
    from planner.highs_factory import configured_highs
    from planner.matrix import check_numbers, compile_model

    pm = _planning_model(case, config, _checked_policy(config))
    with numbers_named_in_inputs(pm):
        check_numbers(compile_model(pm.model, config.solver.scales), configured_highs(config.solver))


def numbers_check_key(config: ModelConfig) -> tuple[object, ...]:
    """What :func:`check_case_numbers` depends on: two configs with the same key give HiGHS the
    same matrix, costs and bounds under the same limits, so checking one checks both (``compare``'s
    plan-on-mean is phased's model again)."""
    cvar = config.cvar
    return (
        _checked_policy(config),
        config.integer,
        config.unpowered_chips,
        cvar.alpha,
        cvar.weight,
        config.solver.model_dump_json(),
    )


def _checked_policy(config: ModelConfig) -> str:
    return "phased" if config.policy == "plan-on-mean" else config.policy


def _planning_model(
    case: Case,
    config: ModelConfig,
    policy: str,
    fixed: LongLeadPlan | None = None,
    chips_only_where_built: bool = True,
) -> PlanningModel:
    """The model of ``case`` under ``policy`` with ``config``'s integrality and CVaR."""
    return build_model(
        case,
        policy=policy,
        integer=config.integer,
        cvar_alpha=config.cvar.alpha,
        cvar_weight=config.cvar.weight,
        fixed_long_lead=fixed,
        chips_only_where_built=chips_only_where_built,
        unpowered_chips=config.unpowered_chips,
    )


@contextlib.contextmanager
def numbers_named_in_inputs(pm: PlanningModel) -> Iterator[None]:
    """A :class:`MagnitudeError` in the body (a number HiGHS would not take as written) is raised
    as the :class:`InputError` it is, naming the inputs and rows of ``pm``."""
    try:
        yield
    except MagnitudeError as exc:
        from planner.diagnose import magnitude_problems

        raise InputError(magnitude_problems(pm, exc)) from exc


def stop_if_interrupted(outcome: SolveOutcome) -> None:
    """Ctrl-C (or kill) stopped this solve: stop what asked for it too, by re-raising the
    interrupt that HiGHS absorbed (one Ctrl-C must not merely hand over to the next solve). Also
    when HiGHS ended optimal as the press came: the press asked for a stop all the same."""
    if outcome.status == "interrupted" or outcome.stop_requested:
        raise KeyboardInterrupt


def unless_interrupted(result: PlanResult) -> PlanResult:
    """``result``, unless Ctrl-C stopped its solve: then the comparison or sweep stops too."""
    stop_if_interrupted(result.outcome)
    return result


def long_lead_plan(pm: PlanningModel, round_integers: bool) -> LongLeadPlan:
    """The solved builds and signings of a single-scenario model, by (id, period index)."""
    nodes = pm.sets.long_lead_tree.nodes
    m = pm.model
    builds = {(s, nodes[b].t): _clip(m.build[s, b]) for s, b in m.build}
    signs = {(q, nodes[b].t): _clip(m.sign[q, b]) for q, b in m.sign}
    if round_integers:
        builds = {key: float(round(v)) for key, v in builds.items()}
        signs = {
            key: (v if pm.case.contracts[key[0]].divisible else float(round(v))) for key, v in signs.items()
        }
    return LongLeadPlan(build_modules=builds, sign_share=signs)


def _clip(var: pyo.Var) -> float:
    """The solved value inside the variable's bounds (solver round-off can leave -1e-16). A small
    value is kept: a 1e-10 share of a 1e6 MW contract is 0.1 kW of firm power, which may be all
    the mean plan needs (zeroing it left the fixed plan without power)."""
    value = float(var.value or 0.0)
    return min(max(value, var.lb if var.lb is not None else value), var.ub if var.ub is not None else value)
