"""Family 8: the capex budget, and the capex expressions it shares with the objective."""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from planner.case import Case
from planner.formulation.sets import Sets


def buildings_capex_musd(m: pyo.ConcreteModel, case: Case, s: str, b: int) -> Any:
    """``build[s,t] * module_mw[s] * capex_musd_per_mw[s]``."""
    site = case.sites[s]
    return m.build[s, b] * (site.module_mw * site.capex_musd_per_mw)


def chips_capex_musd(m: pyo.ConcreteModel, case: Case, c: str, s: str, n: int) -> Any:
    """``buy[c,s,t] * capex_usd[c] / 1e6``."""
    return m.buy[c, s, n] * (case.chips[c].capex_usd / 1e6)


def power_capex_musd(m: pyo.ConcreteModel, case: Case, q: str, b: int) -> Any:
    """``sign[q,t] * mw[q] * capex_musd_per_mw[q]``."""
    contract = case.contracts[q]
    return m.sign[q, b] * (contract.mw * contract.capex_musd_per_mw)


def node_buildings_capex_musd(m: pyo.ConcreteModel, case: Case, sets: Sets, n: int) -> Any:
    """Undiscounted buildings capex paid at info node ``n``."""
    b = sets.long_lead_node[n]
    return sum(buildings_capex_musd(m, case, s, b) for s in case.sites if (s, b) in m.build)


def node_chips_capex_musd(m: pyo.ConcreteModel, case: Case, sets: Sets, n: int) -> Any:
    """Undiscounted chips capex paid at info node ``n``."""
    return sum(
        chips_capex_musd(m, case, c, s, n) for c in case.chips for s in case.sites if (c, s, n) in m.buy
    )


def node_power_capex_musd(m: pyo.ConcreteModel, case: Case, sets: Sets, n: int) -> Any:
    """Undiscounted power-contract capex paid at info node ``n``."""
    b = sets.long_lead_node[n]
    return sum(power_capex_musd(m, case, q, b) for q in case.contracts if (q, b) in m.sign)


NODE_CAPEX = {
    "buildings_capex": node_buildings_capex_musd,
    "chips_capex": node_chips_capex_musd,
    "power_capex": node_power_capex_musd,
}
"""Item A of the objective, by kind: undiscounted capex paid at an info node."""


def add_budget(m: pyo.ConcreteModel, case: Case, sets: Sets) -> None:
    """``capex paid in t (undiscounted) <= capex_limit_musd[t]`` where budget.csv gives a limit."""
    periods = sets.ix.periods
    keys = [n.id for n in sets.info_tree.nodes if periods[n.t] in case.budget_musd]

    def rule(_m: pyo.ConcreteModel, n: int) -> object:
        capex = sum(node_capex(m, case, sets, n) for node_capex in NODE_CAPEX.values())
        limit = case.budget_musd[periods[sets.info_tree.nodes[n].t]]
        if isinstance(capex, (int, float)):
            return pyo.Constraint.Skip
        return capex <= limit

    m.budget = pyo.Constraint(keys, rule=rule)
