"""Result tables read from a solved model: what HiGHS leaves at round-off is not a figure."""

from __future__ import annotations

import pyomo.environ as pyo
from factory import chip, contract, make_case, solve

from planner.results import extract_results


def test_capex_left_at_round_off_below_zero_shows_as_zero() -> None:
    """HiGHS may leave an unused decision at -1e-14 (within its tolerances): ``capex_by_period.csv``
    showed ``power_capex -5.7e-14`` where ``cost_by_scenario.csv`` showed 0 for the same run."""
    plant = contract("q2", existing=False, divisible=True, capex_musd_per_mw=2.0)
    periods = {"p1": 1.0, "p2": 1.0}  # 1 EFLOPS of demand in each of two 1-year periods
    case = make_case(periods, periods, chips=[chip(capex_usd=1e6)], contracts=[contract(), plant])
    result = solve(case)
    pm = result.planning_model
    signs = [var for key, var in pm.model.sign.items() if key[0] == "q2"]
    assert signs and all(abs(pyo.value(var)) < 1e-9 for var in signs)  # never signed
    signs[0].set_value(-1e-14, skip_validation=True)
    results = extract_results(pm, 0.9)
    assert results.capex_by_period["power_capex"].tolist() == [0.0, 0.0]
    assert results.capex_by_period["chips_capex"].tolist() == [1.0, 0.0]  # one chip of 1 musd
    assert (results.cost_by_scenario.drop(columns="probability").to_numpy() >= 0.0).all()
