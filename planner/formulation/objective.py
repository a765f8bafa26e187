"""The objective: expected discounted cost, minus salvage, plus an optional CVaR term.

Cost terms are named Pyomo expressions, one per (component, tree node) for investment-driven
terms and one per (component, scenario) for operations, so the reported cost breakdown is the
objective itself evaluated term by term, not a second implementation of it.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from planner.case import Case
from planner.formulation.budget import (
    NODE_CAPEX,
    buildings_capex_musd,
    chips_capex_musd,
    power_capex_musd,
)
from planner.formulation.buildings import built_mw
from planner.formulation.power import active_share
from planner.formulation.sets import Sets

NODE_COMPONENTS = (
    "buildings_capex",
    "chips_capex",
    "power_capex",
    "site_om",
    "chip_om",
    "capacity_charge",
    "salvage",
)
SCENARIO_COMPONENTS = ("energy", "unmet_demand")
COST_COMPONENTS = NODE_COMPONENTS + SCENARIO_COMPONENTS
"""Every component is a positive amount in musd; ``salvage`` is a credit and is subtracted."""


MONEY_ROWS = ("cvar_tail", "budget")
"""Constraint families whose coefficients are money (a cost or a capex): a term HiGHS drops there
is worth its coefficient times a decision that a cost already keeps in bounds, not a physical
relation a decision can grow through (see :mod:`planner.magnitudes`)."""


def add_node_costs(m: pyo.ConcreteModel, case: Case, sets: Sets) -> None:
    """Items A, B (investment part) and D at each tree node, discounted to year 0.

    A: ``d[t] * (capex of build, buy, sign)``;
    B: ``d[t] * years[t] * (fixed_om * built + opex_usd_per_year * fleet / 1e6``
    ``+ capacity_cost * mw * active)``;
    D: ``(1 + r)^(-Y) * capex * max(0, 1 - (Y - y[t]) / life_years)``.
    """
    ix = sets.ix
    annual = {
        "site_om": _site_om_musd_per_year,
        "chip_om": _chip_om_musd_per_year,
        "capacity_charge": _capacity_charge_musd_per_year,
    }

    def rule(_m: pyo.ConcreteModel, component: str, n: int) -> object:
        t = sets.info_tree.nodes[n].t
        if component in NODE_CAPEX:
            return ix.discount[t] * NODE_CAPEX[component](m, case, sets, n)
        if component in annual:
            return ix.annual_weight[t] * annual[component](m, case, sets, n)
        if component == "salvage":
            return ix.end_discount * _salvage_musd(m, case, sets, n)
        raise ValueError(f"cost component {component!r} has no expression")  # a new name, not yet written

    m.node_cost = pyo.Expression(NODE_COMPONENTS, [n.id for n in sets.info_tree.nodes], rule=rule)


def _site_om_musd_per_year(m: pyo.ConcreteModel, case: Case, sets: Sets, n: int) -> Any:
    """``fixed_om_musd_per_mw_year * built[s,t]`` over the sites."""
    b = sets.long_lead_node[n]
    return sum(site.fixed_om_musd_per_mw_year * built_mw(m, case, s, b) for s, site in case.sites.items())


def _chip_om_musd_per_year(m: pyo.ConcreteModel, case: Case, sets: Sets, n: int) -> Any:
    """``opex_usd_per_year * fleet / 1e6`` over the chips and sites."""
    return sum(
        m.fleet[c, s, n] * (case.chips[c].opex_usd_per_year / 1e6)
        for c in case.chips
        for s in case.sites
        if (c, s, n) in m.fleet
    )


def _capacity_charge_musd_per_year(m: pyo.ConcreteModel, case: Case, sets: Sets, n: int) -> Any:
    """``capacity_cost_musd_per_mw_year * mw * active`` over the contracts."""
    return sum(
        q_row.capacity_cost_musd_per_mw_year * q_row.mw * active_share(m, sets, q, n)
        for q, q_row in case.contracts.items()
    )


def _salvage_musd(m: pyo.ConcreteModel, case: Case, sets: Sets, n: int) -> Any:
    ix = sets.ix
    t = sets.info_tree.nodes[n].t
    b = sets.long_lead_node[n]
    terms = [
        buildings_capex_musd(m, case, s, b) * ix.remaining_value_share(t, site.life_years)
        for s, site in case.sites.items()
        if (s, b) in m.build
    ]
    terms += [
        chips_capex_musd(m, case, c, s, n) * ix.remaining_value_share(t, chip.life_years)
        for c, chip in case.chips.items()
        for s in case.sites
        if (c, s, n) in m.buy
    ]
    terms += [
        power_capex_musd(m, case, q, b) * ix.remaining_value_share(t, contract.life_years)
        for q, contract in case.contracts.items()
        if (q, b) in m.sign
    ]
    return sum(terms)


def add_scenario_costs(m: pyo.ConcreteModel, case: Case, sets: Sets) -> None:
    """Operations per scenario: C ``d[t] * price_usd_per_mwh * energy / 1e6`` and the unmet
    part of B ``d[t] * years[t] * unmet_penalty * unmet``."""
    ix = sets.ix
    energy_by_w: dict[str, list[tuple[str, int]]] = {w: [] for w in case.scenarios}
    for q, t, w in sets.energy:
        energy_by_w[w].append((q, t))
    penalty = case.parameters.unmet_penalty_musd_per_eflops_year

    def rule(_m: pyo.ConcreteModel, component: str, w: str) -> object:
        if component == "energy":
            return sum(
                m.energy[q, t, w] * (ix.discount[t] * case.contracts[q].price_usd_per_mwh / 1e6)
                for q, t in energy_by_w[w]
            )
        return sum(
            m.unmet[k, t, w] * (ix.annual_weight[t] * penalty)
            for t in range(len(ix.periods))
            for k in case.workloads
        )

    m.scenario_cost = pyo.Expression(SCENARIO_COMPONENTS, list(case.scenarios), rule=rule)


def signed(component: str) -> float:
    return -1.0 if component == "salvage" else 1.0


def scenario_total_cost(m: pyo.ConcreteModel, case: Case, sets: Sets, w: str) -> Any:
    """``cost[w]``: every node cost on the scenario's path plus its operations."""
    path = [sets.info_tree.node_of[(w, t)] for t in range(len(sets.ix.periods))]
    return sum(signed(comp) * m.node_cost[comp, n] for comp in NODE_COMPONENTS for n in path) + sum(
        m.scenario_cost[comp, w] for comp in SCENARIO_COMPONENTS
    )


def add_objective(
    m: pyo.ConcreteModel, case: Case, sets: Sets, cvar_alpha: float, cvar_weight: float
) -> None:
    """``min sum_w p[w] * cost[w] + weight * CVaR_alpha(cost)`` (Rockafellar-Uryasev).

    ``CVaR = eta + 1 / (1 - alpha) * sum_w p[w] * excess[w]``, ``excess[w] >= cost[w] - eta``.
    """
    p = case.scenario_probability
    expected = sum(
        node.probability * signed(comp) * m.node_cost[comp, node.id]
        for node in sets.info_tree.nodes
        for comp in NODE_COMPONENTS
    ) + sum(p[w] * m.scenario_cost[comp, w] for w in case.scenarios for comp in SCENARIO_COMPONENTS)
    m.expected_cost = pyo.Expression(expr=expected)
    if cvar_weight > 0:
        m.cvar_eta = pyo.Var(domain=pyo.Reals)
        m.cvar_excess = pyo.Var(list(case.scenarios), domain=pyo.NonNegativeReals)
        m.cvar_tail = pyo.Constraint(
            list(case.scenarios),
            rule=lambda _m, w: m.cvar_excess[w] >= scenario_total_cost(m, case, sets, w) - m.cvar_eta,
        )
        m.cvar = pyo.Expression(
            expr=m.cvar_eta + sum(p[w] * m.cvar_excess[w] for w in case.scenarios) / (1.0 - cvar_alpha)
        )
        m.objective = pyo.Objective(expr=m.expected_cost + cvar_weight * m.cvar, sense=pyo.minimize)
    else:
        m.objective = pyo.Objective(expr=m.expected_cost, sense=pyo.minimize)
