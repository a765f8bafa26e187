"""Power's share of the cost (an extension): NVIDIA puts power at up to ~40% of an AI factory's
operating cost, Epoch at ~7% of its total cost of ownership (the domain notes); a plan's figures
for both, so that a strategist can check the case against them and see what a price shock moves.

``cost_shares`` (per scenario, and expected as its last row), discounted, from the cost breakdown
(the objective's own terms):

- ``opex_musd = site_om + chip_om + capacity_charge + energy``;
- ``power_musd = capacity_charge + energy`` (the electricity bill: capacity and energy);
- ``ownership_musd = buildings_capex + chips_capex + power_capex - salvage + opex_musd``: the
  total cost of ownership, i.e. the scenario's cost without the unmet-demand penalty;
- ``power_share_of_opex``, ``energy_share_of_opex``, ``power_share_of_ownership``: shares in
  [0, 1], blank where the denominator is 0.

``opex_by_period`` (per period, expected over scenarios, undiscounted as ``capex_by_period``):
``site_om``, ``chip_om``, ``capacity_charge``, ``energy``, ``total`` and ``power_share``.
"""

from __future__ import annotations

import math

import pandas as pd
import pyomo.environ as pyo

from planner.formulation import PlanningModel

OPEX = ("site_om", "chip_om", "capacity_charge", "energy")
POWER = ("capacity_charge", "energy")
CAPEX = ("buildings_capex", "chips_capex", "power_capex")
ANNUAL = ("site_om", "chip_om", "capacity_charge")
"""The node cost terms paid every year of a period (weighted ``d[t] * years[t]`` in the objective)."""

COST_SHARES_COLUMNS = (
    "opex_musd",
    "power_musd",
    "ownership_musd",
    "power_share_of_opex",
    "energy_share_of_opex",
    "power_share_of_ownership",
)


def cost_shares_table(cost_by_scenario: pd.DataFrame) -> pd.DataFrame:
    """The module's ``cost_shares``, indexed like ``cost_by_scenario`` (its scenarios and its
    expected row)."""
    cost = cost_by_scenario
    opex = cost[list(OPEX)].sum(axis=1)
    power = cost[list(POWER)].sum(axis=1)
    ownership = cost[list(CAPEX)].sum(axis=1) - cost["salvage"] + opex
    table = pd.DataFrame(
        {
            "opex_musd": opex,
            "power_musd": power,
            "ownership_musd": ownership,
            "power_share_of_opex": _share(power, opex),
            "energy_share_of_opex": _share(cost["energy"], opex),
            "power_share_of_ownership": _share(power, ownership),
        },
        index=cost.index,
    )
    return table


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    shares = [p / w if w > 0 else math.nan for p, w in zip(part, whole, strict=True)]
    return pd.Series(shares, index=part.index, dtype=float)


def opex_by_period_table(pm: PlanningModel) -> pd.DataFrame:
    """The module's ``opex_by_period``: each node's annual terms undiscounted (the objective's
    node cost divided by ``d[t]`` leaves ``years[t]`` times the yearly amount) and the energy
    bought, ``price_usd_per_mwh * energy / 1e6``, each weighted by its probability."""
    m, case, sets, ix = pm.model, pm.case, pm.sets, pm.ix
    rows = {period: dict.fromkeys(OPEX, 0.0) for period in ix.periods}
    for node in sets.info_tree.nodes:
        row = rows[ix.periods[node.t]]
        discount = ix.discount[node.t]
        for component in ANNUAL:  # a solver's -1e-14 is no negative cost: each term is >= 0
            paid = max(0.0, pyo.value(m.node_cost[component, node.id]) / discount) if discount > 0 else 0.0
            row[component] += node.probability * paid
    for (q, t, w), var in m.energy.items():
        price = case.contracts[q].price_usd_per_mwh
        if price and var.value and var.value > 0:
            rows[ix.periods[t]]["energy"] += case.scenario_probability[w] * var.value * price / 1e6
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(OPEX))
    table["total"] = table.sum(axis=1)
    table["power_share"] = _share(table[list(POWER)].sum(axis=1), table["total"])
    table.index.name = "period"
    return table
