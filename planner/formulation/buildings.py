"""Family 1: built IT power and the site cap."""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from planner.case import Case
from planner.formulation.sets import Sets
from planner.formulation.variables import add_state_recursion, decisions_on_each_path


def built_mw(m: pyo.ConcreteModel, case: Case, s: str, b: int) -> Any:
    """``built[s,t] = existing_mw[s] + module_mw[s] * (modules ready by t)``, in IT MW."""
    site = case.sites[s]
    if (s, b) in m.ready_modules:
        return site.existing_mw + site.module_mw * m.ready_modules[s, b]
    return site.existing_mw


def add_buildings(m: pyo.ConcreteModel, case: Case, sets: Sets) -> None:
    """Modules ready and the site cap.

    ``ready_modules[s,n] = sum of build[s,n'] over ancestors n' with t(n') + lead_periods[s] <= t(n)``
    ``existing_mw[s] + module_mw[s] * sum_t build[s,t] <= max_mw[s]`` on every scenario path.
    Builds before ``earliest_period[s]`` do not exist (sparse set).
    """
    add_state_recursion(m, "ready_recursion", m.ready_modules, m.build, sets.ready, sets.long_lead_tree)
    rows = decisions_on_each_path(m.build, case.sites, sets.long_lead_tree)

    def site_cap(_m: pyo.ConcreteModel, s: str, p: int) -> object:
        site = case.sites[s]
        return site.existing_mw + site.module_mw * sum(rows[s, p]) <= site.max_mw

    m.site_cap = pyo.Constraint(list(rows), rule=site_cap)
