"""Decision policies (phased, all-at-once, plan-on-mean), non-anticipativity and integrality.

The tree case: periods p1, p2 of 1 year; scenarios lo (demand 1, 1) and hi (2, 3), p = 0.5.
Modules of 1 MW at 1 musd, no lead time; contracts q1 (2 MW) and q2 (1 MW), capex 0.01 musd/MW;
free chips of 1 MW; penalty 100 musd per EFLOPS-year. Sites and contracts live 1 year, so no
decision has salvage value (1 - (Y - y) / 1 <= 0 for y <= 1 = Y - 1). Demand differs in p1, so
p2 investments may differ between lo and hi; p1 investments are shared.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from factory import bought, built, chip, contract, make_case, signed, site, solve, unmet

from planner.case import Case
from planner.config import Policy

P2 = {"p1": 1.0, "p2": 1.0}
POLICIES: tuple[Policy, ...] = ("phased", "all-at-once", "plan-on-mean")


def approx(value: object) -> object:
    return pytest.approx(value, rel=1e-6, abs=1e-6)


def tree_case(demand: dict | None = None, discount_rate: float = 0.0) -> Case:
    return make_case(
        demand or {"lo": {"p1": 1, "p2": 1}, "hi": {"p1": 2, "p2": 3}},
        P2,
        sites=[site(module_mw=1, capex_musd_per_mw=1.0, life_years=1)],
        contracts=[
            contract("q1", mw=2, capex_musd_per_mw=0.01, life_years=1, existing=False),
            contract("q2", mw=1, capex_musd_per_mw=0.01, life_years=1, existing=False),
        ],
        discount_rate=discount_rate,
        penalty=100.0,
    )


def test_phased_waits_for_the_high_branch() -> None:
    """p1 (shared): hi needs 2 MW at once (else 0.5 * 100 unmet): 2 modules + q1 = 2.02.
    p2: lo needs nothing more; hi builds 1 module and signs q2: 1.01 with p = 0.5.
    Expected cost 2.02 + 0.505 = 2.525 (committing q2 or a third module in p1 costs more).
    """
    result = solve(tree_case(), "phased")
    assert result.objective_musd == approx(2.525)
    assert built(result, "lo") == approx({("s1", "p1"): 2})
    assert built(result, "hi") == approx({("s1", "p1"): 2, ("s1", "p2"): 1})
    assert signed(result, "lo") == approx({("q1", "p1"): 1})
    assert signed(result, "hi") == approx({("q1", "p1"): 1, ("q2", "p2"): 1})
    assert unmet(result, "lo") == {} and unmet(result, "hi") == {}


def test_all_at_once_builds_everything_in_the_earliest_period() -> None:
    """Only p1 decisions, the same in both scenarios: hi's 3 MW in p2 needs 3 modules, q1 and
    q2 in p1 (else 0.5 * 100 unmet). Cost 3 + 0.03 = 3.03."""
    result = solve(tree_case(), "all-at-once")
    assert result.objective_musd == approx(3.03)
    for w in ("lo", "hi"):
        assert built(result, w) == approx({("s1", "p1"): 3})
        assert signed(result, w) == approx({("q1", "p1"): 1, ("q2", "p1"): 1})
        assert unmet(result, w) == {}


def test_plan_on_mean_fixes_the_mean_plan() -> None:
    """Mean demand 1.5, 2: the mean plan builds 2 modules and signs q1 in p1 (2.02); nothing in
    p2. Fixed on the tree, hi lacks 1 MW in p2 (power and building): 0.5 * 100 * 1 unmet.
    Objective 2.02 + 50 = 52.02."""
    result = solve(tree_case(), "plan-on-mean")
    assert result.stages[0]["objective_musd"] == approx(2.02)
    assert result.objective_musd == approx(52.02)
    for w in ("lo", "hi"):
        assert built(result, w) == approx({("s1", "p1"): 2})
        assert signed(result, w) == approx({("q1", "p1"): 1})
    assert unmet(result, "lo") == {}
    assert unmet(result, "hi") == approx({("w", "p2"): 1})


def test_policy_ordering_on_the_tree() -> None:
    """phased (2.525) < all-at-once (3.03) < plan-on-mean (52.02), each computed above."""
    cost = {policy: solve(tree_case(), policy).objective_musd for policy in POLICIES}
    assert cost["phased"] < cost["all-at-once"] < cost["plan-on-mean"]


@pytest.mark.parametrize(("discount_rate", "phased_cost"), [(0.0, 3.03), (0.1, 1.01 + 2.02 / 1.1)])
def test_one_scenario(discount_rate: float, phased_cost: float) -> None:
    """Demand 1 then 3, one scenario. Phased: 1 module + q2 in p1, 2 modules + q1 in p2:
    1.01 + 2.02 d[p2]. Plan-on-mean plans on that same demand and so coincides with phased.
    All-at-once pays 3.03 in p1: equal to phased at r = 0, dearer at r = 0.1 (3.03 > 2.8464).
    """
    case = tree_case({"p1": 1, "p2": 3}, discount_rate)
    cost = {policy: solve(case, policy).objective_musd for policy in POLICIES}
    assert cost["phased"] == approx(phased_cost)
    assert cost["plan-on-mean"] == approx(phased_cost)
    assert cost["all-at-once"] == approx(3.03)


def test_identical_history_shares_investments() -> None:
    """p1..p3; a: demand 1, 1, 1; b: 1, 1, 3. The histories before p3 are equal, so even p3's
    investments are shared. 1 MW modules at 1 musd + 0.1 musd/MW-year O&M; chips 0.01 musd,
    life 1 year; penalty 100.
    Build 1 in p1 (1 + O&M 0.3), 2 more in p3 for b, shared with a (2 + O&M 0.2): 3.5.
    Chips 1, 1, then 3 in p3 in both scenarios: 0.05. Objective 3.55 (with anticipation, a
    would not build or buy in p3).
    """
    case = make_case(
        {"a": {"p1": 1, "p2": 1, "p3": 1}, "b": {"p1": 1, "p2": 1, "p3": 3}},
        {"p1": 1.0, "p2": 1.0, "p3": 1.0},
        sites=[site(module_mw=1, capex_musd_per_mw=1.0, fixed_om_musd_per_mw_year=0.1,
                    life_years=1)],
        chips=[chip(capex_usd=1e4, life_years=1)],
        penalty=100.0,
    )
    result = solve(case)
    assert result.objective_musd == approx(3.55)
    assert built(result, "a") == built(result, "b") == approx({("s1", "p1"): 1, ("s1", "p3"): 2})
    expected_buys = {("c1", "s1", "p1"): 1, ("c1", "s1", "p2"): 1, ("c1", "s1", "p3"): 3}
    assert bought(result, "a") == bought(result, "b") == approx(expected_buys)
    assert unmet(result, "a") == {} and unmet(result, "b") == {}
    tree = result.planning_model.sets.info_tree
    assert all(tree.node_of[("a", t)] == tree.node_of[("b", t)] for t in range(3))


def test_branching_after_the_first_period() -> None:
    """In the tree case lo and hi share p1's node but not p2's: their p1 decisions are equal
    and their p2 decisions differ (hi builds 1 module and signs q2, lo nothing)."""
    result = solve(tree_case(), "phased")
    tree = result.planning_model.sets.info_tree
    assert tree.node_of[("lo", 0)] == tree.node_of[("hi", 0)]
    assert tree.node_of[("lo", 1)] != tree.node_of[("hi", 1)]
    first = {key: v for key, v in built(result, "hi").items() if key[1] == "p1"}
    assert built(result, "lo") == approx(first)
    assert built(result, "hi")[("s1", "p2")] == approx(1)
    assert ("q2", "p2") in signed(result, "hi") and ("q2", "p2") not in signed(result, "lo")


def test_relaxation_allows_fractional_modules_and_contracts() -> None:
    """Demand 15: 10 MW modules at 1 musd/MW and an indivisible 20 MW contract at 1 musd/MW-year.
    Integer: 2 modules + whole contract = 20 + 20 = 40. LP: 1.5 modules, 0.75 of it = 15 + 15 = 30.
    """
    case = make_case(
        {"p1": 15},
        sites=[site(capex_musd_per_mw=1.0)],
        contracts=[contract(mw=20, capacity_cost_musd_per_mw_year=1.0, existing=False)],
    )
    mip = solve(case)
    lp = solve(case, integer=False)
    assert mip.objective_musd == approx(40.0)
    assert lp.objective_musd == approx(30.0)
    assert built(mip) == approx({("s1", "p1"): 2}) and signed(mip) == approx({("q1", "p1"): 1})
    assert built(lp) == approx({("s1", "p1"): 1.5}) and signed(lp) == approx({("q1", "p1"): 0.75})


@pytest.mark.parametrize("policy", ["phased", "all-at-once"])
def test_relaxation_never_costs_more(policy: Policy) -> None:
    """The LP's feasible set contains the MIP's. (Not so for plan-on-mean: its LP fixes another,
    unrounded mean plan, which may suit the tree worse.)"""
    case = tree_case()
    lp, mip = solve(case, policy, integer=False), solve(case, policy)
    assert lp.objective_musd <= mip.objective_musd + 1e-6
    assert mip.objective_musd == approx({"phased": 2.525, "all-at-once": 3.03}[policy])


def test_the_mean_and_scenario_cases_keep_every_other_input(tiny_case_dir: Path) -> None:
    """Plan-on-mean and EVPI solve copies of the case with other demand: every other field of
    :class:`Case` is the same object (a field left out of the copy would silently vanish)."""
    import dataclasses

    from planner.loader import load_case

    case, _ = load_case(tiny_case_dir)
    for copy in (case.mean_demand_case(), case.scenario_case(case.scenarios[0])):
        for field in dataclasses.fields(case):
            if field.name not in ("demand_eflops", "scenario_probability"):
                assert getattr(copy, field.name) is getattr(case, field.name), field.name
