"""Families 5 and 6: firm power, energy balance, contract energy cap and take-or-pay."""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from planner.case import Case
from planner.formulation.chips import installed_it_mw
from planner.formulation.sets import Sets
from planner.formulation.variables import add_state_recursion, decisions_on_each_path


def active_share(m: pyo.ConcreteModel, sets: Sets, q: str, n: int) -> Any:
    """``active[q,t]``: the signed share of contract ``q`` active at info node ``n`` (0 if none)."""
    t = sets.info_tree.nodes[n].t
    if (q, t) in sets.existing_active:
        return sets.existing_active[(q, t)]
    b = sets.long_lead_node[n]
    return m.contract_active[q, b] if (q, b) in m.contract_active else 0.0  # noqa: SIM401 (a Pyomo Var)


def contracts_at(case: Case, s: str) -> list[str]:
    return [q for q, contract in case.contracts.items() if contract.site == s]


def add_contract_activity(m: pyo.ConcreteModel, case: Case, sets: Sets) -> None:
    """``active[q,t] = sum of sign[q,t']`` with ``t' + lead <= t < t' + lead + term``."""
    add_state_recursion(m, "active_recursion", m.contract_active, m.sign, sets.active, sets.long_lead_tree)


def add_sign_at_most_once(m: pyo.ConcreteModel, case: Case, sets: Sets) -> None:
    """``sum over t on every scenario path of sign[q,t] <= 1``: each contract is signed at most once
    over the horizon (a whole one, or shares adding up to at most one)."""
    signs = dict(sorted(decisions_on_each_path(m.sign, case.contracts, sets.long_lead_tree).items()))
    m.sign_once = pyo.Constraint(list(signs), rule=lambda _m, q, p: sum(signs[q, p]) <= 1)


def firm_mw(m: pyo.ConcreteModel, case: Case, sets: Sets, s: str, n: int) -> Any:
    """``sum_{q at s} mw[q] * firm_fraction[q] * active[q,t]``: firm MW active at ``s`` in node ``n``."""
    return sum(
        case.contracts[q].mw * case.contracts[q].firm_fraction * active_share(m, sets, q, n)
        for q in contracts_at(case, s)
    )


def add_firm_power(m: pyo.ConcreteModel, case: Case, sets: Sets) -> None:
    """``pue[s] * sum_c fleet[c,s,t] * kw[c] / 1000``
    ``<= sum_{q at s} mw[q] * firm_fraction[q] * active[q,t]`` (``fleet - unpowered`` when chips may
    sit unpowered)."""
    keys = sorted({(s, n) for (_c, s, n) in sets.fleet}, key=lambda k: (k[1], k[0]))

    def rule(_m: pyo.ConcreteModel, s: str, n: int) -> object:
        return case.sites[s].pue * installed_it_mw(m, case, sets, s, n) <= firm_mw(m, case, sets, s, n)

    m.firm_power = pyo.Constraint(keys, rule=rule)


def energy_needed_mwh_per_chip(case: Case, sets: Sets, s: str, c: str, t: int) -> float:
    """MWh one running chip ``c`` at ``s`` draws from the contracts during period ``t``."""
    p = case.parameters
    return case.sites[s].pue * p.load_factor * p.hours_per_year * sets.ix.years[t] * case.chips[c].kw / 1000.0


def available_mwh(case: Case, sets: Sets, q: str, t: int) -> float:
    """``mw[q] * availability[q] * hours_per_year * years[t]``: energy of the whole contract in ``t``."""
    contract = case.contracts[q]
    return contract.mw * contract.availability * case.parameters.hours_per_year * sets.ix.years[t]


def add_energy(m: pyo.ConcreteModel, case: Case, sets: Sets) -> None:
    """Energy balance, contract cap and take-or-pay, per scenario.

    ``sum_{q at s} energy[q,t]``
    ``>= pue[s] * load_factor * hours_per_year * years[t] * sum_{c,k} run * kw / 1000``
    ``energy[q,t] <= mw[q] * availability[q] * hours_per_year * years[t] * active[q,t]``
    ``energy[q,t] >= min_take[q] * mw[q] * availability[q] * hours_per_year * years[t] * active[q,t]``
    """
    runs_at: dict[tuple[str, int, str], list[tuple[str, str]]] = {}
    for c, s, k, t, w in sets.run:
        runs_at.setdefault((s, t, w), []).append((c, k))
    energy_at: dict[tuple[str, int, str], list[str]] = {}
    for q, t, w in sets.energy:
        energy_at.setdefault((case.contracts[q].site, t, w), []).append(q)

    def balance(_m: pyo.ConcreteModel, s: str, t: int, w: str) -> object:
        need = sum(
            energy_needed_mwh_per_chip(case, sets, s, c, t) * m.run[c, s, k, t, w]
            for c, k in runs_at[s, t, w]
        )
        return sum(m.energy[q, t, w] for q in energy_at.get((s, t, w), [])) >= need

    m.energy_balance = pyo.Constraint(list(runs_at), rule=balance)

    def cap(_m: pyo.ConcreteModel, q: str, t: int, w: str) -> object:
        n = sets.info_tree.node_of[(w, t)]
        return m.energy[q, t, w] <= available_mwh(case, sets, q, t) * active_share(m, sets, q, n)

    m.energy_cap = pyo.Constraint(sets.energy, rule=cap)

    take_keys = [key for key in sets.energy if case.contracts[key[0]].min_take > 0]

    def take_or_pay(_m: pyo.ConcreteModel, q: str, t: int, w: str) -> object:
        n = sets.info_tree.node_of[(w, t)]
        floor = case.contracts[q].min_take * available_mwh(case, sets, q, t)
        return m.energy[q, t, w] >= floor * active_share(m, sets, q, n)

    m.take_or_pay = pyo.Constraint(take_keys, rule=take_or_pay)
