"""The state recursions (ready modules, fleet, active contracts, one variable per tree node) carry
exactly the vintage sums the contract writes out, on random cases: the compact formulation has
the contract's optimum because every state equals its defining sum in every solution."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from test_properties import PROPERTY, cases

from planner.case import Case
from planner.config import ModelConfig
from planner.formulation.indexing import Indexing
from planner.plan import solve_case


def _value(var: Any) -> float:  # a Pyomo variable
    return float(var.value or 0.0)


@PROPERTY
@given(cases(max_scenarios=3))
def test_states_equal_the_contracts_vintage_sums(case: Case) -> None:
    """fleet[c,s,t] = sum of buy[c,s,t'] with t' <= t and y[t]-y[t'] < life; built[s,t] counts the
    modules with t' + lead <= t; active[q,t] the signings with t'+lead <= t < t'+lead+term —
    evaluated per scenario along its path, directly from the contract's definitions."""
    result = solve_case(case, ModelConfig(name="phased"))
    pm = result.planning_model
    m, sets = pm.model, pm.sets
    ix = Indexing(case)
    y = ix.start_year
    for w in case.scenarios:
        path = [sets.info_tree.node_of[(w, t)] for t in range(len(ix.periods))]
        long_path = [sets.long_lead_node[n] for n in path]
        for t, n in enumerate(path):
            for c, chip in case.chips.items():
                for s in case.sites:
                    direct = sum(
                        _value(m.buy[c, s, path[tp]])
                        for tp in range(t + 1)
                        if (c, s, path[tp]) in m.buy and y[t] - y[tp] < chip.life_years
                    )
                    state = _value(m.fleet[c, s, n]) if (c, s, n) in m.fleet else 0.0
                    assert state == pytest.approx(direct, abs=1e-6)
            for s, site in case.sites.items():
                direct = sum(
                    _value(m.build[s, long_path[tp]])
                    for tp in range(t + 1)
                    if (s, long_path[tp]) in m.build and tp + site.lead_periods <= t
                )
                b = long_path[t]
                state = _value(m.ready_modules[s, b]) if (s, b) in m.ready_modules else 0.0
                assert state == pytest.approx(direct, abs=1e-6)
            for q, contract in case.contracts.items():
                if contract.existing:
                    continue
                term = contract.term_periods or len(ix.periods)
                direct = sum(
                    _value(m.sign[q, long_path[tp]])
                    for tp in range(t + 1)
                    if (q, long_path[tp]) in m.sign
                    and tp + contract.lead_periods <= t < tp + contract.lead_periods + term
                )
                b = long_path[t]
                state = _value(m.contract_active[q, b]) if (q, b) in m.contract_active else 0.0
                assert state == pytest.approx(direct, abs=1e-6)


def test_no_chip_is_bought_where_no_it_mw_is_built_yet() -> None:
    """Site s2 has no existing MW and a 2-period building lead: no buy, fleet or run exists there
    before p3 (the fit row would hold them at 0; they doubled the flagship's columns). s1, with
    existing MW, can hold chips from p1."""
    from factory import chip, make_case, site

    from planner.formulation import build_model

    periods = {"p1": 1.0, "p2": 1.0, "p3": 1.0, "p4": 1.0}
    case = make_case(
        {t: 1.0 for t in periods},
        periods,
        sites=[site("s1", existing_mw=10.0), site("s2", lead_periods=2)],
        chips=[chip("c1")],
    )
    m = build_model(case).model
    assert sorted(t for c, s, t in m.buy if s == "s2") == [2, 3]
    assert sorted(t for c, s, t in m.buy if s == "s1") == [0, 1, 2, 3]
    assert sorted(t for c, s, t in m.fleet if s == "s2") == [2, 3]
    assert all(t >= 2 for c, s, k, t, w in m.run if s == "s2")
