"""Optima that HiGHS only gets exactly with a tighter reduced-cost tolerance than its default."""

from __future__ import annotations

from pathlib import Path

import pytest
from factory import config

from planner.config import SolverSettings
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
