"""Decision and state variables over the sparse sets, and the state recursions that carry them.

State variables (ready modules, chip fleet, active contract share) are defined by a recursion
along the tree instead of long vintage sums repeated in many rows:
``state[n] = state[parent(n)] + (decisions that become alive at n) - (decisions that expire at n)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyomo.environ as pyo

from planner.case import Case
from planner.formulation.indexing import Tree
from planner.formulation.sets import Sets

Index = tuple[Any, ...]
"""The index of a Pyomo variable or constraint: its set members in order (str ids, int periods and
nodes). Pyomo has no types: values read from a model are keyed by ``tuple[Any, ...]``."""

SOLVER_UNITS: dict[str, float] = {"buy": 1e3, "fleet": 1e3, "unpowered": 1e3, "run": 1e3, "energy": 1e3}
"""Units HiGHS gets the large continuous families in: thousands of chips, GWh instead of MWh
(see :mod:`planner.scaling`; the model and every table stay in the spec's units)."""


def add_variables(m: pyo.ConcreteModel, case: Case, sets: Sets, integer: bool) -> None:
    """build, buy, sign (decisions); ready_modules, fleet, active (states); run, energy, unmet."""

    def build_bounds(_m: pyo.ConcreteModel, s: str, _b: int) -> tuple[float, float]:
        site = case.sites[s]
        return (0.0, site.whole_modules_that_fit() if integer else site.modules_that_fit())

    m.build = pyo.Var(
        sets.build,
        domain=pyo.NonNegativeIntegers if integer else pyo.NonNegativeReals,
        bounds=build_bounds,
    )
    m.buy = pyo.Var(sets.buy, domain=pyo.NonNegativeReals)

    def sign_domain(_m: pyo.ConcreteModel, q: str, _b: int) -> pyo.Set:
        return pyo.Binary if integer and not case.contracts[q].divisible else pyo.UnitInterval

    m.sign = pyo.Var(sets.sign, domain=sign_domain)

    m.ready_modules = pyo.Var(list(sets.ready), domain=pyo.NonNegativeReals)
    m.fleet = pyo.Var(list(sets.fleet), domain=pyo.NonNegativeReals)
    m.contract_active = pyo.Var(list(sets.active), domain=pyo.NonNegativeReals)

    m.run = pyo.Var(sets.run, domain=pyo.NonNegativeReals)
    m.energy = pyo.Var(sets.energy, domain=pyo.NonNegativeReals)
    unmet_keys = [
        (k, t, w) for w in case.scenarios for t in range(len(sets.ix.periods)) for k in case.workloads
    ]
    m.unmet = pyo.Var(unmet_keys, domain=pyo.NonNegativeReals)


def decisions_on_each_path(
    decision: pyo.Var, keys: Iterable[str], tree: Tree
) -> dict[tuple[str, int], list[pyo.Var]]:
    """``(key, p) -> [decision[key, b] for the nodes b on scenario path p]``, leaving out the keys
    and paths with no decision: the terms of a row that holds on every path (the site cap, "sign
    at most once")."""
    paths = tree.leaf_paths()
    rows = {
        (key, p): [decision[key, b] for b in path if (key, b) in decision]
        for key in keys
        for p, path in enumerate(paths)
    }
    return {index: terms for index, terms in rows.items() if terms}


def add_state_recursion(
    m: pyo.ConcreteModel,
    name: str,
    state: pyo.Var,
    decision: pyo.Var,
    alive: dict[Index, list[int]],
    tree: Tree,
) -> None:
    """``state[key, n] = state[key, parent] + sum(new vintages) - sum(expired vintages)``.

    State and decision share their key shape: ``(site, node)``, ``(chip, site, node)``,
    ``(contract, node)``.
    """

    def rule(_m: pyo.ConcreteModel, *index: Any) -> object:
        *head, n = index
        key = tuple(head)
        living = alive[(*key, n)]
        parent = tree.nodes[n].parent
        before = alive.get((*key, parent), []) if parent is not None else []
        born = [a for a in living if a not in before]
        expired = [a for a in before if a not in living]
        carried = state[(*key, parent)] if before else 0.0
        return state[index] == carried + sum(decision[(*key, a)] for a in born) - sum(
            decision[(*key, a)] for a in expired
        )

    setattr(m, name, pyo.Constraint(list(alive), rule=rule))
