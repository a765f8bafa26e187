"""One hand-solvable case per constraint family and objective term of ``shared/spec/formulation.md``.

Units used throughout (see :mod:`factory`): a default chip serves 1 EFLOPS and draws 1 IT MW, so
"chips", "EFLOPS" and "IT MW" are the same number; ``hours_per_year = 1000``, so a running chip
takes 1000 MWh a year at PUE 1; ``capex_usd = 1e6`` is 1 musd. Every ``life_years`` left unset is
the horizon ``Y``, so first-period decisions have no salvage. Each docstring is the hand solution.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

import pandas as pd
import pyomo.environ as pyo
import pytest
from factory import (
    bought,
    breakdown,
    built,
    chip,
    contract,
    energy,
    make_case,
    signed,
    site,
    solve,
    unmet,
)

import planner.plan
from planner.case import Case
from planner.errors import ModelError
from planner.formulation import PlanningModel, build_model

P3 = {"p1": 1.0, "p2": 1.0, "p3": 1.0}
P2 = {"p1": 1.0, "p2": 1.0}


def approx(value: object) -> object:
    return pytest.approx(value, rel=1e-6, abs=1e-6)


# 1. Built IT power ---------------------------------------------------------------------------


def test_build_lead_time_and_module_size() -> None:
    """existing 5 MW, 10 MW modules ready one period after the start, 1 musd/MW.

    p1 needs 5 MW (existing). p2 and p3 need 22 MW: 17 MW more, i.e. 2 whole modules, which must
    be started in p1 to be ready in p2 (a shortfall costs 1000/EFLOPS-year). Cost 2 * 10 * 1 = 20;
    salvage 0 (built at y=0, life Y=3). Without the lead time building in p2 would be cheaper
    (salvage 1/3), without modules 1.7 modules would do.
    """
    case = make_case(
        {"p1": 5, "p2": 22, "p3": 22},
        P3,
        sites=[site(existing_mw=5, lead_periods=1, capex_musd_per_mw=1.0)],
    )
    result = solve(case)
    assert result.objective_musd == approx(20.0)
    assert built(result) == approx({("s1", "p1"): 2})
    assert unmet(result) == {}


def test_builds_table_says_when_each_build_is_ready() -> None:
    """Demand 10 only in p3; 10 MW modules at 1 musd/MW that take 2 periods to build: one module
    started in p1 (cost 10), the only start ready by p3. builds.csv: 1 module, 10 MW, started in p1,
    ready in p3 (p1 + 2 periods)."""
    case = make_case(
        {"p1": 0, "p2": 0, "p3": 10},
        P3,
        sites=[site(lead_periods=2, capex_musd_per_mw=1.0)],
    )
    result = solve(case)
    assert result.objective_musd == approx(10.0)
    [row] = result.results.builds.to_dict("records")
    assert [row["site"], row["period"], row["node"], row["ready_period"]] == ["s1", "p1", "all", "p3"]
    assert [row["modules"], row["mw"]] == approx([1, 10])


def test_site_cap_counts_existing_mw() -> None:
    """max 30 MW with 5 existing: room for floor(25 / 10) = 2 modules, so 25 MW for a demand of 30.

    Cost 2 modules * 10 MW * 1 musd + 5 EFLOPS unmet * 1000 * 1 year = 5020.
    """
    case = make_case({"p1": 30}, sites=[site(existing_mw=5, max_mw=30, capex_musd_per_mw=1.0)])
    result = solve(case)
    assert result.objective_musd == approx(5020.0)
    assert built(result) == approx({("s1", "p1"): 2})
    assert unmet(result) == approx({("w", "p1"): 5})


def test_site_cap_counts_builds_of_all_periods() -> None:
    """max 20 MW over the horizon: two modules in all (when does not matter at r = 0); the 30 of
    p2 leaves 10 unmet. Site life 1 year: no salvage. Cost 10 + 10 + 10 * 1000 = 10020.
    """
    case = make_case(
        {"p1": 10, "p2": 30}, P2, sites=[site(max_mw=20, capex_musd_per_mw=1.0, life_years=1)]
    )
    result = solve(case)
    assert result.objective_musd == approx(10020.0)
    assert sum(built(result).values()) == approx(2)
    assert built(result).get(("s1", "p1"), 0) >= 1 - 1e-6
    assert unmet(result) == approx({("w", "p2"): 10})


def test_site_cap_counts_existing_mw_with_builds_in_several_periods() -> None:
    """max 20 MW with 5 existing: one 10 MW module in all, though each period's own bound
    (floor(15 / 10) = 1) would allow one per period. p1 needs 10 MW (5 + one module), p2 25 MW:
    15 MW serve it and 10 EFLOPS are unmet. Site life 2 years, built at y=0: no salvage.
    Cost 10 + 10 * 1000 = 10010 (a cap without existing_mw builds twice: 15)."""
    case = make_case(
        {"p1": 10, "p2": 25}, P2, sites=[site(existing_mw=5, max_mw=20, capex_musd_per_mw=1.0, life_years=2)]
    )
    result = solve(case)
    assert result.objective_musd == approx(10010.0)
    assert sum(built(result).values()) == approx(1)
    assert unmet(result) == approx({("w", "p2"): 10})


def test_room_under_max_mw_is_counted_in_decimal_not_float() -> None:
    """max 1.5 MW, existing 0.3, modules of 0.4: room for exactly 3 modules, though in floats
    (1.5 - 0.3) / 0.4 = 2.9999999999999996. Chips of 0.1 MW and 1 EFLOPS fill the 1.5 MW for a
    demand of 15: cost 3 * 0.4 * 1 = 1.2 (with only 2 modules, 4 EFLOPS unmet: 4000.8)."""
    case = make_case(
        {"p1": 15},
        sites=[site(max_mw=1.5, existing_mw=0.3, module_mw=0.4, capex_musd_per_mw=1.0, life_years=1)],
        chips=[chip(kw=100.0)],
    )
    result = solve(case)
    assert result.objective_musd == approx(1.2)
    assert built(result) == approx({("s1", "p1"): 3})
    assert unmet(result) == {}


def test_no_build_before_earliest_period() -> None:
    """earliest_period p2: demand 10 of p1 is unmet (10 * 100), one module in p2 (10 musd).

    Site life 1 year: no salvage. Cost 1010 (1 module in p1 would cost 20).
    """
    case = make_case(
        {"p1": 10, "p2": 10},
        P2,
        sites=[site(earliest_period="p2", capex_musd_per_mw=1.0, life_years=1)],
        penalty=100.0,
    )
    result = solve(case)
    assert result.objective_musd == approx(1010.0)
    assert built(result) == approx({("s1", "p2"): 1})
    assert unmet(result) == approx({("w", "p1"): 10})


# 2. Fleet, chip life, chips fit in buildings ---------------------------------------------------


def test_chips_retire_after_life() -> None:
    """Chip life 2 years, 1 musd, demand 1 in p1..p3 (1 year each, Y = 3).

    A chip bought in p1 serves p1 and p2 (y = 0, 1 < 2) but not p3 (2 - 0 < 2 is false). p3 is
    served by a chip bought in p2 (1 musd, salvage 1 - (3-1)/2 = 0) or in p3 (1 musd, salvage
    1 - (3-2)/2 = 0.5): buy in p3. Cost 1 + 1 - 0.5 = 1.5.
    """
    case = make_case({"p1": 1, "p2": 1, "p3": 1}, P3, chips=[chip(capex_usd=1e6, life_years=2)])
    result = solve(case)
    assert result.objective_musd == approx(1.5)
    assert bought(result) == approx({("c1", "s1", "p1"): 1, ("c1", "s1", "p3"): 1})
    assert breakdown(result)["salvage"] == approx(0.5)


def test_chip_life_is_read_on_decimal_years_not_float_sums() -> None:
    """Ten periods of 0.1 year, chip life 0.3 year, 1 musd, demand 1 in p4..p7 only.

    Every chip serves three periods, so p4..p7 need two chips: cost 2 (the second, bought at
    y = 0.4 at the latest, has no salvage: 1 - (1 - 0.4) / 0.3 < 0). As float sums y[p7] - y[p4]
    is 0.7 - 0.30000000000000004 = 0.29999999999999993 < 0.3: a chip bought in p4 would
    wrongly serve p7 too, and one chip would do (cost 1).
    """
    periods = {f"p{i}": 0.1 for i in range(1, 11)}
    demand = {p: (1 if p in ("p4", "p5", "p6", "p7") else 0) for p in periods}
    case = make_case(demand, periods, chips=[chip(capex_usd=1e6, life_years=0.3)])
    result = solve(case)
    assert result.objective_musd == approx(2.0)
    assert sum(bought(result).values()) == approx(2.0)

def test_a_chip_serves_its_own_period_however_short_its_life() -> None:
    """Chip life 1e-9 years, 1 musd, demand 1 in p1 and p2 (1 year each): ``0 < 1e-9``, so a chip
    serves the period it is bought in and no other: one chip a period, no salvage, cost 2.
    (The round-off tolerance on ages once made such a chip never in service: 2 periods unmet.)"""
    case = make_case({"p1": 1, "p2": 1}, P2, chips=[chip(capex_usd=1e6, life_years=1e-9)])
    result = solve(case)
    assert result.objective_musd == approx(2.0)
    assert bought(result) == approx({("c1", "s1", "p1"): 1, ("c1", "s1", "p2"): 1})



def test_chips_fit_in_buildings_by_kw() -> None:
    """30 chips of 500 kW = 15 IT MW: two 10 MW modules at 10 musd each.

    Chips 0.01 musd each. Cost 2 * 10 + 30 * 0.01 = 20.3 (at 1 MW per chip it would need 3).
    """
    case = make_case(
        {"p1": 30}, sites=[site(capex_musd_per_mw=1.0)], chips=[chip(kw=500, capex_usd=1e4)]
    )
    result = solve(case)
    assert result.objective_musd == approx(20.3)
    assert built(result) == approx({("s1", "p1"): 2})
    assert bought(result) == approx({("c1", "s1", "p1"): 30})


def test_chip_purchase_window() -> None:
    """``old`` can be bought only in p1 (1 musd), ``new`` only from p2 (0.5 musd); life 1 year.

    p1 needs an old chip, p2 a new one: 1.5 (new in both periods would cost 1.0).
    """
    case = make_case(
        {"p1": 1, "p2": 1},
        P2,
        chips=[
            chip("old", capex_usd=1e6, life_years=1, last_period="p1"),
            chip("new", capex_usd=5e5, life_years=1, first_period="p2"),
        ],
    )
    result = solve(case)
    assert result.objective_musd == approx(1.5)
    assert bought(result) == approx({("old", "s1", "p1"): 1, ("new", "s1", "p2"): 1})


def test_chips_table_gives_each_node_its_probability() -> None:
    """Demand 1 in p1; then 2 and 3 in ``hi`` (probability 0.75), 1 and 1 in ``lo`` (0.25). p2's
    decisions are taken before its demand is known, so the scenarios share p1 and p2 and branch
    in p3. 1 musd chips living the 3-year horizon (one bought in year y is worth y/3 at its end):
    p1 buys 1, p2 buys 1 for ``hi``'s 2 (salvage 1/3), only ``hi`` buys a third in p3 (2/3). Cost
    1 + 2/3 + 0.75 x 1/3 = 23/12. chips.csv: p1 and p2 at node ``all``, probability 1; p3 at ``hi``
    with probability 0.75 (bought 1, fleet 3) and at ``lo`` with 0.25 (bought 0, fleet 2)."""
    case = make_case(
        {"hi": {"p1": 1, "p2": 2, "p3": 3}, "lo": {"p1": 1, "p2": 1, "p3": 1}},
        P3,
        chips=[chip(capex_usd=1e6)],
        probabilities={"hi": 0.75, "lo": 0.25},
    )
    result = solve(case)
    assert result.objective_musd == approx(23 / 12)
    table = result.results.chips
    nodes = [["p1", "all"], ["p2", "all"], ["p3", "hi"], ["p3", "lo"]]
    assert table[["period", "node"]].values.tolist() == nodes
    figures = [[1, 1, 1], [1, 1, 2], [0.75, 1, 3], [0.25, 0, 2]]  # probability, bought, fleet
    assert table[["probability", "bought", "fleet"]].values.tolist() == [approx(row) for row in figures]


# 3. Running chips <= fleet ---------------------------------------------------------------------


def test_a_chip_runs_one_workload_at_a_time() -> None:
    """Workloads a and b need 1 EFLOPS each: 2 chips at 1 musd, not 1. Cost 2."""
    case = make_case({"p1": {"a": 1, "b": 1}}, chips=[chip(capex_usd=1e6)])
    result = solve(case)
    assert result.objective_musd == approx(2.0)
    assert bought(result) == approx({("c1", "s1", "p1"): 2})


def test_dispatch_rows_follow_the_input_order_of_sites_then_chips() -> None:
    """dispatch.csv lists rows by scenario and period, then by site, chip and workload in the order
    the input files list them (not alphabetically, not in the solver's order): sites ``b`` then
    ``a``, chips ``y`` then ``x``. Given runs in the reverse order, the rows read b-y, b-x, a-y, a-x
    in p1, then the same in p2."""
    from planner.results import _dispatch

    case = make_case({"p1": 4, "p2": 4}, P2, sites=[site("b"), site("a")], chips=[chip("y"), chip("x")])
    pm = build_model(case)
    order = [(s, c) for s in ("b", "a") for c in ("y", "x")]
    run = {(c, s, "w", t, "base"): 1.0 for t in (1, 0) for s, c in reversed(order)}
    table = _dispatch(pm, run)
    expected = [[p, s, c] for p in ("p1", "p2") for s, c in order]
    assert table[["period", "site", "chip"]].values.tolist() == expected


# 4. Demand -------------------------------------------------------------------------------------


def test_chip_performance_overrides_pflops() -> None:
    """1000 PFLOPS, but 2000 on ``infer``: train 2 needs 2 chips, infer 4 needs 2. Cost 4 x 1."""
    case = make_case(
        {"p1": {"train": 2, "infer": 4}},
        chips=[chip(capex_usd=1e6)],
        chip_performance={("c1", "infer"): 2000.0},
    )
    result = solve(case)
    assert result.objective_musd == approx(4.0)
    assert bought(result) == approx({("c1", "s1", "p1"): 4})
    assert unmet(result) == {}
    # 2 chips on train (1 EFLOPS each) and 2 on infer (2 each): 6 installed, all of it served.
    capacity = result.results.capacity_by_period.iloc[0]
    assert [capacity.installed_eflops, capacity.served_eflops, capacity.demand_eflops] == approx([6, 6, 6])
    dispatch = result.results.dispatch.set_index("workload")
    assert cast(pd.Series, dispatch.loc["infer", ["running_chips", "eflops"]]).tolist() == approx([2, 4])
    assert cast(pd.Series, dispatch.loc["train", ["running_chips", "eflops"]]).tolist() == approx([2, 2])


def test_idle_chips_count_whatever_they_cost() -> None:
    """Free chips (opex only, 2-year life) bought for demand 2 in p1 stay when demand falls to 1:
    one idle chip (1000 PFLOPS) in p2, stranding no capital (no book value)."""
    case = make_case({"p1": 2, "p2": 1}, P2, chips=[chip(opex_usd_per_year=1e5, life_years=2)])
    result = solve(case)
    p2 = result.results.stranded_by_period.set_index("period").loc["p2"]
    assert [p2.idle_chips, p2.idle_pflops, p2.stranded_capital_musd] == approx([1, 1000, 0])


def test_chips_running_beyond_demand_are_reported_idle() -> None:
    """Two chips bought for demand 2 in p1 stay for p2, whose demand is 1. Energy comes only from
    ``top`` (10 MW, min_take 1, 100 usd/MWh): its 10,000 MWh are paid for whatever runs, so running
    the second chip in p2 costs nothing. The tables report the plan that does not: one chip idle,
    serving 1 EFLOPS, and 10,000 - 1,000 = 9,000 MWh of take-or-pay unused."""
    case = make_case(
        {"p1": 2, "p2": 1},
        P2,
        chips=[chip(opex_usd_per_year=1e5, life_years=2)],
        contracts=[contract("top", mw=10, min_take=1.0, price_usd_per_mwh=100.0)],
    )
    result = solve(case)
    p2 = result.results.stranded_by_period.set_index("period").loc["p2"]
    assert [p2.idle_chips, p2.unused_take_or_pay_mwh] == approx([1, 9000])
    assert result.results.capacity_by_period["served_eflops"].tolist() == approx([2, 1])


def test_over_service_is_cut_from_the_chips_that_need_most_energy_per_eflops() -> None:
    """Demand 3; ``c1`` (1 EFLOPS and 1 MW a chip) and ``c2`` (2 EFLOPS, 1 MW) both run 2 chips:
    6 EFLOPS. The 3 EFLOPS too many are cut from ``c1`` first (2 chips, 2 EFLOPS), then half a
    ``c2`` chip. A run that serves no more than demand is left alone; chips that tie on energy
    are cut in input order: sites, then chips."""
    from planner.results import _without_over_service

    case = make_case({"p1": 3}, chips=[chip("c1"), chip("c2", pflops=2000.0)], sites=[site("s1"), site("s2")])
    pm = build_model(case)
    c1, c2 = ("c1", "s1", "w", 0, "base"), ("c2", "s1", "w", 0, "base")
    c1_at_s2 = ("c1", "s2", "w", 0, "base")
    assert _without_over_service(pm, {c1: 2.0, c2: 2.0}) == approx({c2: 1.5})
    assert _without_over_service(pm, {c1: 2.0}) == {c1: 2.0}
    assert _without_over_service(pm, {c1: 3.0}) == {c1: 3.0}
    assert _without_over_service(pm, {c1_at_s2: 2.0, c1: 2.0}) == approx({c1_at_s2: 2.0, c1: 1.0})


def test_over_service_is_counted_in_eflops_at_the_site_s_pue_and_the_workload_s_pflops() -> None:
    """Demand 3 EFLOPS. Energy per EFLOPS is ``pue * kw / pflops`` with the site's PUE and the
    PFLOPS on the workload run, and the excess is cut in EFLOPS, not chips:

    - ``big`` (2000 PFLOPS, 4000 kW: 2 per EFLOPS) before ``c1`` (1): 2 of each serve 4 + 2 = 6;
      1.5 ``big`` chips carry the 3 EFLOPS too many, ``c1`` keeps its 2 (served 1 + 2 = 3).
    - ``c1`` at ``hot`` (PUE 2: 2 per EFLOPS) before ``c1`` at ``s1`` (1): 2 + 2 serve 4, 1 chip
      off at ``hot``.
    - ``c1`` at ``s2`` ties with its twin ``c3`` at ``s1``; sites come before chips: 1 ``c3`` off.
    - ``fast`` (1000 PFLOPS but 4000 on ``w``: 0.25 per EFLOPS) after ``c2`` (2000: 0.5): 1
      ``fast`` and 2 ``c2`` serve 4 + 4 = 8; both ``c2`` go (4 EFLOPS), then 1 / 4 of ``fast``."""
    from planner.results import _without_over_service

    case = make_case(
        {"p1": 3},
        sites=[site("s1"), site("s2"), site("hot", pue=2.0)],
        chips=[chip("c1"), chip("c2", pflops=2000.0), chip("big", pflops=2000.0, kw=4000.0),
               chip("fast"), chip("c3")],
        chip_performance={("fast", "w"): 4000.0},
    )
    pm = build_model(case)

    def cut(run: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
        kept = _without_over_service(pm, {(c, s, "w", 0, "base"): v for (c, s), v in run.items()})
        return {key[:2]: v for key, v in kept.items()}

    assert cut({("c1", "s1"): 2.0, ("big", "s1"): 2.0}) == approx({("c1", "s1"): 2.0, ("big", "s1"): 0.5})
    assert cut({("c1", "s1"): 2.0, ("c1", "hot"): 2.0}) == approx({("c1", "s1"): 2.0, ("c1", "hot"): 1.0})
    assert cut({("c1", "s2"): 2.0, ("c3", "s1"): 2.0}) == approx({("c1", "s2"): 2.0, ("c3", "s1"): 1.0})
    assert cut({("fast", "s1"): 1.0, ("c2", "s1"): 2.0}) == approx({("fast", "s1"): 0.75})


def test_free_energy_beyond_the_running_chips_need_is_not_reported_as_taken() -> None:
    """Half a chip runs at s1: 0.5 MW x 1000 h = 500 MWh needed. Three existing 1 MW contracts
    (1000 MWh each): ``free`` at 0 $/MWh, ``floor`` at 0 $/MWh with take-or-pay 0.8 (800 MWh),
    ``priced`` at 10 $/MWh. At price 0 HiGHS may take any amount (a black-box test saw 8,760 MWh
    for 7,884 needed); the table reports the equal-cost plan that takes the need, or the floor
    when that is more, free contracts first in input order. Priced energy is the plan's own."""
    from planner.results import _without_free_excess_energy
    from planner.solved import energy_needed_mwh

    case = make_case(
        {"p1": 0.5},
        contracts=[contract("free", mw=1.0), contract("floor", mw=1.0, min_take=0.8),
                   contract("priced", mw=1.0, price_usd_per_mwh=10.0)],
    )
    pm = build_model(case)
    half_a_chip = {("c1", "s1", 0, "base"): 0.5}

    def trimmed(energy: dict[str, float], running: dict = half_a_chip) -> dict[str, float]:
        taken = {(q, 0, "base"): mwh for q, mwh in energy.items()}
        need = energy_needed_mwh(case, pm.sets, running)
        return {k[0]: v for k, v in _without_free_excess_energy(pm, taken, need, {}).items()}

    assert trimmed({"free": 1000.0}) == approx({"free": 500.0})
    assert trimmed({"floor": 1000.0}) == approx({"floor": 800.0})
    assert trimmed({"priced": 1000.0}) == {"priced": 1000.0}
    assert trimmed({"free": 300.0, "floor": 1000.0}) == approx({"free": 0.0, "floor": 800.0})
    assert trimmed({"free": 400.0, "priced": 100.0}) == approx({"free": 400.0, "priced": 100.0})
    assert trimmed({"free": 1000.0}, running={}) == approx({"free": 0.0})


def test_free_energy_trimmed_against_the_site_s_whole_need_and_take() -> None:
    """s1 runs a quarter of ``c1`` and a quarter of ``c2`` (1 MW each): 250 + 250 = 500 MWh needed.
    Two free 1 MW contracts each took 1000 MWh: the site took 2000, 1500 too many. ``a`` gives up
    all its 1000 first (input order), then ``b`` the 500 still too many: b keeps the need, 500.
    Taking 1001 MWh from ``a`` for a need of 1000 (one chip) is 1 MWh of excess, not round-off.
    ``half``, signed at share 0.5 (500 of its 1000 MWh available), min_take 0.8, has a floor of
    0.8 x 500 = 400 MWh: taking 500 with no chip running, 100 of it is excess."""
    from planner.results import _without_free_excess_energy
    from planner.solved import energy_needed_mwh

    case = make_case(
        {"p1": 0.5},
        chips=[chip("c1"), chip("c2")],
        contracts=[contract("a", mw=1.0), contract("b", mw=1.0),
                   contract("half", mw=1.0, min_take=0.8, existing=False)],
    )
    pm = build_model(case)
    signed_half = {("half", pm.sets.long_lead_node[pm.sets.info_tree.node_of["base", 0]]): 0.5}

    def trimmed(energy: dict[str, float], running: dict[str, float]) -> dict[str, float]:
        taken = {(q, 0, "base"): mwh for q, mwh in energy.items()}
        chips = {(c, "s1", 0, "base"): v for c, v in running.items()}
        need = energy_needed_mwh(case, pm.sets, chips)
        return {k[0]: v for k, v in _without_free_excess_energy(pm, taken, need, signed_half).items()}

    assert trimmed({"a": 1000.0, "b": 1000.0}, {"c1": 0.25, "c2": 0.25}) == approx({"a": 0.0, "b": 500.0})
    assert trimmed({"a": 1001.0}, {"c1": 1.0}) == approx({"a": 1000.0})
    assert trimmed({"half": 500.0}, {}) == approx({"half": 400.0})


def test_idle_chips_count_in_installed_capacity_at_their_nominal_pflops() -> None:
    """Demand 4 in p1, 2 in p2 (infer, 2000 PFLOPS per chip; nominal 1000); chips live 2 periods.

    p1 buys 2 chips; in p2 one runs (2 EFLOPS) and one is idle (1 EFLOPS nominal): installed 3.
    """
    case = make_case(
        {"p1": {"infer": 4}, "p2": {"infer": 2}},
        P2,
        chips=[chip(capex_usd=1e6)],
        chip_performance={("c1", "infer"): 2000.0},
    )
    result = solve(case)
    assert result.objective_musd == approx(2.0)
    capacity = result.results.capacity_by_period
    assert capacity["installed_eflops"].tolist() == approx([4, 3])
    assert capacity["served_eflops"].tolist() == approx([4, 2])


def test_unmet_demand_when_the_penalty_is_cheap() -> None:
    """Penalty 0.75 musd per EFLOPS-year; a 1 musd chip serves 1 EFLOPS of train, 2 of infer.

    Serving train costs 1 > 0.75 per EFLOPS: leave 2 unmet (1.5). Serving infer costs 0.5 < 0.75:
    buy 1 chip (1). Cost 2.5.
    """
    case = make_case(
        {"p1": {"train": 2, "infer": 2}},
        chips=[chip(capex_usd=1e6)],
        chip_performance={("c1", "infer"): 2000.0},
        penalty=0.75,
    )
    result = solve(case)
    assert result.objective_musd == approx(2.5)
    assert bought(result) == approx({("c1", "s1", "p1"): 1})
    assert unmet(result) == approx({("train", "p1"): 2})
    assert breakdown(result)["unmet_demand"] == approx(1.5)


def test_unmet_table_sets_each_period_s_shortfall_beside_its_demand() -> None:
    """Demand 2 in p1 and 5 in p2; free chips, at most 1 a period (chip_supply.csv). p1 has 1 chip
    (1 EFLOPS unmet of 2), p2 has 2 (3 unmet of 5): unmet.csv gives each period its own demand."""
    case = make_case({"p1": 2, "p2": 5}, P2, chip_supply={("c1", "p1"): 1, ("c1", "p2"): 1})
    result = solve(case)
    assert unmet(result) == approx({("w", "p1"): 1, ("w", "p2"): 3})
    table = result.results.unmet
    keys = [["base", "p1", "w"], ["base", "p2", "w"]]
    assert table[["scenario", "period", "workload"]].values.tolist() == keys
    assert table[["eflops", "demand_eflops"]].values.tolist() == [approx([1, 2]), approx([3, 5])]


def test_expected_unmet_demand_weighs_each_period_by_its_years() -> None:
    """No chip can be bought (supply 0), so all demand is unmet. p1 lasts 1 year, p2 2 years.
    ``hi`` (probability 0.75) leaves 1 EFLOPS in p1 and 2 in p2 unmet: 1 x 1 + 2 x 2 = 5
    EFLOPS-years; ``lo`` (0.25) 1 in p1 and none in p2: 1. Expected 0.75 x 5 + 0.25 x 1 = 4."""
    case = make_case(
        {"hi": {"p1": 1, "p2": 2}, "lo": {"p1": 1, "p2": 0}},
        {"p1": 1.0, "p2": 2.0},
        probabilities={"hi": 0.75, "lo": 0.25},
        chip_supply={("c1", "p1"): 0, ("c1", "p2"): 0},
    )
    result = solve(case)
    expected = result.results.expected_unmet_eflops_years(case.scenario_probability, case.period_years)
    assert expected == approx(4.0)


# 5. Firm power ---------------------------------------------------------------------------------


def test_firm_power_with_firm_fraction_and_pue() -> None:
    """PUE 1.5; q1 10 MW at 60 % firm, q2 10 MW at 30 % firm, each 1 musd/MW-year.

    6 chips need 1.5 * 6 = 9 MW firm: q1 alone gives 6 (4 chips), q2 alone 3; both give 9.
    Cost 10 + 10 = 20 (q1 alone: 10 + 2 * 1000 unmet).
    """
    case = make_case(
        {"p1": 6},
        sites=[site(pue=1.5)],
        contracts=[
            contract("q1", mw=10, firm_fraction=0.6, capacity_cost_musd_per_mw_year=1.0, existing=False),
            contract("q2", mw=10, firm_fraction=0.3, capacity_cost_musd_per_mw_year=1.0, existing=False),
        ],
    )
    result = solve(case)
    assert result.objective_musd == approx(20.0)
    assert signed(result) == approx({("q1", "p1"): 1, ("q2", "p1"): 1})
    assert unmet(result) == {}


# 6. Energy and contracts -----------------------------------------------------------------------


def test_energy_balance_with_load_factor_hours_and_pue() -> None:
    """One 2-year period, PUE 1.2, load factor 0.5, 1000 h/year, 100 usd/MWh, a 1 musd chip.

    Energy 1.2 * 0.5 * 1000 * 2 * 1 MW = 1200 MWh, 0.12 musd (energy is not multiplied by years
    again). Cost 1 + 0.12 = 1.12.
    """
    case = make_case(
        {"p1": 1},
        {"p1": 2.0},
        sites=[site(pue=1.2)],
        chips=[chip(capex_usd=1e6)],
        contracts=[contract(price_usd_per_mwh=100.0)],
        load_factor=0.5,
    )
    result = solve(case)
    assert result.objective_musd == approx(1.12)
    assert energy(result) == approx({("q1", "p1"): 1200})
    assert breakdown(result)["energy"] == approx(0.12)


def test_energy_capped_by_availability() -> None:
    """10 MW at availability 0.5: 5000 MWh, enough for 5 running chips; demand 8, penalty 10.

    Cost 5 chips * 1 + 3 unmet * 10 = 35.
    """
    case = make_case(
        {"p1": 8},
        chips=[chip(capex_usd=1e6)],
        contracts=[contract(mw=10, availability=0.5)],
        penalty=10.0,
    )
    result = solve(case)
    assert result.objective_musd == approx(35.0)
    assert bought(result) == approx({("c1", "s1", "p1"): 5})
    assert unmet(result) == approx({("w", "p1"): 3})
    assert energy(result) == approx({("q1", "p1"): 5000})


def test_take_or_pay_is_paid_when_not_needed() -> None:
    """Existing ``top`` (10 MW, min_take 0.5, 100 usd/MWh) beside an existing free contract.

    The 2 chips need 2000 MWh, which the free contract could give, but take-or-pay makes ``top``
    deliver 0.5 * 10 * 1000 = 5000 MWh at 100 usd: 0.5 musd. Cost 2 + 0.5 = 2.5; 3000 MWh of it
    is unused.
    """
    case = make_case(
        {"p1": 2},
        chips=[chip(capex_usd=1e6)],
        contracts=[
            contract("free", mw=10),
            contract("top", mw=10, min_take=0.5, price_usd_per_mwh=100.0),
        ],
    )
    result = solve(case)
    assert result.objective_musd == approx(2.5)
    assert energy(result)[("top", "p1")] == approx(5000)
    stranded = result.results.stranded_by_period
    assert stranded["unused_take_or_pay_mwh"].sum() == approx(3000)
    table = result.results.energy.set_index("contract")
    top = table.loc["top"]
    assert [top.active_share, top.mwh] == approx([1, 5000])
    assert [top.available_mwh, top.take_or_pay_floor_mwh] == approx([10000, 5000])
    assert cast(pd.Series, table.loc["free", ["available_mwh", "take_or_pay_floor_mwh"]]).tolist() == approx(
        [10000, 0]
    )
    dispatch = result.results.dispatch
    assert dispatch[["site", "chip", "workload"]].values.tolist() == [["s1", "c1", "w"]]
    assert dispatch[["running_chips", "eflops", "it_mw"]].values.tolist() == [approx([2, 2, 2])]


def _lead_and_term_case(*more_contracts: dict) -> Case:
    """q1: 1 MW, 1 musd/MW-year, lead 1 period, term 1 period; demand 1 only in p2; chip life 1."""
    return make_case(
        {"p1": 0, "p2": 1, "p3": 0},
        P3,
        chips=[chip(life_years=1)],
        contracts=[
            contract(mw=1, capacity_cost_musd_per_mw_year=1.0, lead_periods=1, term_periods=1,
                     existing=False),
            *more_contracts,
        ],
    )


def test_contract_lead_and_term() -> None:
    """q: 1 MW, 1 musd/MW-year, lead 1 period, term 1 period; demand 1 only in p2; chip life 1.

    Signed in p1 it is active in p2 only: cost 1. (Signed in p2 it would be active in p3;
    without a term it would also be charged in p3.)
    """
    case = _lead_and_term_case()
    result = solve(case)
    assert result.objective_musd == approx(1.0)
    assert signed(result) == approx({("q1", "p1"): 1})
    assert unmet(result) == {}
    active = result.results.energy
    assert active[["period", "contract"]].values.tolist() == [["p2", "q1"]]
    assert active[["active_share", "mwh"]].values.tolist() == [approx([1, 1000])]


def test_contracts_table_shows_each_term_from_its_start() -> None:
    """The case above plus ``old``, an existing free 1 MW contract whose term is 1 period (p1,
    when demand is 0, so the plan is unchanged: cost 1). contracts.csv: ``q1`` signed in p1 at
    share 1 (1 MW), active from p2 (lead 1) until p2 (term 1: not p1, counted from the signing,
    nor p3, the horizon's end); ``old`` existing, active from p1 until p1."""
    case = _lead_and_term_case(contract("old", mw=1, term_periods=1))
    result = solve(case)
    assert result.objective_musd == approx(1.0)
    table = result.results.contracts.set_index("contract")
    columns = ["period", "active_from", "active_until"]
    assert cast(pd.Series, table.loc["q1", columns]).tolist() == ["p1", "p2", "p2"]
    assert cast(pd.Series, table.loc["q1", ["share", "mw"]]).tolist() == approx([1, 1])
    assert cast(pd.Series, table.loc["old", columns]).tolist() == ["existing", "p1", "p1"]


def test_contract_first_period() -> None:
    """q can be signed from p2 on (1 MW, 1 musd/MW-year): p1 demand 1 unmet (10), p2 charged 1.

    Cost 11 (signing in p1 would cost 2).
    """
    case = make_case(
        {"p1": 1, "p2": 1},
        P2,
        contracts=[contract(mw=1, capacity_cost_musd_per_mw_year=1.0, first_period="p2",
                            existing=False)],
        penalty=10.0,
    )
    result = solve(case)
    assert result.objective_musd == approx(11.0)
    assert signed(result) == approx({("q1", "p2"): 1})
    assert unmet(result) == approx({("w", "p1"): 1})


def test_existing_contract_pays_capacity_not_capex() -> None:
    """Existing q: 2 MW, 0.5 musd/MW-year, capex 3 musd/MW (never paid), 100 usd/MWh, term 1.

    p1: capacity 2 * 0.5 = 1, energy 1000 MWh = 0.1. p2: the term is over, no power: demand 1
    unmet at 5. Cost 6.1, nothing signed.
    """
    case = make_case(
        {"p1": 1, "p2": 1},
        P2,
        chips=[chip(life_years=1)],
        contracts=[
            contract(mw=2, capacity_cost_musd_per_mw_year=0.5, capex_musd_per_mw=3.0,
                     price_usd_per_mwh=100.0, term_periods=1)
        ],
        penalty=5.0,
    )
    result = solve(case)
    assert result.objective_musd == approx(6.1)
    assert signed(result) == {}
    assert unmet(result) == approx({("w", "p2"): 1})
    costs = breakdown(result)
    assert costs["capacity_charge"] == approx(1.0)
    assert costs["power_capex"] == approx(0.0)


@pytest.mark.parametrize(("divisible", "share", "cost"), [(False, 1.0, 10.0), (True, 0.4, 4.0)])
def test_divisible_and_indivisible_contracts(divisible: bool, share: float, cost: float) -> None:
    """4 chips need 4 MW of a 10 MW contract at 1 musd/MW-year: all of it (10) or 40 % (4)."""
    case = make_case(
        {"p1": 4},
        contracts=[contract(mw=10, capacity_cost_musd_per_mw_year=1.0, divisible=divisible,
                            existing=False)],
    )
    result = solve(case)
    assert result.objective_musd == approx(cost)
    assert signed(result) == approx({("q1", "p1"): share})


def test_a_contract_is_signed_at_most_once() -> None:
    """q: 10 MW, all or nothing, 1 musd/MW-year; demand 5 in p1 and 15 in p2; penalty 5.

    Signed in p1 it serves p1 and 10 of p2's 15: 10 + 10 + 5 unmet * 5 = 45 (signed in p2: 25 +
    10 + 25 = 60; never: 100). Signing it a second time in p2 (20 MW, cost 10 + 20 = 30) is not
    allowed.
    """
    case = make_case(
        {"p1": 5, "p2": 15},
        P2,
        contracts=[contract(mw=10, capacity_cost_musd_per_mw_year=1.0, existing=False)],
        penalty=5.0,
    )
    result = solve(case)
    assert result.objective_musd == approx(45.0)
    assert signed(result) == approx({("q1", "p1"): 1})
    assert unmet(result) == approx({("w", "p2"): 5})


# 7. Chip supply --------------------------------------------------------------------------------


def test_chip_supply_limits_purchases_over_all_sites() -> None:
    """c1 (1 musd) limited to 3 units in p1 over both sites, c2 costs 2; each site holds 3 MW.

    Demand 5: 3 c1 + 2 c2 = 7 (a per-site limit would allow 5 c1 = 5).
    """
    case = make_case(
        {"p1": 5},
        sites=[site("s1", max_mw=3, module_mw=1), site("s2", max_mw=3, module_mw=1)],
        chips=[chip("c1", capex_usd=1e6), chip("c2", capex_usd=2e6)],
        chip_supply={("c1", "p1"): 3},
    )
    result = solve(case)
    assert result.objective_musd == approx(7.0)
    per_chip: dict[str, float] = {}
    for (c, _s, _t), units in bought(result).items():
        per_chip[c] = per_chip.get(c, 0.0) + units
    assert per_chip == approx({"c1": 3, "c2": 2})


# 8. Budget -------------------------------------------------------------------------------------


def test_budget_caps_capex_per_period() -> None:
    """Budget 3 musd in p1; module 10 MW at 0.1 musd/MW (1 musd); chips 1 musd; penalty 10.

    p1 (demand 4): 1 module + 2 chips = 3 musd, 2 unmet = 20. p2 (demand 4, no budget): 2 more
    chips, 2 musd minus salvage 2 * (1 - (2-1)/2) = 1. Cost 1 + 2 + 20 + 2 - 1 = 24.
    """
    case = make_case(
        {"p1": 4, "p2": 4},
        P2,
        sites=[site(capex_musd_per_mw=0.1)],
        chips=[chip(capex_usd=1e6)],
        budget={"p1": 3.0},
        penalty=10.0,
    )
    result = solve(case)
    assert result.objective_musd == approx(24.0)
    assert built(result) == approx({("s1", "p1"): 1})
    assert bought(result) == approx({("c1", "s1", "p1"): 2, ("c1", "s1", "p2"): 2})
    assert unmet(result) == approx({("w", "p1"): 2})


# Objective -------------------------------------------------------------------------------------


def test_discounting_with_unequal_periods() -> None:
    """r = 0.1; p1 of 1 year, p2 of 2 years: y = (0, 1), d = (1, 1/1.1), Y = 3.

    Demand: w 0 then 1; x 0 then 0.5, which no chip can serve (pflops 0), penalty 2.2.
    One chip bought in p2: capex 1.1 musd (life 2: salvage 1 - (3-1)/2 = 0), opex 0.55/year,
    2000 MWh at 55 usd. Existing 10 MW at 0.1 musd/MW-year; contract 1 MW at 0.55/MW-year.
      site_om          1 * 1 + 1 * 2/1.1        = 1 + 20/11
      chips_capex      1.1 / 1.1                = 1
      chip_om          0.55 * 2/1.1             = 1
      capacity_charge  0.55 * 1 + 0.55 * 2/1.1  = 1.55
      energy           0.11 / 1.1               = 0.1
      unmet_demand     0.5 * 2.2 * 2/1.1        = 2
    total 6.65 + 20/11. (Serving w costs 2.1 < 2.2 * 2 of unmet; buying in p1 costs more.)
    """
    case = make_case(
        {"p1": {"w": 0, "x": 0}, "p2": {"w": 1, "x": 0.5}},
        {"p1": 1.0, "p2": 2.0},
        sites=[site(existing_mw=10, fixed_om_musd_per_mw_year=0.1)],
        chips=[chip(capex_usd=1.1e6, opex_usd_per_year=0.55e6, life_years=2)],
        contracts=[contract(mw=1, capacity_cost_musd_per_mw_year=0.55, price_usd_per_mwh=55.0)],
        chip_performance={("c1", "x"): 0.0},
        discount_rate=0.1,
        penalty=2.2,
    )
    result = solve(case)
    expected = {
        "site_om": 1 + 20 / 11,
        "chips_capex": 1.0,
        "chip_om": 1.0,
        "capacity_charge": 1.55,
        "energy": 0.1,
        "unmet_demand": 2.0,
        "salvage": 0.0,
        "buildings_capex": 0.0,
        "power_capex": 0.0,
        "total": 6.65 + 20 / 11,
    }
    assert result.objective_musd == approx(6.65 + 20 / 11)
    assert breakdown(result) == approx(expected)
    assert bought(result) == approx({("c1", "s1", "p2"): 1})
    assert unmet(result) == approx({("x", "p2"): 0.5})


def test_annual_flows_on_built_mw_fleet_and_contracts() -> None:
    """One 2-year period, r = 0. Demand 10: 10 chips on 5 existing + 1 module = 15 MW.

    Fixed O&M 0.1 * 15 MW * 2 = 3; chip opex 0.1 musd/year: 10 * 0.1 * 2 = 2; contract 20 MW at
    0.05 musd/MW-year, signed: 20 * 0.05 * 2 = 2. Cost 7.
    """
    case = make_case(
        {"p1": 10},
        {"p1": 2.0},
        sites=[site(existing_mw=5, fixed_om_musd_per_mw_year=0.1)],
        chips=[chip(opex_usd_per_year=1e5)],
        contracts=[contract(mw=20, capacity_cost_musd_per_mw_year=0.05, existing=False)],
    )
    result = solve(case)
    assert result.objective_musd == approx(7.0)
    assert built(result) == approx({("s1", "p1"): 1})
    assert bought(result) == approx({("c1", "s1", "p1"): 10})
    assert signed(result) == approx({("q1", "p1"): 1})
    costs = breakdown(result)
    assert (costs["site_om"], costs["chip_om"], costs["capacity_charge"]) == approx((3, 2, 2))


def _paid_in_p1_and_p2() -> Case:
    """A module and a contract started in p1 to be ready in p2, a chip bought in p2 (r = 0.1)."""
    return make_case(
        {"p1": 0, "p2": 1},
        P2,
        sites=[site(capex_musd_per_mw=1.0, lead_periods=1, life_years=4)],
        chips=[chip(capex_usd=2e6, life_years=2)],
        contracts=[contract(mw=2, capex_musd_per_mw=0.5, lead_periods=1, life_years=4,
                            existing=False)],
        discount_rate=0.1,
    )


def test_salvage_straight_line_discounted_from_horizon_end() -> None:
    """r = 0.1, p1 and p2 of 1 year (Y = 2); demand 1 in p2 only.

    Module (10 MW, 1 musd/MW, lead 1, life 4) and contract (2 MW, capex 0.5 musd/MW, lead 1,
    life 4) must start in p1 to be ready in p2; the chip (2 musd, life 2) is bought in p2.
      capex    10 + 1 + 2/1.1
      salvage  (10 * (1 - 2/4) + 1 * (1 - 2/4) + 2 * (1 - (2-1)/2)) / 1.1^2 = 6.5 / 1.21
    Cost 11 + 2/1.1 - 6.5/1.21.
    """
    case = _paid_in_p1_and_p2()
    result = solve(case)
    assert result.objective_musd == approx(11 + 2 / 1.1 - 6.5 / 1.21)
    assert built(result) == approx({("s1", "p1"): 1})
    assert signed(result) == approx({("q1", "p1"): 1})
    assert bought(result) == approx({("c1", "s1", "p2"): 1})
    costs = breakdown(result)
    assert costs["salvage"] == approx(6.5 / 1.21)
    assert (costs["buildings_capex"], costs["power_capex"], costs["chips_capex"]) == approx(
        (10, 1, 2 / 1.1)
    )


def test_capex_by_period_is_undiscounted_and_totals_every_kind() -> None:
    """The case above: the module (10 musd) and the contract (1 musd) are paid in p1, the chip
    (2 musd) in p2. capex_by_period.csv, undiscounted (not 2 / 1.1): p1 10 + 0 + 1 = 11,
    p2 0 + 2 + 0 = 2."""
    case = _paid_in_p1_and_p2()
    table = solve(case).results.capex_by_period
    columns = ["buildings_capex", "chips_capex", "power_capex", "total"]
    assert cast(pd.Series, table.loc["p1", columns]).tolist() == approx([10, 0, 1, 11])
    assert cast(pd.Series, table.loc["p2", columns]).tolist() == approx([0, 2, 0, 2])


@pytest.mark.parametrize(
    ("penalty", "weight", "chips", "expected", "cvar", "objective"),
    [
        (1.5, 0.0, 1, 2.5, None, 2.5),
        (1.5, 1.0, 3, 3.0, 3.0, 6.0),
        (1.2, 1.0, 1, 2.2, 3.4, 5.6),
    ],
)
def test_cvar_rockafellar_uryasev(
    penalty: float, weight: float, chips: int, expected: float, cvar: float | None, objective: float
) -> None:
    """Scenarios lo (demand 1) and hi (3), p = 0.5 each, one period: the chips x (1 musd) are
    bought before demand is known. With alpha = 0.5, CVaR is the cost of the worse scenario.

    penalty 1.5: lo = x + 1.5 (1-x)+, hi = x + 1.5 (3-x)+.
      risk neutral: E = 2.25 + 0.25 x on [1, 3], 3 - 0.5 x below: x = 1, E = 2.5.
      E + CVaR: 2.25 + 0.25 x + 4.5 - 0.5 x = 6.75 - 0.25 x on [1, 3]: x = 3, E = CVaR = 3, 6.
    penalty 1.2: E + CVaR = (1.8 + 0.4 x) + (3.6 - 0.2 x) on [1, 3], 6 - 0.4 x below: x = 1,
      lo = 1, hi = 3.4, E = 2.2, CVaR = 3.4, objective 5.6.
    """
    case = make_case(
        {"lo": {"p1": 1}, "hi": {"p1": 3}}, chips=[chip(capex_usd=1e6)], penalty=penalty
    )
    result = solve(case, alpha=0.5, weight=weight)
    assert result.objective_musd == approx(objective)
    assert result.expected_cost_musd == approx(expected)
    assert bought(result, "lo") == approx({("c1", "s1", "p1"): chips})
    assert bought(result, "hi") == bought(result, "lo")
    assert unmet(result, "lo") == {}
    assert unmet(result, "hi") == approx({("w", "p1"): 3 - chips} if chips < 3 else {})
    if cvar is not None:
        assert result.cvar_musd == approx(cvar)
        assert result.results.risk.loc["cost_musd", "cvar_0.5"] == approx(cvar)


# Stranded capacity and its risk ---------------------------------------------------------------


def test_stranded_figures_and_their_risk_per_scenario_and_period() -> None:
    """lo and hi (p = 0.5) share demand 2 in p1, then need 1 and 3 in p2; chips 1 musd, 2-year life.

    Two chips bought in p1, one more in p2 for both (p2's purchase is decided before p2's demand
    is seen): cost 3 - 0.5 salvage of the p2 chip = 2.5. In p2, lo runs 1 of 3 chips: 2 idle,
    2000 idle PFLOPS of 3000; book values at p2's start 0.5, 0.5 and 1, average 2/3: stranded
    capital 4/3 musd. The site's one free 10 MW module holds them (0.5 MW each): empty shell 9 MW in
    p1, 8.5 in p2. Over scenarios at alpha 0.5: expected = half of lo's figure, worst = CVaR = lo's.
    A free take-or-pay contract (floor 0.2 x 10 MW x 1000 h = 2000 MWh a period) is paid for beyond
    what the *running* chips need (500 MWh each): 1000 MWh unused in p1, 1500 in lo's p2, 500 in hi's.
    """
    case = make_case({"lo": {"p1": 2, "p2": 1}, "hi": {"p1": 2, "p2": 3}}, P2,
                     sites=[site(max_mw=10)], chips=[chip(capex_usd=1e6, life_years=2, kw=500.0)],
                     contracts=[contract(mw=10.0, min_take=0.2)])
    result = solve(case, alpha=0.5)
    assert result.objective_musd == approx(2.5)
    by_period = result.results.stranded_by_period.set_index(["scenario", "period"])
    lo = cast(pd.Series, by_period.loc[("lo", "p2")])  # a row (pandas-stubs read a pair as row, column)
    assert (lo["idle_chips"], lo["idle_pflops"], lo["idle_pflops_share"]) == approx((2, 2000, 2 / 3))
    assert lo["installed_pflops"] == approx(3000)  # chips.pflops, not kw
    assert lo["stranded_capital_musd"] == approx(4 / 3)
    assert by_period["empty_shell_mw"].to_dict() == approx(
        {("lo", "p1"): 9, ("lo", "p2"): 8.5, ("hi", "p1"): 9, ("hi", "p2"): 8.5}
    )
    assert by_period["unused_take_or_pay_mwh"].to_dict() == approx(
        {("lo", "p1"): 1000, ("lo", "p2"): 1500, ("hi", "p1"): 1000, ("hi", "p2"): 500}
    )
    assert by_period.loc[("hi", "p2"), "idle_chips"] == 0

    risk = result.results.risk
    assert cast(pd.Series, risk.loc["idle_chips_peak", ["expected", "worst", "cvar_0.5"]]).tolist() == approx(
        [1, 2, 2]
    )
    assert risk.loc["idle_chips_peak", "worst_scenario"] == "lo"
    assert risk.loc["stranded_capital_musd_peak", "expected"] == approx(2 / 3)

    per_period = result.results.risk_by_period.set_index(["period", "metric"])
    assert cast(
        pd.Series, per_period.loc[("p2", "idle_chips"), ["expected", "worst", "cvar_0.5"]]
    ).tolist() == approx([1, 2, 2])
    assert per_period.loc[("p2", "stranded_capital_musd"), "worst_scenario"] == "lo"
    assert per_period.loc[("p1", "idle_chips"), "worst"] == 0
    assert cast(
        pd.Series, per_period.loc[("p1", "empty_shell_mw"), ["expected", "worst"]]
    ).tolist() == approx([9, 9])
    # lo and hi tie for the worst: both are named, not only the first in scenarios.csv
    assert cast(
        pd.Series, per_period.loc[("p1", "empty_shell_mw"), ["worst_scenario", "scenarios_at_worst"]]
    ).tolist() == ["lo", "all"]
    assert per_period.loc[("p2", "stranded_capital_musd"), "scenarios_at_worst"] == "lo"


def test_an_empty_shell_is_valued_at_the_average_book_value_of_the_site_s_built_mw() -> None:
    """10 MW existing (no capex, so no book value) + one 10 MW module at 1 musd/MW. 15 chips of
    1 MW fill 15 of the 20 MW: 5 MW empty, at the average book value of the built MW (10 musd over
    20 MW, 0.5 musd/MW at the period's start): 2.5 musd stranded, not 5. (Chips cost something, so
    that 15 is the only optimum: free chips made 20 equally cheap, and HiGHS 1.15 returned those.)"""
    case = make_case({"w": {"p1": 15}}, sites=[site(max_mw=20, existing_mw=10, capex_musd_per_mw=1.0,
                                                     life_years=10)], chips=[chip(capex_usd=1000.0)])
    result = solve(case)
    by_period = result.results.stranded_by_period.set_index(["scenario", "period"])
    row = cast(pd.Series, by_period.loc[("w", "p1")])
    assert (row["built_mw"], row["installed_it_mw"], row["empty_shell_mw"]) == approx((20, 15, 5))
    assert row["stranded_capital_musd"] == approx(2.5)



def test_a_shell_past_its_life_strands_no_capital() -> None:
    """A 10 MW module of 1 musd/MW and a 1-year life, built in p1; chips of 1 MW and a 1-year life
    for demand 10, 5, 5. From p2 on, 5 MW stand empty, but the shell's straight-line book value
    is used up: 0 stranded capital in p2 and p3 (not a negative value once it is past its life)."""
    case = make_case({"w": {"p1": 10, "p2": 5, "p3": 5}}, {"p1": 1.0, "p2": 1.0, "p3": 1.0},
                     sites=[site(capex_musd_per_mw=1.0, life_years=1)],
                     chips=[chip(capex_usd=1e6, life_years=1)])
    result = solve(case)
    assert result.objective_musd == approx(10 + 10 + 5 + 5)
    by_period = result.results.stranded_by_period.set_index("period")
    assert by_period["empty_shell_mw"].to_dict() == approx({"p1": 0, "p2": 5, "p3": 5})
    assert by_period["stranded_capital_musd"].to_dict() == approx({"p1": 0, "p2": 0, "p3": 0})


# Every constraint family decides a hand case ---------------------------------------------------


def _test_with(test: Callable[..., None], *args: object) -> Callable[[], None]:
    return functools.partial(test, *args)


DECIDED_BY: dict[str, Callable[[], None]] = {
    "ready_recursion": test_build_lead_time_and_module_size,
    "site_cap": test_site_cap_counts_builds_of_all_periods,
    "fleet_recursion": test_chips_retire_after_life,
    "fit_chips_in_buildings": test_chips_fit_in_buildings_by_kw,
    "running_chips": test_a_chip_runs_one_workload_at_a_time,
    "meet_demand": test_unmet_demand_when_the_penalty_is_cheap,
    "active_recursion": test_contract_lead_and_term,
    "sign_once": test_a_contract_is_signed_at_most_once,
    "firm_power": test_firm_power_with_firm_fraction_and_pue,
    "energy_balance": test_energy_balance_with_load_factor_hours_and_pue,
    "energy_cap": test_energy_capped_by_availability,
    "take_or_pay": test_take_or_pay_is_paid_when_not_needed,
    "chip_supply": test_chip_supply_limits_purchases_over_all_sites,
    "budget": test_budget_caps_capex_per_period,
    "cvar_tail": _test_with(test_cvar_rockafellar_uryasev, 1.5, 1.0, 3, 3.0, 3.0, 6.0),
}
"""Each Pyomo constraint family -> the hand case above whose answer it decides."""


def test_every_constraint_family_has_a_hand_case() -> None:
    """A model with every optional part (budget, chip supply, contracts to sign, CVaR) has exactly
    the families of ``DECIDED_BY``: a new family without a hand case fails here."""
    case = make_case(
        {"lo": {"p1": 1, "p2": 2}, "hi": {"p1": 1, "p2": 3}},
        P2,
        contracts=[contract(existing=False, min_take=0.5)],
        chip_supply={("c1", "p1"): 3},
        budget={"p1": 3.0},
    )
    model = build_model(case, cvar_weight=1.0).model
    families = {c.local_name for c in model.component_objects(pyo.Constraint)}
    assert families == set(DECIDED_BY)


@pytest.mark.parametrize("family", sorted(DECIDED_BY))
def test_each_hand_case_fails_without_its_family(family: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Mutation check: drop the family's rows from the model and its hand case must fail (a wrong
    answer, or no plan at all). Per-node bounds on ``build`` already hold one period's modules
    under ``max_mw``, so the site cap is checked on builds spread over periods."""
    original = build_model  # the function planner.plan imported, replaced there below

    def without_family(*args: Any, **kwargs: Any) -> PlanningModel:
        planning_model = original(*args, **kwargs)
        getattr(planning_model.model, family).deactivate()
        return planning_model

    monkeypatch.setattr(planner.plan, "build_model", without_family)
    with pytest.raises((AssertionError, ModelError)):
        DECIDED_BY[family]()
