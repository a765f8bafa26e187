"""The package's optimum equals that of an independent implementation of the spec
(:mod:`reference`: per-scenario copies, explicit vintage sums, non-anticipativity rows) on random
cases with budgets, chip supply, per-workload performance, load factors and shared histories."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyomo.environ as pyo
import pytest
from factory import built, signed, solve
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import reference_objective
from test_properties import PROPERTY, cases, close

from planner.case import Case
from planner.config import Policy
from planner.loader import load_case

CROSS_CHECK = settings(PROPERTY, max_examples=60)


@st.composite
def rich_cases(draw: st.DrawFn) -> Case:
    case = draw(cases())
    periods, scenarios = case.periods, case.scenarios
    demand = dict(case.demand_eflops)
    if len(scenarios) > 1 and draw(st.booleans()):  # scenarios that branch after the first period
        for w in scenarios[1:]:
            for k in case.workloads:
                demand[(w, periods[0], k)] = demand[(scenarios[0], periods[0], k)]
    optional = st.sampled_from
    budget = {t: draw(optional([2.0, 10.0, 100.0])) for t in periods if draw(st.booleans())}
    supply = {
        (c, t): draw(optional([0.0, 3.0, 20.0])) for c in case.chips for t in periods if draw(st.booleans())
    }
    performance = {
        (c, k): draw(optional([0.0, 250.0, 3000.0]))
        for c in case.chips
        for k in case.workloads
        if draw(st.booleans())
    }
    parameters = case.parameters.model_copy(update={"load_factor": draw(optional([1.0, 0.7]))})
    contracts = {}
    for q, contract in case.contracts.items():  # signable later, and sometimes a second source at the site
        contracts[q] = contract.model_copy(update={"first_period": draw(optional([None, periods[-1]]))})
        if draw(st.booleans()):
            second = contract.model_copy(
                update={
                    "contract": f"{q}-b",
                    "existing": False,
                    "divisible": draw(st.booleans()),
                    "mw": draw(optional([5.0, 20.0])),
                    "lead_periods": draw(st.integers(0, 1)),
                    "price_usd_per_mwh": draw(optional([20.0, 80.0])),
                    "capex_musd_per_mw": draw(optional([0.0, 1.0])),
                }
            )
            contracts[second.contract] = second
    return dataclasses.replace(
        case,
        parameters=parameters,
        demand_eflops=demand,
        budget_musd=budget,
        chip_supply_units=supply,
        chip_performance_pflops=performance,
        contracts=contracts,
    )


@CROSS_CHECK
@given(case=rich_cases())
def test_the_mip_optimum_equals_an_independent_implementation(case: Case) -> None:
    assert solve(case).objective_musd == close(reference_objective(case, integer=True))


@CROSS_CHECK
@given(case=rich_cases())
def test_the_lp_optimum_equals_an_independent_implementation(case: Case) -> None:
    assert solve(case, integer=False).objective_musd == close(reference_objective(case, integer=False))


@CROSS_CHECK
@given(case=rich_cases())
def test_the_rescaled_lp_gives_the_same_optimum_and_plan_values(case: Case) -> None:
    """Large LPs reach HiGHS rescaled (``planner.scaling``); forced on for these small ones, the
    optimum is the reference's and the plan read back is in model units: the model's objective
    evaluated at it is the optimum too."""
    result = solve(case, integer=False, scale="on")
    assert result.objective_musd == close(reference_objective(case, integer=False))
    assert pyo.value(result.planning_model.model.objective) == close(result.objective_musd)


@CROSS_CHECK
@given(case=rich_cases())
def test_the_all_at_once_optimum_equals_an_independent_implementation(case: Case) -> None:
    expected = reference_objective(case, integer=True, all_at_once=True)
    assert solve(case, "all-at-once").objective_musd == close(expected)


@CROSS_CHECK
@given(
    case=rich_cases(),
    alpha=st.sampled_from([0.0, 0.5, 0.9]),
    weight=st.sampled_from([0.5, 2.0]),
    integer=st.booleans(),
)
def test_the_risk_averse_optimum_equals_an_independent_implementation(
    case: Case, alpha: float, weight: float, integer: bool
) -> None:
    expected = reference_objective(case, integer=integer, cvar_alpha=alpha, cvar_weight=weight)
    assert solve(case, integer=integer, alpha=alpha, weight=weight).objective_musd == close(expected)


def _mean_demand(case: Case) -> Case:
    """The one-scenario case of the probability-weighted mean demand, computed here."""
    mean = {
        ("mean", t, k): sum(p * case.demand_eflops[(w, t, k)] for w, p in case.scenario_probability.items())
        for t in case.periods
        for k in case.workloads
    }
    return dataclasses.replace(case, scenario_probability={"mean": 1.0}, demand_eflops=mean)


@CROSS_CHECK
@given(case=rich_cases(), integer=st.booleans())
def test_plan_on_mean_equals_an_independent_implementation(case: Case, integer: bool) -> None:
    """Both stages against the reference: the mean-demand optimum; the plan fixed is the mean
    solve's plan (rounded where integer); the tree re-solved with that plan fixed. The plan comes
    from the package: a mean-demand optimum need not be unique, and another one would give
    another, equally valid, second solve."""
    result = solve(case, "plan-on-mean", integer=integer)
    mean_stage = result.stages[0]["objective_musd"]
    assert mean_stage == close(reference_objective(_mean_demand(case), integer=integer))
    mean_plan = solve(case.mean_demand_case(), "phased", integer=integer)
    assert built(result, case.scenarios[-1]) == close(built(mean_plan))
    assert signed(result, case.scenarios[-1]) == close(signed(mean_plan))
    position = {period: t for t, period in enumerate(case.periods)}
    fixed = {("build", s, position[period]): v for (s, period), v in built(result).items()}
    fixed |= {("sign", q, position[period]): v for (q, period), v in signed(result).items()}
    assert result.objective_musd == close(reference_objective(case, integer=integer, fixed=fixed))


@pytest.mark.parametrize(("case_name", "model"), [("stargate", "phased"), ("stargate", "all-at-once")])
def test_the_examples_lp_optimum_equals_an_independent_implementation(case_name: str, model: Policy) -> None:
    """A realistic case (existing buildings and contracts, PPAs with take-or-pay, on-site plants,
    chip generations, a 4-scenario tree): the LP relaxations agree."""
    case, _ = load_case(Path(__file__).resolve().parent.parent / "inputs" / case_name)
    expected = reference_objective(case, integer=False, all_at_once=model == "all-at-once")
    assert solve(case, model, integer=False).objective_musd == close(expected)
