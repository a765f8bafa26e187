"""Contracted firm power left idle: an extension beyond the contract's stranded figures (idle chips,
empty shells, stranded capital, unused take-or-pay), which leave out firm MW held and paid for but
not needed by the installed fleet.

Per scenario ``w``, period ``t`` (info node ``n``) and site ``s``, on the solved values:

- ``firm_mw = sum_{q at s} mw[q] * firm_fraction[q] * active[q,t]``: the right-hand side of the
  firm-power row (formulation row 5), ``existing`` contracts active 1 during their term;
- ``needed_mw = pue[s] * sum_c fleet[c,s,t] * kw[c] / 1000``: the facility load of the installed
  fleet (less any chips left unpowered, an extension), its left-hand side, so ``needed_mw <= firm_mw``;
- ``idle_firm_mw = max(0, firm_mw - needed_mw)``, a solver's round-off read as 0;
- ``capacity_charge_musd = sum_{q at s, firm_fraction[q] > 0} capacity_cost_musd_per_mw_year[q] *
  mw[q] * active[q,t] * years[t]``: the capacity charges paid in the period, undiscounted, for the
  contracts that hold firm power (a contract with none pays for energy only, idle or not);
- ``idle_capacity_charge_musd = capacity_charge_musd * idle_firm_mw / firm_mw``: the share of those
  charges that pays for idle firm MW.

One row per (scenario, period, site) with ``firm_mw > 0``, in input order.
"""

from __future__ import annotations

import pandas as pd

from planner.formulation import PlanningModel
from planner.formulation.power import contracts_at
from planner.formulation.variables import Index
from planner.risk import worst_and_expected
from planner.solved import FLOOR, above_noise, active_value

IDLE_POWER_COLUMNS = (
    "scenario",
    "period",
    "site",
    "firm_mw",
    "needed_mw",
    "idle_firm_mw",
    "capacity_charge_musd",
    "idle_capacity_charge_musd",
)


def idle_power_table(
    pm: PlanningModel, installed: dict[Index, float], active: dict[Index, float]
) -> pd.DataFrame:
    """The table of the module docstring (``installed``: the fleet, less any chips left unpowered,
    :func:`planner.unpowered.installed_fleet`; ``active``: the solved values of
    :func:`planner.solved.solved_values`)."""
    case, sets, ix = pm.case, pm.sets, pm.ix
    rows = []
    for w in case.scenarios:
        for t, period in enumerate(ix.periods):
            n = sets.info_tree.node_of[(w, t)]
            for s, site in case.sites.items():
                firm = charge = 0.0
                for q in contracts_at(case, s):
                    contract = case.contracts[q]
                    share = active_value(sets, active, q, n)
                    if contract.firm_fraction > 0:
                        firm += contract.mw * contract.firm_fraction * share
                        charge += contract.capacity_cost_musd_per_mw_year * contract.mw * share * ix.years[t]
                if firm <= FLOOR:
                    continue
                it_mw = sum(
                    installed.get((c, s, n), 0.0) * chip.kw / 1000.0 for c, chip in case.chips.items()
                )
                needed = site.pue * it_mw
                idle = above_noise(firm - needed, firm)
                rows.append(
                    {
                        "scenario": w,
                        "period": period,
                        "site": s,
                        "firm_mw": firm,
                        "needed_mw": needed,
                        "idle_firm_mw": idle,
                        "capacity_charge_musd": charge,
                        "idle_capacity_charge_musd": charge * idle / firm,
                    }
                )
    return pd.DataFrame(rows, columns=IDLE_POWER_COLUMNS)


def idle_power_by_scenario(idle_power: pd.DataFrame, scenarios: tuple[str, ...]) -> pd.DataFrame:
    """Per scenario: the peak over periods of the idle firm MW summed over sites, and the idle
    capacity charges summed over sites and periods (undiscounted); 0 for a scenario without rows."""
    per_period = idle_power.groupby(["scenario", "period"], sort=False)[
        ["idle_firm_mw", "idle_capacity_charge_musd"]
    ].sum()
    by_scenario = per_period.groupby(level="scenario", sort=False)
    table = pd.DataFrame(
        {
            "idle_firm_mw_peak": by_scenario["idle_firm_mw"].max(),
            "idle_capacity_charge_musd_total": by_scenario["idle_capacity_charge_musd"].sum(),
        }
    )
    table = table.reindex(list(scenarios), fill_value=0.0)
    table.index.name = "scenario"
    return table


def idle_power_figures(idle_power: pd.DataFrame, probability: dict[str, float]) -> dict[str, float]:
    """The worst and the expected (over scenarios, with their ``probability``) of
    :func:`idle_power_by_scenario`'s two columns: ``idle_firm_mw_peak_worst``, ``..._expected``,
    ``idle_capacity_charge_musd_worst``, ``..._expected``."""
    by_scenario = idle_power_by_scenario(idle_power, tuple(probability))
    names = {
        "idle_firm_mw_peak": "idle_firm_mw_peak",
        "idle_capacity_charge_musd_total": "idle_capacity_charge_musd",
    }
    return worst_and_expected(by_scenario, names, probability)
