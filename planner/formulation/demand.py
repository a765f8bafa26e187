"""Family 4: demand is met by running chips or counted as unmet."""

from __future__ import annotations

import pyomo.environ as pyo

from planner.case import Case
from planner.formulation.sets import Sets


def add_meet_demand(m: pyo.ConcreteModel, case: Case, sets: Sets) -> None:
    """``sum_{c,s} run[c,s,k,t] * pflops[c,k] / 1000 + unmet[k,t] >= demand[k,t]`` per scenario."""
    served: dict[tuple[str, int, str], list[tuple[str, str]]] = {}
    for c, s, k, t, w in sets.run:
        served.setdefault((k, t, w), []).append((c, s))
    periods = sets.ix.periods

    def rule(_m: pyo.ConcreteModel, k: str, t: int, w: str) -> object:
        compute = sum(
            m.run[c, s, k, t, w] * (case.pflops(c, k) / 1000.0) for c, s in served.get((k, t, w), [])
        )
        return compute + m.unmet[k, t, w] >= case.demand_eflops[(w, periods[t], k)]

    m.meet_demand = pyo.Constraint(list(m.unmet), rule=rule)
