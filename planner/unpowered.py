"""Chips left unpowered (extension ``unpowered_chips``): owned chips kept out of the building and
off firm power, for instance a committed fleet whose power contract ended or came short.

Under the v1 contract every chip owned is installed (rows 2, 3 and 5 count the whole fleet). With
the extension the model may set ``unpowered[c,s,t]`` of them aside; this table says how many, per
scenario, period, site and chip, with their IT MW, PFLOPS and book value at the period's start
(they are idle, so that value is also part of ``stranded_capital_musd``).

Which chips are set aside costs nothing either way (chip O&M is on the fleet), so a solver may
leave any idle chip unpowered. The tables report the fewest that must be: at each site and node
the chips running in some scenario are installed, then the idle ones, the smallest ``kw`` first
(input order among equals), as far as the building and the firm power (``min(built, firm / pue)``)
take them. Filling the room smallest first installs the most chips it can hold, so the fewest are
left out; the unpowered IT MW is the same in any order.
"""

from __future__ import annotations

import pandas as pd
import pyomo.environ as pyo

from planner.formulation import PlanningModel
from planner.formulation.buildings import built_mw
from planner.formulation.power import firm_mw
from planner.formulation.variables import Index
from planner.risk import worst_and_expected
from planner.solved import above_noise
from planner.stranded import fleet_book_value_musd

UNPOWERED_COLUMNS = (
    "scenario",
    "period",
    "site",
    "chip",
    "unpowered_chips",
    "unpowered_it_mw",
    "unpowered_pflops",
    "book_value_musd",
)


def installed_fleet(
    pm: PlanningModel, fleet: dict[Index, float], running: dict[tuple[str, str, int, str], float]
) -> dict[Index, float]:
    """(chip, site, node) -> chips installed: the whole fleet under the v1 contract; with chips
    allowed to sit unpowered, as many as the building and firm power take (module docstring).
    ``running``: :func:`planner.solved.running_chips` of the solved plan."""
    if pm.model.component("unpowered") is None:
        return fleet
    case, sets, m = pm.case, pm.sets, pm.model
    installed: dict[Index, float] = {}
    for node in sets.info_tree.nodes:
        n, t = node.id, node.t
        for s, site in case.sites.items():
            chips = [(c, chip) for c, chip in case.chips.items() if fleet.get((c, s, n), 0.0) > 0]
            if not chips:
                continue
            room_mw = min(
                float(pyo.value(built_mw(m, case, s, sets.long_lead_node[n]))),
                float(pyo.value(firm_mw(m, case, sets, s, n))) / site.pue,
            )
            for c, chip in chips:
                used = max(running.get((c, s, t, w), 0.0) for w in node.scenarios)
                installed[c, s, n] = min(used, fleet[c, s, n])
                room_mw -= installed[c, s, n] * chip.kw / 1000.0
            for c, chip in sorted(chips, key=lambda item: item[1].kw):
                idle = fleet[c, s, n] - installed[c, s, n]
                more = max(0.0, min(idle, room_mw * 1000.0 / chip.kw))  # kw > 0: chips.csv
                installed[c, s, n] += more
                room_mw -= more * chip.kw / 1000.0
    return installed


def unpowered_chips_table(
    pm: PlanningModel, buy: dict[Index, float], fleet: dict[Index, float], installed: dict[Index, float]
) -> pd.DataFrame:
    """One row per scenario, period, site and chip with chips unpowered (none: an empty table)."""
    case, sets = pm.case, pm.sets
    rows = []
    for w in case.scenarios:
        for t, period in enumerate(pm.ix.periods):
            n = sets.info_tree.node_of[(w, t)]
            for s in case.sites:
                for c, chip in case.chips.items():
                    units = fleet.get((c, s, n), 0.0)
                    aside = above_noise(units - installed.get((c, s, n), 0.0), units)
                    if aside <= 0:
                        continue
                    rows.append(
                        {
                            "scenario": w,
                            "period": period,
                            "site": s,
                            "chip": c,
                            "unpowered_chips": aside,
                            "unpowered_it_mw": aside * chip.kw / 1000.0,
                            "unpowered_pflops": aside * chip.pflops,
                            "book_value_musd": aside * fleet_book_value_musd(pm, buy, c, s, n, t) / units,
                        }
                    )
    return pd.DataFrame(rows, columns=UNPOWERED_COLUMNS)


def unpowered_by_scenario(unpowered: pd.DataFrame, scenarios: tuple[str, ...]) -> pd.DataFrame:
    """Per scenario, the peak over periods (summed over sites and chips) of the chips left
    unpowered, their IT MW and their book value; 0 for a scenario with none."""
    figures = ["unpowered_chips", "unpowered_it_mw", "book_value_musd"]
    per_period = unpowered.groupby(["scenario", "period"], sort=False)[figures].sum()
    peaks = per_period.groupby(level="scenario", sort=False).max()
    table = peaks.rename(columns={figure: f"{figure}_peak" for figure in figures})
    table = table.reindex(list(scenarios), fill_value=0.0)
    table.index.name = "scenario"
    return table


def unpowered_figures(unpowered: pd.DataFrame, probability: dict[str, float]) -> dict[str, float]:
    """The worst and the expected (over scenarios) of :func:`unpowered_by_scenario`'s peaks of
    chips and book value: ``unpowered_chips_peak_worst``, ``..._expected``,
    ``unpowered_book_value_musd_peak_worst``, ``..._expected``."""
    by_scenario = unpowered_by_scenario(unpowered, tuple(probability))
    names = {
        "unpowered_chips_peak": "unpowered_chips_peak",
        "book_value_musd_peak": "unpowered_book_value_musd_peak",
    }
    return worst_and_expected(by_scenario, names, probability)
