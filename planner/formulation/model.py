"""``build_model`` reads as the formulation's table of contents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pyomo.environ as pyo
from pyomo.core.expr.visitor import identify_variables

from planner.case import Case
from planner.formulation.budget import add_budget
from planner.formulation.buildings import add_buildings
from planner.formulation.chips import (
    add_chip_supply,
    add_fit_chips_in_buildings,
    add_fleet,
    add_running_chips,
    add_unpowered_chips,
)
from planner.formulation.demand import add_meet_demand
from planner.formulation.indexing import Indexing
from planner.formulation.objective import add_node_costs, add_objective, add_scenario_costs
from planner.formulation.power import (
    add_contract_activity,
    add_energy,
    add_firm_power,
    add_sign_at_most_once,
)
from planner.formulation.sets import Policy, Sets, build_sets
from planner.formulation.variables import add_variables

FIXED_ROW_TOLERANCE = 1e-6
"""Relative slack granted to a row whose decisions are all fixed. A plan solved by HiGHS meets its
rows only to HiGHS's feasibility tolerance, and even exact shares can add up past a bound in
floating point (0.4531462178519599 + 0.2411218070935185 + 0.3057319750545223 = 1 + 9e-16, a
plan-on-mean first stage): Pyomo would call such a row infeasible."""


@dataclass(frozen=True)
class LongLeadPlan:
    """Buildings and contracts fixed in advance, the same in every scenario (plan-on-mean's
    mean-demand plan, or a plan frozen with ``--fix-plan``), and chip purchases with them
    (``--fix-chips``)."""

    build_modules: dict[tuple[str, int], float] = field(default_factory=dict)
    """(site, t) -> modules started in period t."""
    sign_share: dict[tuple[str, int], float] = field(default_factory=dict)
    """(contract, t) -> share signed in period t."""
    through_t: int | None = None
    """Fix the decisions of periods up to this index, leaving later ones to the policy; None: all."""
    chip_units: dict[tuple[str, str, int], float] | None = None
    """(chip, site, t) -> chips bought in period t, at every node of t; None: chips are not fixed."""


@dataclass
class PlanningModel:
    """A built Pyomo model with the sets and indexing needed to read its solution."""

    model: pyo.ConcreteModel
    case: Case
    sets: Sets
    integer: bool
    built_with: dict[str, Any] = field(default_factory=dict)
    """The :func:`build_model` arguments it was built with (to build it again another way)."""

    @property
    def ix(self) -> Indexing:
        return self.sets.ix

    def decision_period(self, var: pyo.Var) -> int:
        """Period index of a ``build``/``sign`` variable (indexed by a long-lead node), else 0."""
        if var.parent_component().local_name in ("build", "sign"):
            node: int = var.index()[-1]
            return self.sets.long_lead_tree.nodes[node].t
        return 0


def build_model(
    case: Case,
    policy: str = "phased",
    integer: bool = True,
    cvar_alpha: float = 0.9,
    cvar_weight: float = 0.0,
    fixed_long_lead: LongLeadPlan | None = None,
    chips_only_where_built: bool = True,
    unpowered_chips: bool = False,
) -> PlanningModel:
    """Build the model for ``policy``: ``phased`` (multi-stage recourse), ``all-at-once`` (builds
    only in ``earliest_period``, contracts only in ``first_period``, the same in all scenarios),
    or, with ``fixed_long_lead``, buildings and contracts (and chip purchases, when it has them)
    fixed to a given plan (up to its ``through_t``, the later ones decided under ``policy``). Chips
    exist only where IT MW can be built unless ``chips_only_where_built`` is False (for shadow
    prices of a MW that is not there; see :func:`build_sets`). ``unpowered_chips`` (an extension)
    lets owned chips sit out of the building and off firm power (:func:`add_unpowered_chips`)."""
    if policy not in ("phased", "all-at-once"):
        raise ValueError(f"build_model builds 'phased' or 'all-at-once' models, not {policy!r}")
    ix = Indexing(case)
    every_period_fixed = fixed_long_lead is not None and fixed_long_lead.through_t is None
    sets_policy = "fixed-long-lead" if every_period_fixed else cast(Policy, policy)  # checked above
    sets = build_sets(case, ix, sets_policy, chips_only_where_built)
    m = pyo.ConcreteModel(name=f"planner:{case.name}")
    add_variables(m, case, sets, integer)
    add_buildings(m, case, sets)
    add_fleet(m, case, sets)
    if unpowered_chips:
        add_unpowered_chips(m, case, sets)
    add_fit_chips_in_buildings(m, case, sets)
    add_running_chips(m, case, sets)
    add_meet_demand(m, case, sets)
    add_contract_activity(m, case, sets)
    add_sign_at_most_once(m, case, sets)
    add_firm_power(m, case, sets)
    add_energy(m, case, sets)
    add_chip_supply(m, case, sets)
    add_budget(m, case, sets)
    add_node_costs(m, case, sets)
    add_scenario_costs(m, case, sets)
    add_objective(m, case, sets, cvar_alpha, cvar_weight)
    if fixed_long_lead is not None:
        fix_long_lead(m, sets, fixed_long_lead)
    built_with = {
        "policy": policy,
        "integer": integer,
        "cvar_alpha": cvar_alpha,
        "cvar_weight": cvar_weight,
        "fixed_long_lead": fixed_long_lead,
        "unpowered_chips": unpowered_chips,
    }
    return PlanningModel(m, case, sets, integer, built_with)


def fix_long_lead(m: pyo.ConcreteModel, sets: Sets, plan: LongLeadPlan) -> None:
    """Fix every build and sign of the plan's periods to the plan (zero where the plan has
    nothing), at every node of that period; every chip purchase too when the plan has them."""
    nodes = sets.long_lead_tree.nodes
    through = len(sets.ix.periods) - 1 if plan.through_t is None else plan.through_t
    for s, b in m.build:
        if nodes[b].t <= through:
            # A plan from an LP run may start 0.3 modules: frozen as it is, a constant of the model.
            m.build[s, b].fix(plan.build_modules.get((s, nodes[b].t), 0.0), skip_validation=True)
    for q, b in m.sign:
        if nodes[b].t <= through:
            m.sign[q, b].fix(plan.sign_share.get((q, nodes[b].t), 0.0), skip_validation=True)
    if plan.chip_units is not None:
        _fix_chips(m, sets, plan.chip_units, through)
    drop_rows_met_by_fixed_decisions(m)


def _fix_chips(
    m: pyo.ConcreteModel, sets: Sets, chip_units: dict[tuple[str, str, int], float], through: int
) -> None:
    """Fix ``buy[c,s,n]`` at every info node ``n`` of the periods up to ``through``. A purchase with
    no variable to fix (outside the chip's window, or where its site can hold no chips) is an error
    of the caller, never dropped: the plan's fit refuses those (:mod:`planner.frozen_plan_fit`)."""
    nodes = sets.info_tree.nodes
    fixed = set()
    for c, s, n in m.buy:
        t = nodes[n].t
        if t <= through:
            m.buy[c, s, n].fix(chip_units.get((c, s, t), 0.0), skip_validation=True)
            fixed.add((c, s, t))
    lost = sorted(
        key for key, units in chip_units.items() if units > 0 and key[2] <= through and key not in fixed
    )
    if lost:
        raise ValueError(f"chip purchases to fix that the model has no variable for: {lost}")


def drop_rows_met_by_fixed_decisions(m: pyo.ConcreteModel) -> list[pyo.Constraint]:
    """Deactivate the rows left with no free decision that hold within ``FIXED_ROW_TOLERANCE``;
    return them.

    Only the site cap, "sign at most once", the budget and (with chips fixed) the chip supply can be
    left with fixed decisions alone. A row broken by more stays, so the model is reported infeasible
    with that row named.
    """
    dropped = []
    for name in ("site_cap", "sign_once", "budget", "chip_supply"):
        component = m.component(name)
        if component is None:
            continue
        for row in component.values():
            if next(identify_variables(row.body, include_fixed=False), None) is not None:
                continue
            body = pyo.value(row.body)
            lower, upper = pyo.value(row.lower), pyo.value(row.upper)
            below = lower is not None and body < lower - FIXED_ROW_TOLERANCE * max(1.0, abs(lower))
            above = upper is not None and body > upper + FIXED_ROW_TOLERANCE * max(1.0, abs(upper))
            if not (below or above) and row.active:
                row.deactivate()
                dropped.append(row)
    return dropped
