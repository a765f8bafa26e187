"""Families 2, 3 and 7: chip fleet, chips fit in buildings, running chips, chip supply."""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from planner.case import Case
from planner.formulation.buildings import built_mw
from planner.formulation.sets import Sets, first_period_with_room
from planner.formulation.variables import add_state_recursion


def installed_chips(m: pyo.ConcreteModel, c: str, s: str, n: int) -> Any:
    """``fleet[c,s,t]``, less ``unpowered[c,s,t]`` when the model lets chips sit unpowered there: the
    chips of type ``c`` installed (in the building, on firm power) at ``s`` in node ``n``."""
    unpowered = m.component("unpowered")
    if unpowered is None or (c, s, n) not in unpowered:
        return m.fleet[c, s, n]
    return m.fleet[c, s, n] - unpowered[c, s, n]


def installed_it_mw(m: pyo.ConcreteModel, case: Case, sets: Sets, s: str, n: int) -> Any:
    """``sum_c fleet[c,s,t] * kw[c] / 1000`` (``fleet - unpowered`` when chips may sit unpowered):
    IT MW of the chips installed at ``s`` in node ``n``."""
    return sum(
        installed_chips(m, c, s, n) * (chip.kw / 1000.0)
        for c, chip in case.chips.items()
        if (c, s, n) in sets.fleet
    )


def add_fleet(m: pyo.ConcreteModel, case: Case, sets: Sets) -> None:
    """``fleet[c,s,t] = sum of buy[c,s,t']`` with ``t' <= t`` and ``y[t] - y[t'] < life_years[c]``."""
    add_state_recursion(m, "fleet_recursion", m.fleet, m.buy, sets.fleet, sets.info_tree)


def add_fit_chips_in_buildings(m: pyo.ConcreteModel, case: Case, sets: Sets) -> None:
    """``sum_c fleet[c,s,t] * kw[c] / 1000 <= built[s,t]`` (``fleet - unpowered`` when chips may
    sit unpowered) at every site and tree node."""
    keys = sorted({(s, n) for (_c, s, n) in sets.fleet}, key=lambda k: (k[1], k[0]))

    def rule(_m: pyo.ConcreteModel, s: str, n: int) -> object:
        return installed_it_mw(m, case, sets, s, n) <= built_mw(m, case, s, sets.long_lead_node[n])

    m.fit_chips_in_buildings = pyo.Constraint(keys, rule=rule)


def add_unpowered_chips(m: pyo.ConcreteModel, case: Case, sets: Sets) -> None:
    """Extension (``unpowered_chips = true``): ``0 <= unpowered[c,s,t] <= fleet[c,s,t]``, chips owned
    at ``s`` but kept out of its building and off firm power; rows 2, 3 and 5 count
    ``fleet - unpowered``. They still pay chip O&M and age (``fleet`` does).

    Row 3 (``sum_k run <= fleet - unpowered``) already bounds ``unpowered`` by ``fleet`` where it
    exists; a chip that runs no workload (``chip_performance.csv`` pflops 0 for every workload) has
    no row 3, so ``unpowered_within_fleet`` says it there: else ``fleet - unpowered < 0`` would free
    building and firm power for other chips.

    Only from the site's first period with room (:func:`first_period_with_room`), where v1 lets
    chips be bought: the model built for shadow prices keeps a fleet also before (held at 0 by
    rows 2 and 5), and chips unpowered there would be bought early and stocked, a plan the model
    solved without it cannot make."""
    first_room = {s: first_period_with_room(site, sets.ix.periods) for s, site in case.sites.items()}
    nodes = sets.info_tree.nodes
    unpowered = [(c, s, n) for c, s, n in sets.fleet if nodes[n].t >= first_room[s]]
    m.unpowered = pyo.Var(unpowered, domain=pyo.NonNegativeReals)
    with_row_3 = {(c, s, sets.info_tree.node_of[(w, t)]) for c, s, _k, t, w in sets.run}
    keys = [key for key in unpowered if key not in with_row_3]
    m.unpowered_within_fleet = pyo.Constraint(
        keys, rule=lambda _m, c, s, n: m.unpowered[c, s, n] <= m.fleet[c, s, n]
    )


def add_running_chips(m: pyo.ConcreteModel, case: Case, sets: Sets) -> None:
    """``sum_k run[c,s,k,t] <= fleet[c,s,t]`` (``- unpowered[c,s,t]``) per scenario."""
    runs: dict[tuple[str, str, int, str], list[str]] = {}
    for c, s, k, t, w in sets.run:
        runs.setdefault((c, s, t, w), []).append(k)

    def rule(_m: pyo.ConcreteModel, c: str, s: str, t: int, w: str) -> object:
        n = sets.info_tree.node_of[(w, t)]
        return sum(m.run[c, s, k, t, w] for k in runs[c, s, t, w]) <= installed_chips(m, c, s, n)

    m.running_chips = pyo.Constraint(list(runs), rule=rule)


def add_chip_supply(m: pyo.ConcreteModel, case: Case, sets: Sets) -> None:
    """``sum_s buy[c,s,t] <= max_units[c,t]`` where chip_supply.csv gives a limit."""
    periods = sets.ix.periods
    keys = [
        (c, n.id)
        for c in case.chips
        for n in sets.info_tree.nodes
        if (c, periods[n.t]) in case.chip_supply_units and any((c, s, n.id) in m.buy for s in case.sites)
    ]

    def rule(_m: pyo.ConcreteModel, c: str, n: int) -> object:
        limit = case.chip_supply_units[(c, periods[sets.info_tree.nodes[n].t])]
        return sum(m.buy[c, s, n] for s in case.sites if (c, s, n) in m.buy) <= limit

    m.chip_supply = pyo.Constraint(keys, rule=rule)
