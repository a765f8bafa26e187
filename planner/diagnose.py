"""Explain in words why a model has no plan: which constraint family, site, period, scenario.

An infeasible model is relaxed to its LP and HiGHS computes an irreducible infeasible subset
(IIS); each of its rows is named after the constraint family and the index it belongs to.
"""

from __future__ import annotations

import highspy

from planner.formulation import PlanningModel
from planner.highs_factory import new_highs
from planner.solve import SolveOutcome, compile_model

FAMILY_WORDS = {
    "site_cap": "site cap (existing_mw + modules built <= max_mw)",
    "fit_chips_in_buildings": "chips must fit in built IT MW",
    "firm_power": "firm power must cover PUE x installed IT load",
    "running_chips": "running chips <= installed fleet",
    "meet_demand": "demand met or counted unmet",
    "energy_balance": "energy bought covers running chips",
    "energy_cap": "energy taken <= contract availability",
    "take_or_pay": "take-or-pay minimum energy",
    "chip_supply": "chip supply limit",
    "budget": "capex budget",
    "sign_once": "a contract is signed at most once",
    "ready_recursion": "modules ready (lead time)",
    "fleet_recursion": "chip fleet (purchases in service)",
    "active_recursion": "active contracts (lead and term)",
    "cvar_tail": "CVaR tail",
    "build": "bounds of modules started (at most what fits under max_mw)",
    "sign": "bounds of a contract signing (0 to 1)",
    "buy": "chips bought must be >= 0",
}


def describe_row(pm: PlanningModel, family: str, index: tuple) -> str:
    """``budget`` at node 3 -> ``capex budget: period 2027, scenarios low+mid``."""
    sets, periods = pm.sets, pm.ix.periods
    words = FAMILY_WORDS.get(family, family)
    parts = []
    tree = (
        sets.long_lead_tree
        if family in ("ready_recursion", "active_recursion", "site_cap", "sign_once", "build", "sign")
        else sets.info_tree
    )
    for position, item in enumerate(index):
        if isinstance(item, str):
            parts.append(item)
        elif family in ("site_cap", "sign_once") and position == len(index) - 1:
            leaf = tree.nodes[tree.leaf_paths()[item][-1]]
            parts.append(f"scenarios {'+'.join(leaf.scenarios)}")
        elif isinstance(item, int) and position == len(index) - 1 and family not in ("site_cap", "sign_once"):
            node = tree.nodes[item]
            parts.append(f"period {periods[node.t]} ({'+'.join(node.scenarios)})")
        elif isinstance(item, int) and family in (
            "energy_balance",
            "energy_cap",
            "take_or_pay",
            "meet_demand",
            "running_chips",
        ):
            parts.append(f"period {periods[item]}")
        else:
            parts.append(str(item))
    return f"{words}: {', '.join(parts)}" if parts else words


def explain_failure(pm: PlanningModel, outcome: SolveOutcome) -> str:
    """A paragraph a planner can act on."""
    head = f"HiGHS found no plan: status {outcome.status}."
    if outcome.status in ("infeasible", "infeasible_or_unbounded"):
        rows = infeasible_rows(pm)
        if rows:
            listed = "\n".join(f"  - {describe_row(pm, family, index)}" for family, index in rows[:12])
            more = f"\n  ... and {len(rows) - 12} more" if len(rows) > 12 else ""
            return (
                f"{head} These constraints cannot all hold together "
                f"(an irreducible infeasible set):\n{listed}{more}"
            )
        return f"{head} HiGHS could not isolate the conflicting constraints."
    if outcome.status == "unbounded":
        return (
            f"{head} Some cost can decrease without limit; check for negative prices or salvage "
            "larger than capex."
        )
    if outcome.status in ("time_limit", "iteration_limit"):
        return f"{head} It stopped ({outcome.status}) before finding any feasible plan; allow more time."
    return head


def explain_trivially_infeasible(pm: PlanningModel, constraint_name: str) -> str:
    """A row whose variables are all fixed (e.g. a fixed plan) and that cannot hold."""
    component = pm.model.find_component(constraint_name)
    if component is None:
        return f"HiGHS was not called: constraint {constraint_name} cannot hold with the fixed decisions."
    index = component.index()
    key = index if isinstance(index, tuple) else (index,)
    family = component.parent_component().local_name
    return (
        "HiGHS was not called: with the decisions fixed, this constraint cannot hold:\n"
        f"  - {describe_row(pm, family, key)}"
    )


def infeasible_rows(pm: PlanningModel) -> list[tuple[str, tuple]]:
    """The constraint rows of an IIS of the model's LP relaxation, as (family, index)."""
    compiled = compile_model(pm.model)
    repn, lp = compiled.repn, compiled.lp
    lp.integrality_ = []
    highs = new_highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    status, iis = highs.getIis()
    if status == highspy.HighsStatus.kError or not iis.valid_:
        return []
    found = []
    components = [repn.rows[row][0] for row in iis.row_index_]
    components += [repn.columns[col] for col in iis.col_index_]
    for component in components:
        index = component.index()
        key = () if index is None else index if isinstance(index, tuple) else (index,)
        found.append((component.parent_component().local_name, key))
    return found
