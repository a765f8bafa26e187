"""Shadow prices in a planner's units, from the LP (or the MIP with its integer decisions fixed).

Duals of the model are derivatives of the expected discounted objective. They are converted to
money of the period itself per unit-year: divided by the discount factor ``d[t]`` and the period
length ``years[t]``. Per-node and per-scenario duals already carry their probability, so their sum
over the period's nodes / scenarios is the expected marginal value.

- ``demand_marginal``: $M per extra EFLOPS-year of demand, by period and workload
  (dual of ``meet_demand``; also per scenario, conditional on the scenario).
- ``site_mw_value``: $M per extra MW-year of built IT capacity at a site and period
  (dual of ``fit_chips_in_buildings``, sign flipped: what one more MW of shell would save).
- ``firm_mw_value``: $M per extra MW-year of firm power at a site and period (dual of
  ``firm_power``, sign flipped: what one more MW of firm power would save).
"""

from __future__ import annotations

import pandas as pd
import pyomo.environ as pyo
from rich.console import Console
from rich.table import Table

from planner.errors import ModelError
from planner.formulation.buildings import built_mw
from planner.formulation.model import build_model, drop_rows_met_by_fixed_decisions
from planner.formulation.power import firm_mw
from planner.formulation.variables import Index
from planner.markup import literal
from planner.plan import PlanResult, numbers_named_in_inputs, stop_if_interrupted
from planner.report import empty_table
from planner.runfolder import RunFolder
from planner.solve import solve_model

EQUIPPED_MW = 1e-6
"""IT MW or firm MW above this count as there (solver round-off below)."""


def shadow_prices(result: PlanResult) -> dict[str, pd.DataFrame]:
    """The duals of the plan's LP, in a planner's units: those of the solve itself when it was an
    LP solved with duals, else of a re-solve with the integers fixed at the plan."""
    pm = result.planning_model
    duals = result.outcome.row_duals or _duals_with_integers_fixed(result)
    ix, sets, case = pm.ix, pm.sets, pm.case
    period_money = [d * years for d, years in zip(ix.discount, ix.years, strict=True)]

    demand_rows = []
    by_scenario: dict[tuple[str, str], dict[str, float]] = {}
    for (k, t, w), dual in duals.get("meet_demand", {}).items():
        value = dual / period_money[t]
        key = (ix.periods[t], k)
        by_scenario.setdefault(key, {})[w] = value / case.scenario_probability[w]
    for (period, k), per_w in by_scenario.items():
        t = ix.periods.index(period)
        expected = sum(case.scenario_probability[w] * v for w, v in per_w.items())
        demand_rows.append(
            {
                "period": period,
                "workload": k,
                "expected_musd_per_eflops_year": expected,
                **{f"scenario_{w}": v for w, v in per_w.items()},
                "_t": t,
            }
        )
    demand = pd.DataFrame(demand_rows)
    if not demand.empty:
        demand = demand.sort_values(["_t", "workload"]).drop(columns="_t").reset_index(drop=True)

    equipped = _shell_and_firm_power(result)

    def per_site(family: str, column: str) -> pd.DataFrame:
        """One row per site and period. A (site, period) without a row in the model (no chip can be
        installed there yet) is worth 0: one more MW there changes nothing. ``unequipped`` marks
        where the plan has neither IT MW nor firm power there in any scenario: both rows bind at
        0, their duals share the value of a MW of shell with its firm power, and one more MW of
        either alone may save nothing."""
        totals = {(s, t): 0.0 for s in case.sites for t in range(len(ix.periods))}
        for (s, n), dual in duals.get(family, {}).items():
            t = sets.info_tree.nodes[n].t
            totals[s, t] -= dual / period_money[t]
        rows = [
            {"site": s, "period": ix.periods[t], column: v, "unequipped": (s, t) not in equipped}
            for (s, t), v in totals.items()
        ]
        return pd.DataFrame(rows, columns=["site", "period", column, "unequipped"])

    return {
        "demand_marginal": demand,
        "site_mw_value": per_site("fit_chips_in_buildings", "musd_per_mw_year"),
        "firm_mw_value": per_site("firm_power", "musd_per_mw_year"),
    }


def _shell_and_firm_power(result: PlanResult) -> set[tuple[str, int]]:
    """(site, period) where the plan has IT MW built or firm power active, in some scenario."""
    pm = result.planning_model
    m, case, sets = pm.model, pm.case, pm.sets
    equipped = set()
    for node in sets.info_tree.nodes:
        for s in case.sites:
            built = pyo.value(built_mw(m, case, s, sets.long_lead_node[node.id]))
            firm = pyo.value(firm_mw(m, case, sets, s, node.id))
            if built > EQUIPPED_MW or firm > EQUIPPED_MW:
                equipped.add((s, node.t))
    return equipped


def _duals_with_integers_fixed(result: PlanResult) -> dict[str, dict[Index, float]]:
    """Solve the plan's model again as an LP, its integers fixed at the plan, for its row duals.
    It is built anew with chips also where no IT MW is built yet (their rows price a MW that is
    not there); the plan's own model is left as solved."""
    pm = result.planning_model
    dense = build_model(pm.case, **pm.built_with, chips_only_where_built=False)
    m = dense.model
    for var in m.component_data_objects(ctype=pyo.Var):
        if (var.is_integer() or var.is_binary()) and not var.fixed:
            planned = pm.model.component(var.parent_component().local_name)[var.index()]
            var.fix(round(planned.value or 0.0))
    drop_rows_met_by_fixed_decisions(m)
    with numbers_named_in_inputs(dense):  # fixed integers move into right-hand sides: checked like the MIP
        outcome = solve_model(m, result.config.solver, with_duals=True)
    stop_if_interrupted(outcome)  # a press before or during it stops the run (exit 130), as documented
    if outcome.status != "optimal":
        raise ModelError(
            f"The LP with integer decisions fixed did not solve to optimality: {outcome.status}."
        )
    return outcome.row_duals


def write_duals(folder: RunFolder, tables: dict[str, pd.DataFrame]) -> None:
    for name, table in tables.items():
        folder.write_table(f"duals_{name}", table)


def render_duals(tables: dict[str, pd.DataFrame], console: Console) -> None:
    """A short on-screen summary: demand marginals, and the sites where capacity binds most."""
    demand = tables["demand_marginal"]
    title = "Shadow prices: $M per extra EFLOPS-year of demand (expected, period money)"
    if demand.empty:
        table = empty_table(title)
    else:
        table = Table(title=title, title_justify="left")
        pivot = demand.pivot_table(
            index="workload", columns="period", values="expected_musd_per_eflops_year", sort=False
        )
        table.add_column("workload")
        for period in pivot.columns:
            table.add_column(literal(period), justify="right")
        for workload, row in pivot.iterrows():
            table.add_row(literal(workload), *[f"{v:,.2f}" for v in row])
    console.print(table)
    for name, title in (("site_mw_value", "built IT MW"), ("firm_mw_value", "firm power MW")):
        top = tables[name].sort_values("musd_per_mw_year", ascending=False).head(5)
        top = top[top["musd_per_mw_year"] > 1e-9]
        if top.empty:
            console.print(f"One more {title}: worth nothing anywhere (never binding).")
            continue
        listed = ", ".join(
            f"{r.site} {r.period}: {r.musd_per_mw_year:,.3f}{'*' if r.unequipped else ''}"
            for r in top.itertuples()
        )
        console.print(f"Most valuable extra {title} ($M per MW-year): {literal(listed)}", highlight=False)
        if top["unequipped"].any():
            console.print(
                "  * neither IT MW nor firm power there yet in the plan: a MW of shell needs firm power"
                " too, the value is shared between the two, and one more MW of either alone may save"
                " nothing.",
                highlight=False,
            )
