"""Stranded capacity of a solved plan: idle chips, empty shells, stranded capital and unused
take-or-pay, per scenario and period (summed over sites), then per scenario (peaks over periods and
plain sums)."""

from __future__ import annotations

import pandas as pd

from planner.formulation import PlanningModel
from planner.formulation.variables import Index
from planner.solved import FLOOR, above_noise, idle_chips, take_or_pay_floor_mwh

SUMMED_OVER_PERIODS = ("idle_chips", "idle_pflops", "empty_shell_mw", "stranded_capital_musd")
"""The stock figures whose plain sum over periods is also reported (``<figure>_period_sum``)."""

STRANDED_PERIOD_FIGURES = (
    "idle_chips",
    "idle_pflops",
    "installed_pflops",
    "empty_shell_mw",
    "built_mw",
    "installed_it_mw",
    "stranded_capital_musd",
    "unused_take_or_pay_mwh",
)


def stranded_by_period(
    pm: PlanningModel,
    build: dict[Index, float],
    buy: dict[Index, float],
    fleet: dict[Index, float],
    installed: dict[Index, float],
    running: dict[Index, float],
    active: dict[Index, float],
    need_mwh: dict[tuple[str, int, str], float],
) -> pd.DataFrame:
    """Idle chips, empty shells, stranded capital and unused take-or-pay per scenario and period,
    summed over sites (``installed``: :func:`planner.unpowered.installed_fleet`, the fleet itself
    unless chips may sit unpowered; ``running``: :func:`running_chips`; ``need_mwh``:
    :func:`energy_needed_mwh`)."""
    case, sets, ix = pm.case, pm.sets, pm.ix
    rows = []
    for w in case.scenarios:
        for t, period in enumerate(ix.periods):
            n = sets.info_tree.node_of[(w, t)]
            row = dict.fromkeys(STRANDED_PERIOD_FIGURES, 0.0)
            for s in case.sites:
                chips = _idle_chips_at(pm, buy, fleet, installed, running, s, n, t, w)
                shell = _empty_shell_at(pm, build, s, sets.long_lead_node[n], t, chips["installed_it_mw"])
                for figures in (chips, shell):
                    for figure, value in figures.items():
                        row[figure] += value
                need = need_mwh.get((s, t, w), 0.0)
                row["unused_take_or_pay_mwh"] += _unused_take_or_pay_at(pm, active, s, n, t, need)
            share = row["idle_pflops"] / row["installed_pflops"] if row["installed_pflops"] > FLOOR else 0.0
            rows.append({"scenario": w, "period": period, **row, "idle_pflops_share": share})
    return pd.DataFrame(rows)


def _idle_chips_at(
    pm: PlanningModel,
    buy: dict[Index, float],
    fleet: dict[Index, float],
    installed: dict[Index, float],
    running: dict[Index, float],
    s: str,
    n: int,
    t: int,
    w: str,
) -> dict[str, float]:
    """The chips at site ``s`` in scenario ``w``'s period ``t`` (info node ``n``): idle chips and
    PFLOPS, installed PFLOPS and IT MW, the idle chips' share of their fleet's book value at the
    period's start. Chips left unpowered (an extension) are idle and count in the PFLOPS, not in
    the IT MW (they take no room in the building)."""
    figures = dict.fromkeys(
        ("idle_chips", "idle_pflops", "installed_pflops", "installed_it_mw", "stranded_capital_musd"), 0.0
    )
    for c, chip in pm.case.chips.items():
        units = fleet.get((c, s, n), 0.0)
        if units <= 0:
            continue
        used = running.get((c, s, t, w), 0.0)
        idle = idle_chips(units, used)
        figures["idle_chips"] += idle
        figures["idle_pflops"] += idle * chip.pflops
        figures["installed_pflops"] += units * chip.pflops
        figures["installed_it_mw"] += installed.get((c, s, n), 0.0) * chip.kw / 1000.0
        figures["stranded_capital_musd"] += idle * fleet_book_value_musd(pm, buy, c, s, n, t) / units
    return figures


def fleet_book_value_musd(
    pm: PlanningModel, buy: dict[Index, float], c: str, s: str, n: int, t: int
) -> float:
    """The straight-line book value (as in the objective's salvage) of chip ``c``'s fleet at site
    ``s`` at the start of period ``t`` (info node ``n``), over its vintages."""
    chip, sets = pm.case.chips[c], pm.sets
    return sum(
        buy.get((c, s, a), 0.0)
        * chip.capex_usd
        / 1e6
        * pm.ix.book_value_share(sets.info_tree.nodes[a].t, t, chip.life_years)
        for a in sets.fleet[(c, s, n)]
    )


def _empty_shell_at(
    pm: PlanningModel, build: dict[Index, float], s: str, b: int, t: int, installed_mw: float
) -> dict[str, float]:
    """Site ``s``'s built and empty shell MW in period ``t`` (long-lead node ``b``), the empty MW
    valued at the average book value of all its built MW (existing MW carry none)."""
    site, sets = pm.case.sites[s], pm.sets
    ready = sets.ready.get((s, b), [])
    built = site.existing_mw + site.module_mw * sum(build.get((s, a), 0.0) for a in ready)
    empty = above_noise(built - installed_mw, built)
    shell_book = sum(
        build.get((s, a), 0.0)
        * site.module_mw
        * site.capex_musd_per_mw
        * pm.ix.book_value_share(sets.long_lead_tree.nodes[a].t, t, site.life_years)
        for a in ready
    )
    stranded = empty * shell_book / built if built > FLOOR else 0.0
    return {"built_mw": built, "empty_shell_mw": empty, "stranded_capital_musd": stranded}


def _unused_take_or_pay_at(
    pm: PlanningModel, active: dict[Index, float], s: str, n: int, t: int, need_mwh: float
) -> float:
    """``max(0, take-or-pay floor of the contracts at s - MWh the running chips need)`` in ``t``."""
    case, sets = pm.case, pm.sets
    floor = sum(
        take_or_pay_floor_mwh(case, sets, active, q, n, t)
        for q, contract in case.contracts.items()
        if contract.site == s and contract.min_take > 0
    )
    return above_noise(floor - need_mwh, floor)


def stranded_by_scenario(stranded: pd.DataFrame, cost: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: each figure's peak over periods, the total unused take-or-pay, and the plain
    sums over periods of :data:`SUMMED_OVER_PERIODS`."""
    grouped = stranded.groupby("scenario", sort=False)
    table = pd.DataFrame(
        {
            "cost_musd": cost["total"].iloc[:-1],
            "idle_chips_peak": grouped["idle_chips"].max(),
            "idle_pflops_peak": grouped["idle_pflops"].max(),
            "idle_pflops_share_peak": grouped["idle_pflops_share"].max(),
            "empty_shell_mw_peak": grouped["empty_shell_mw"].max(),
            "stranded_capital_musd_peak": grouped["stranded_capital_musd"].max(),
            "unused_take_or_pay_mwh_total": grouped["unused_take_or_pay_mwh"].sum(),
            **{f"{figure}_period_sum": grouped[figure].sum() for figure in SUMMED_OVER_PERIODS},
        }
    )
    table.insert(0, "probability", cost["probability"].iloc[:-1])
    table.index.name = "scenario"
    return table
