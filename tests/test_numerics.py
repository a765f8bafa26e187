"""Optima that HiGHS only gets exactly with a tighter reduced-cost tolerance than its default."""

from __future__ import annotations

from pathlib import Path

import pytest
from factory import chip, config, contract, make_case, site

from planner.config import Policy, SolverSettings
from planner.highs_factory import DEFAULT_HIGHS_OPTIONS, configured_highs
from planner.loader import load_case
from planner.plan import solve_case

CLOSE_PRICES = Path(__file__).parent / "cases" / "close_prices"
"""A generated case (one scenario, 3 sites, 6 periods of 0.5-3 years) where site01's existing grid
contract (74.17 usd/MWh) and PPA (74.24 usd/MWh, take-or-pay 0.85) compete for the same energy.
Found by cross-checking against an independent implementation of the spec."""


def test_contracts_a_few_cents_apart_per_mwh_are_told_apart() -> None:
    """At HiGHS's default tolerance (1e-7) the phased MIP came back with the PPA's energy in
    periods 5-6: 0.094 musd (1.8e-6) above the optimum that plan-on-mean (here the same model) and
    a 1e-10 tolerance both found. All three must agree."""
    case, _ = load_case(CLOSE_PRICES)
    phased = solve_case(case, config("phased")).objective_musd
    on_mean = solve_case(case, config("plan-on-mean")).objective_musd
    strict = config("phased")
    tight = strict.solver.model_copy(update={"highs_options": {"dual_feasibility_tolerance": 1e-10}})
    reference = solve_case(case, strict.model_copy(update={"solver": tight})).objective_musd
    assert phased == pytest.approx(reference, rel=1e-9)
    assert on_mean == pytest.approx(reference, rel=1e-9)


def test_highs_options_override_the_defaults() -> None:
    option = "dual_feasibility_tolerance"
    assert configured_highs(SolverSettings()).getOptionValue(option)[1] == DEFAULT_HIGHS_OPTIONS[option]
    mine = SolverSettings(highs_options={option: 1e-7})
    assert configured_highs(mine).getOptionValue(option)[1] == 1e-7


PRESOLVE_SAYS_INFEASIBLE = Path(__file__).parent / "cases" / "presolve_says_infeasible"
"""A valid case (found by an extreme-magnitude hunt: periods of 0.01 and 50 years, a firm fraction
of 1e-6, 24,000 MW modules) whose plan-on-mean second stage, and the fixed-integer LP of
``--duals``, HiGHS's presolve calls infeasible; without presolve it solves at 7.50065001e-4."""


@pytest.mark.parametrize("policy", ["phased", "plan-on-mean"])
def test_a_feasible_model_that_presolve_calls_infeasible_still_solves(policy: Policy) -> None:
    from planner.duals import shadow_prices

    case, _ = load_case(PRESOLVE_SAYS_INFEASIBLE)
    result = solve_case(case, config(policy))
    assert result.status == "optimal"
    assert result.objective_musd == pytest.approx(7.50065001e-4, rel=1e-6)
    shadow_prices(result)  # used to fail: "The LP with integer decisions fixed did not solve"


def test_plan_on_mean_keeps_a_tiny_contract_share() -> None:
    """One scenario, so plan-on-mean is phased. A 1000 EFLOPS chip of 0.1 kW serves the 1 EFLOPS
    demand with 1e-3 chips: 1e-7 MW, a 1e-13 share of a divisible 1e6 MW contract at 1 musd/MW-year,
    so the optimum costs 1e-7 musd. Fixing the mean plan used to zero shares below 1e-9: no power,
    all demand unmet, 1000 musd."""
    case = make_case(
        {"p1": 1},
        sites=[site(max_mw=1, module_mw=1, existing_mw=1)],
        chips=[chip(pflops=1e6, kw=0.1)],
        contracts=[contract(mw=1e6, capacity_cost_musd_per_mw_year=1.0, divisible=True, existing=False)],
    )
    phased = solve_case(case, config("phased")).objective_musd
    on_mean = solve_case(case, config("plan-on-mean")).objective_musd
    assert phased == pytest.approx(1e-7, rel=1e-6)
    assert on_mean == pytest.approx(phased, rel=1e-6)


def test_the_tables_keep_a_plan_in_small_units() -> None:
    """One chip serves 1000 EFLOPS (pflops 1e6), so 5e-5 EFLOPS of demand takes 5e-8 chips at
    1e10 usd: 5e-4 musd (against 50 musd unmet). The tables used to drop every value below 1e-7, so
    they showed no chip and nothing served while the objective paid for the chips."""
    case = make_case({"p1": 5e-5}, chips=[chip(pflops=1e6, capex_usd=1e10)], penalty=1e6)
    result = solve_case(case, config("phased"))
    assert result.objective_musd == pytest.approx(5e-4, rel=1e-6)
    tables = result.results
    assert tables.chips["bought"].tolist() == [pytest.approx(5e-8, rel=1e-6)]
    assert tables.dispatch["eflops"].tolist() == [pytest.approx(5e-5, rel=1e-6)]
    assert tables.unmet.empty


def test_a_cost_left_at_minus_round_off_is_reported_as_zero() -> None:
    """1 then 1.5 EFLOPS on one 1000-PFLOPS, 1 MW chip: the existing 1 MW contract serves p1 and a
    2 MW binary plant (1 musd/MW, 25-year life) is signed for p2: 2 musd of capex less 1.92 of
    salvage. HiGHS left unmet demand at -6e-14 EFLOPS (inside its tolerance), and
    cost_by_scenario printed a negative unmet-demand penalty."""
    case = make_case(
        {"p1": 1.0, "p2": 1.5},
        periods={"p1": 1.0, "p2": 1.0},
        sites=[site(max_mw=10, module_mw=1, existing_mw=10, life_years=20)],
        chips=[chip(pflops=1000, kw=1000, capex_usd=0, life_years=10)],
        contracts=[
            contract("old", mw=1, capex_musd_per_mw=5),
            contract("plant", kind="onsite", mw=2, capex_musd_per_mw=1, existing=False, life_years=25),
        ],
    )
    result = solve_case(case, config("phased"))
    costs = result.results.cost_by_scenario
    assert result.objective_musd == pytest.approx(0.08, rel=1e-9)
    assert costs.loc["expected", "power_capex"] == pytest.approx(2.0, rel=1e-9)
    assert costs.loc["expected", "salvage"] == pytest.approx(1.92, rel=1e-9)
    assert (costs.drop(columns="total") >= 0).all().all(), costs.T
