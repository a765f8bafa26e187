"""Result tables of a solved model: the plan, its cost, and stranded capacity per scenario.

Everything is read from the solved Pyomo model into pandas tables keyed like the inputs
(site, chip, contract, period, scenario). The cost breakdown evaluates the objective's own named
cost expressions, so it always adds up to the objective.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from planner.formulation import PlanningModel
from planner.formulation.objective import (
    COST_COMPONENTS,
    NODE_COMPONENTS,
    SCENARIO_COMPONENTS,
    signed,
)
from planner.formulation.power import available_mwh, energy_needed_mwh_per_chip
from planner.formulation.sets import Sets

ROUND_OFF = 1e-9
"""A solved value at most this share of the largest value of its kind is solver round-off (the
flagship's tables hold 2e-10 chips where others count 1e5). The cut-off is relative because a case
in small units can serve all demand with 5e-8 chips of 1000 EFLOPS each."""
FLOOR = 1e-12
"""Below this a value is round-off whatever its kind."""


def noise_level(values: Iterable[float]) -> float:
    """The largest value of a kind of decision that still counts as round-off."""
    return max(FLOOR, ROUND_OFF * max((abs(v) for v in values), default=0.0))


STRANDED_METRICS = (
    "idle_chips_peak",
    "idle_pflops_peak",
    "idle_pflops_share_peak",
    "empty_shell_mw_peak",
    "stranded_capital_musd_peak",
    "unused_take_or_pay_mwh_total",
    "idle_chips_period_sum",
    "idle_pflops_period_sum",
    "empty_shell_mw_period_sum",
    "stranded_capital_musd_period_sum",
)
"""Per scenario (``stranded_by_scenario``), then over scenarios (``risk``): each stranded figure's
peak over periods, and its plain sum over periods (the contract does not say how a figure reported
per period is aggregated; a second implementation read it as the sum; unused take-or-pay, a flow,
only as its total)."""

SUMMED_OVER_PERIODS = ("idle_chips", "idle_pflops", "empty_shell_mw", "stranded_capital_musd")
"""The stock figures whose plain sum over periods is also reported (``<figure>_period_sum``)."""

PERIOD_METRICS = (
    "idle_chips",
    "idle_pflops",
    "idle_pflops_share",
    "empty_shell_mw",
    "stranded_capital_musd",
    "unused_take_or_pay_mwh",
)
"""The stranded figures of ``stranded_by_period`` whose risk is also reported period by period."""

DISPATCH_COLUMNS = ("scenario", "period", "site", "chip", "workload", "running_chips", "eflops", "it_mw")
ENERGY_COLUMNS = (
    "scenario",
    "period",
    "contract",
    "site",
    "active_share",
    "mwh",
    "available_mwh",
    "take_or_pay_floor_mwh",
)


@dataclass
class Results:
    """All result tables of one solve; each is written as ``<name>.csv`` in the run folder."""

    cost_by_scenario: pd.DataFrame
    builds: pd.DataFrame
    chips: pd.DataFrame
    contracts: pd.DataFrame
    unmet: pd.DataFrame
    dispatch: pd.DataFrame
    energy: pd.DataFrame
    stranded_by_period: pd.DataFrame
    stranded_by_scenario: pd.DataFrame
    risk: pd.DataFrame
    risk_by_period: pd.DataFrame
    capex_by_period: pd.DataFrame
    capacity_by_period: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def expected_unmet_eflops_years(self, probability: dict[str, float], years: dict[str, float]) -> float:
        """``sum_w p[w] * sum_t years[t] * unmet[k,t,w]`` over the workloads: demand left unmet, in
        EFLOPS-years, expected over the scenarios (``probability`` and ``years`` of the case)."""
        if self.unmet.empty:
            return 0.0
        weights = self.unmet["scenario"].map(probability) * self.unmet["period"].map(years)
        return float((self.unmet["eflops"] * weights).sum())

    @property
    def expected_breakdown_musd(self) -> dict[str, float]:
        row = self.cost_by_scenario.iloc[-1]  # the expected row: see :func:`expected_row_label`
        return {comp: float(row[comp]) for comp in (*COST_COMPONENTS, "total")}


def cvar(values: np.ndarray, probabilities: np.ndarray, alpha: float) -> float:
    """``CVaR_alpha``: the mean of the worst ``1 - alpha`` share of a discrete distribution
    (Rockafellar-Uryasev: ``min_eta eta + E[max(0, x - eta)] / (1 - alpha)``, eta at a support point)."""
    if len(values) == 0:
        return float("nan")
    return float(
        min(eta + np.dot(probabilities, np.maximum(0.0, values - eta)) / (1.0 - alpha) for eta in values)
    )


def _values(var: pyo.Var) -> dict[tuple, float]:
    """The variable's solved values above round-off (:func:`noise_level` of its own values)."""
    values = {k: (v or 0.0) for k, v in var.extract_values().items()}
    cut = noise_level(values.values())
    return {k: v for k, v in values.items() if v > cut}


def extract_results(pm: PlanningModel, cvar_alpha: float) -> Results:
    """Read every result table from a solved model."""
    case, m = pm.case, pm.model
    build = _values(m.build)
    buy = _values(m.buy)
    fleet = _values(m.fleet)
    run = _without_over_service(pm, _values(m.run))
    active = _values(m.contract_active)
    running = _running_chips(run)
    node_label = _node_labels(pm)

    cost = _cost_by_scenario(pm)
    stranded = _stranded_by_period(pm, build, buy, fleet, running, active)
    by_scenario = _stranded_by_scenario(stranded, cost)
    return Results(
        cost_by_scenario=cost,
        builds=_builds(pm, build, node_label),
        chips=_chips(pm, buy, fleet, node_label),
        contracts=_contracts(pm, _values(m.sign), node_label),
        unmet=_unmet(pm, _values(m.unmet)),
        dispatch=_dispatch(pm, run),
        energy=_energy(pm, _values(m.energy), active),
        stranded_by_period=stranded,
        stranded_by_scenario=by_scenario,
        risk=_risk(by_scenario, case.scenario_probability, cvar_alpha),
        risk_by_period=_risk_by_period(stranded, case.scenario_probability, cvar_alpha),
        capex_by_period=_capex_by_period(pm),
        capacity_by_period=_capacity_by_period(pm, fleet, run, running),
    )


def _builds(
    pm: PlanningModel, build: dict[tuple, float], node_label: dict[tuple[str, int], str]
) -> pd.DataFrame:
    """Modules started per site and long-lead tree node, with the period they are ready in."""
    case, periods = pm.case, pm.ix.periods
    long_nodes = pm.sets.long_lead_tree.nodes
    return pd.DataFrame(
        [
            {
                "site": s,
                "period": periods[long_nodes[b].t],
                "node": node_label["long", b],
                "modules": v,
                "mw": v * case.sites[s].module_mw,
                "ready_period": _period_or_beyond(periods, long_nodes[b].t + case.sites[s].lead_periods),
            }
            for (s, b), v in build.items()
        ],
        columns=["site", "period", "node", "modules", "mw", "ready_period"],
    )


def _chips(
    pm: PlanningModel,
    buy: dict[tuple, float],
    fleet: dict[tuple, float],
    node_label: dict[tuple[str, int], str],
) -> pd.DataFrame:
    """Chips bought and in service per chip, site and information-tree node."""
    periods = pm.ix.periods
    info_nodes = pm.sets.info_tree.nodes
    return pd.DataFrame(
        [
            {
                "chip": c,
                "site": s,
                "period": periods[info_nodes[n].t],
                "node": node_label["info", n],
                "probability": info_nodes[n].probability,
                "bought": buy.get((c, s, n), 0.0),
                "fleet": fleet.get((c, s, n), 0.0),
            }
            for (c, s, n) in pm.sets.fleet
            if (c, s, n) in fleet or (c, s, n) in buy
        ],
        columns=["chip", "site", "period", "node", "probability", "bought", "fleet"],
    )


def _contracts(
    pm: PlanningModel, sign: dict[tuple, float], node_label: dict[tuple[str, int], str]
) -> pd.DataFrame:
    """Signed shares per contract and long-lead tree node, then the existing contracts."""
    case, periods = pm.case, pm.ix.periods
    long_nodes = pm.sets.long_lead_tree.nodes
    return pd.DataFrame(
        [
            {
                "contract": q,
                "site": case.contracts[q].site,
                "kind": case.contracts[q].kind,
                "period": periods[long_nodes[b].t],
                "node": node_label["long", b],
                "share": v,
                "mw": v * case.contracts[q].mw,
                "active_from": _period_or_beyond(periods, long_nodes[b].t + case.contracts[q].lead_periods),
            }
            for (q, b), v in sign.items()
        ]
        + [
            {
                "contract": q,
                "site": row.site,
                "kind": row.kind,
                "period": "existing",
                "node": "all",
                "share": 1.0,
                "mw": row.mw,
                "active_from": periods[0],
            }
            for q, row in case.contracts.items()
            if row.existing
        ],
        columns=["contract", "site", "kind", "period", "node", "share", "mw", "active_from"],
    )


def _unmet(pm: PlanningModel, unmet: dict[tuple, float]) -> pd.DataFrame:
    """Demand not served per scenario, period and workload, beside the demand."""
    case, periods = pm.case, pm.ix.periods
    return pd.DataFrame(
        [
            {
                "scenario": w,
                "period": periods[t],
                "workload": k,
                "eflops": v,
                "demand_eflops": case.demand_eflops[(w, periods[t], k)],
            }
            for (k, t, w), v in unmet.items()
        ],
        columns=["scenario", "period", "workload", "eflops", "demand_eflops"],
    )


def _period_or_beyond(periods: tuple[str, ...], t: int) -> str:
    return periods[t] if t < len(periods) else "beyond horizon"


def _node_labels(pm: PlanningModel) -> dict[tuple[str, int], str]:
    """A readable name per node: ``all`` when every scenario shares it, else its scenarios."""
    n_scenarios = len(pm.case.scenarios)
    labels = {}
    for kind, tree in (("info", pm.sets.info_tree), ("long", pm.sets.long_lead_tree)):
        for node in tree.nodes:
            labels[kind, node.id] = "all" if len(node.scenarios) == n_scenarios else "+".join(node.scenarios)
    return labels


def expected_row_label(scenarios: Iterable[str]) -> str:
    """The label of the probability-weighted last row of a per-scenario table: ``expected``, or
    ``(expected)`` when a scenario is called ``expected`` ("low / expected / high" is common)."""
    taken = set(scenarios)
    label = "expected"
    while label in taken:
        label = f"({label})"
    return label


def _cost_by_scenario(pm: PlanningModel) -> pd.DataFrame:
    """Discounted cost components (musd) per scenario, and their expectation."""
    m, case, sets = pm.model, pm.case, pm.sets
    node_values = {key: pyo.value(expr) for key, expr in m.node_cost.items()}
    rows = {}
    for w in case.scenarios:
        path = [sets.info_tree.node_of[(w, t)] for t in range(len(pm.ix.periods))]
        row = {comp: sum(node_values[comp, n] for n in path) for comp in NODE_COMPONENTS}
        row.update({comp: pyo.value(m.scenario_cost[comp, w]) for comp in SCENARIO_COMPONENTS})
        rows[w] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    # A variable HiGHS leaves at -1e-14 (within its tolerances) must not show as a negative cost.
    table = table.mask(table.abs() <= noise_level(table.to_numpy().ravel()), 0.0)
    table["total"] = sum(signed(comp) * table[comp] for comp in COST_COMPONENTS)
    probabilities = pd.Series(case.scenario_probability)
    table.loc[expected_row_label(case.scenarios)] = table.mul(probabilities, axis=0).sum()
    table.insert(0, "probability", [*probabilities.tolist(), 1.0])
    table.index.name = "scenario"
    return table


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


def _stranded_by_period(
    pm: PlanningModel,
    build: dict[tuple, float],
    buy: dict[tuple, float],
    fleet: dict[tuple, float],
    running: dict[tuple, float],
    active: dict[tuple, float],
) -> pd.DataFrame:
    """Idle chips, empty shells, stranded capital and unused take-or-pay per scenario and period,
    summed over sites (``running``: :func:`_running_chips`)."""
    case, sets, ix = pm.case, pm.sets, pm.ix
    rows = []
    for w in case.scenarios:
        for t, period in enumerate(ix.periods):
            n = sets.info_tree.node_of[(w, t)]
            row = dict.fromkeys(STRANDED_PERIOD_FIGURES, 0.0)
            for s in case.sites:
                chips, need_mwh = _idle_chips_at(pm, buy, fleet, running, s, n, t, w)
                shell = _empty_shell_at(pm, build, s, sets.long_lead_node[n], t, chips["installed_it_mw"])
                for figures in (chips, shell):
                    for figure, value in figures.items():
                        row[figure] += value
                row["unused_take_or_pay_mwh"] += _unused_take_or_pay_at(pm, active, s, n, t, need_mwh)
            share = row["idle_pflops"] / row["installed_pflops"] if row["installed_pflops"] > FLOOR else 0.0
            rows.append({"scenario": w, "period": period, **row, "idle_pflops_share": share})
    return pd.DataFrame(rows)


def _idle_chips_at(
    pm: PlanningModel,
    buy: dict[tuple, float],
    fleet: dict[tuple, float],
    running: dict[tuple, float],
    s: str,
    n: int,
    t: int,
    w: str,
) -> tuple[dict[str, float], float]:
    """The chips at site ``s`` in scenario ``w``'s period ``t`` (info node ``n``): idle chips and
    PFLOPS, installed PFLOPS and IT MW, the idle chips' share of their fleet's book value at the
    period's start; and the MWh the running chips need."""
    case, sets, ix = pm.case, pm.sets, pm.ix
    figures = dict.fromkeys(
        ("idle_chips", "idle_pflops", "installed_pflops", "installed_it_mw", "stranded_capital_musd"), 0.0
    )
    need_mwh = 0.0
    for c, chip in case.chips.items():
        units = fleet.get((c, s, n), 0.0)
        if units <= 0:
            continue
        used = running.get((c, s, t, w), 0.0)
        idle = _idle_chips(units, used)
        need_mwh += used * energy_needed_mwh_per_chip(case, sets, s, c, t)
        figures["idle_chips"] += idle
        figures["idle_pflops"] += idle * chip.pflops
        figures["installed_pflops"] += units * chip.pflops
        figures["installed_it_mw"] += units * chip.kw / 1000.0
        book = sum(
            buy.get((c, s, a), 0.0)
            * chip.capex_usd
            / 1e6
            * ix.book_value_share(sets.info_tree.nodes[a].t, t, chip.life_years)
            for a in sets.fleet[(c, s, n)]
        )
        figures["stranded_capital_musd"] += idle * book / units
    return figures, need_mwh


def _empty_shell_at(
    pm: PlanningModel, build: dict[tuple, float], s: str, b: int, t: int, installed_mw: float
) -> dict[str, float]:
    """Site ``s``'s built and empty shell MW in period ``t`` (long-lead node ``b``), the empty MW
    valued at the average book value of all its built MW (existing MW carry none)."""
    site, sets = pm.case.sites[s], pm.sets
    ready = sets.ready.get((s, b), [])
    built = site.existing_mw + site.module_mw * sum(build.get((s, a), 0.0) for a in ready)
    empty = _above_noise(built - installed_mw, built)
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
    pm: PlanningModel, active: dict[tuple, float], s: str, n: int, t: int, need_mwh: float
) -> float:
    """``max(0, take-or-pay floor of the contracts at s - MWh the running chips need)`` in ``t``."""
    case, sets = pm.case, pm.sets
    floor = sum(
        contract.min_take * available_mwh(case, sets, q, t) * _active_value(sets, active, q, n)
        for q, contract in case.contracts.items()
        if contract.site == s and contract.min_take > 0
    )
    return _above_noise(floor - need_mwh, floor)


def _dispatch(pm: PlanningModel, run: dict[tuple, float]) -> pd.DataFrame:
    """What runs where: chips of each type running each workload, per scenario, period and site."""
    case, periods = pm.case, pm.ix.periods
    rows = [
        {
            "scenario": w,
            "period": periods[t],
            "site": s,
            "chip": c,
            "workload": k,
            "running_chips": v,
            "eflops": v * case.pflops(c, k) / 1000.0,
            "it_mw": v * case.chips[c].kw / 1000.0,
        }
        for (c, s, k, t, w), v in run.items()
    ]
    return _in_input_order(pd.DataFrame(rows, columns=DISPATCH_COLUMNS), pm, ["site", "chip", "workload"])


def _energy(pm: PlanningModel, energy: dict[tuple, float], active: dict[tuple, float]) -> pd.DataFrame:
    """Where the power comes from: MWh taken from each active contract per scenario and period,
    against what the active share makes available and its take-or-pay floor."""
    case, sets, periods = pm.case, pm.sets, pm.ix.periods
    rows = []
    for w in case.scenarios:
        for t, period in enumerate(periods):
            n = sets.info_tree.node_of[(w, t)]
            for q, contract in case.contracts.items():
                share = _active_value(sets, active, q, n)
                if share <= 0:
                    continue
                available = available_mwh(case, sets, q, t) * share
                rows.append(
                    {
                        "scenario": w,
                        "period": period,
                        "contract": q,
                        "site": contract.site,
                        "active_share": share,
                        "mwh": energy.get((q, t, w), 0.0),
                        "available_mwh": available,
                        "take_or_pay_floor_mwh": contract.min_take * available,
                    }
                )
    return pd.DataFrame(rows, columns=ENERGY_COLUMNS)


def _in_input_order(table: pd.DataFrame, pm: PlanningModel, keys: list[str]) -> pd.DataFrame:
    """Rows sorted by scenario and period, then by ``keys`` in the order the input files list them."""
    case = pm.case
    order = {
        "scenario": list(case.scenarios),
        "period": list(pm.ix.periods),
        "site": list(case.sites),
        "chip": list(case.chips),
        "workload": list(case.workloads),
    }
    by = ["scenario", "period", *keys]
    rank = {key: {v: i for i, v in enumerate(order[key])} for key in by}
    return table.sort_values(by, key=lambda column: column.map(rank[column.name]), kind="stable").reset_index(
        drop=True
    )


def _without_over_service(pm: PlanningModel, run: dict[tuple, float]) -> dict[tuple, float]:
    """``run`` without chips that run beyond demand: the same cost, and they count as idle.

    The demand row is ``compute + unmet >= demand``. Where one more running chip costs nothing (its
    energy is free, or already paid for under take-or-pay), HiGHS may return a plan that runs more
    chips than demand needs, and the stranded figures would call them busy. Cutting such runs
    changes no cost (the objective has no term in ``run``) and breaks no row (running chips, the
    energy balance and demand only gain slack), so the tables report that equal-cost plan. The
    chips that need the most energy per EFLOPS (``pue * kw / pflops``) are switched off first, then
    in input order (sites, chips).
    """
    case, periods = pm.case, pm.ix.periods
    site_order = {s: i for i, s in enumerate(case.sites)}
    chip_order = {c: i for i, c in enumerate(case.chips)}
    serving: dict[tuple[str, int, str], list[tuple]] = {}
    for key in run:
        serving.setdefault(key[2:], []).append(key)

    def switch_off_first(key: tuple) -> tuple[float, int, int]:
        c, s, k = key[:3]
        energy_per_eflops = case.sites[s].pue * case.chips[c].kw / case.pflops(c, k)
        return (-energy_per_eflops, site_order[s], chip_order[c])

    trimmed = dict(run)
    for (k, t, w), keys in serving.items():
        demand = case.demand_eflops[(w, periods[t], k)]
        served = sum(run[key] * case.pflops(key[0], k) / 1000.0 for key in keys)
        excess = served - demand
        if excess <= noise_level((served, demand)):
            continue
        for key in sorted(keys, key=switch_off_first):
            eflops_per_chip = case.pflops(key[0], k) / 1000.0
            cut = min(trimmed[key], excess / eflops_per_chip)
            trimmed[key] -= cut
            excess -= cut * eflops_per_chip
            if trimmed[key] <= noise_level((run[key],)):
                del trimmed[key]
            if excess <= 0:
                break
    return trimmed


def _running_chips(run: dict[tuple, float]) -> dict[tuple[str, str, int, str], float]:
    """(chip, site, period index, scenario) -> chips running, over all workloads."""
    running: dict[tuple[str, str, int, str], float] = {}
    for (c, s, _k, t, w), v in run.items():
        running[c, s, t, w] = running.get((c, s, t, w), 0.0) + v
    return running


def _idle_chips(installed: float, running: float) -> float:
    """Chips installed but not running, the same in the stranded and the capacity tables."""
    return _above_noise(installed - running, installed)


def _above_noise(value: float, scale: float) -> float:
    """``max(0, value)`` for a difference of values of magnitude ``scale``, with a solver's rounding
    (1e-16 MW of empty shell) read as 0."""
    return value if value > noise_level((scale,)) else 0.0


def _active_value(sets: Sets, active: dict[tuple, float], q: str, n: int) -> float:
    """:func:`planner.formulation.power.active_share` on the solved (round-off free) values."""
    t = sets.info_tree.nodes[n].t
    if (q, t) in sets.existing_active:
        return sets.existing_active[(q, t)]
    return active.get((q, sets.long_lead_node[n]), 0.0)


def _stranded_by_scenario(stranded: pd.DataFrame, cost: pd.DataFrame) -> pd.DataFrame:
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


def _risk(by_scenario: pd.DataFrame, probability: dict[str, float], alpha: float) -> pd.DataFrame:
    """Expected value, worst scenario and CVaR_alpha of cost and of each stranded figure."""
    rows = [
        {"metric": metric, **_over_scenarios(by_scenario[metric], probability, alpha)}
        for metric in ("cost_musd", *STRANDED_METRICS)
    ]
    return pd.DataFrame(rows).set_index("metric")


def _risk_by_period(stranded: pd.DataFrame, probability: dict[str, float], alpha: float) -> pd.DataFrame:
    """The same risk figures period by period: each stranded figure of ``stranded_by_period``
    over the scenarios, in that period."""
    rows = []
    for period, in_period in stranded.groupby("period", sort=False):
        by_scenario = in_period.set_index("scenario")
        rows += [
            {"period": period, "metric": metric, **_over_scenarios(by_scenario[metric], probability, alpha)}
            for metric in PERIOD_METRICS
        ]
    return pd.DataFrame(rows)


def _over_scenarios(values: pd.Series, probability: dict[str, float], alpha: float) -> dict[str, object]:
    """Expected value, worst value and its scenario, and ``CVaR_alpha`` of one figure per scenario."""
    p = np.array([probability[w] for w in values.index])
    x = values.to_numpy(dtype=float)
    return {
        "expected": float(np.dot(p, x)),
        "worst": float(x.max()),
        "worst_scenario": str(values.index[int(x.argmax())]),
        f"cvar_{alpha:g}": cvar(x, p, alpha),
    }


def _capex_by_period(pm: PlanningModel) -> pd.DataFrame:
    """Undiscounted capex committed per period, expected over scenarios (musd), by kind."""
    from planner.formulation.budget import NODE_CAPEX

    rows = {}
    for node in pm.sets.info_tree.nodes:
        period = pm.ix.periods[node.t]
        row = rows.setdefault(period, dict.fromkeys(NODE_CAPEX, 0.0))
        for kind, node_capex in NODE_CAPEX.items():
            row[kind] += node.probability * pyo.value(node_capex(pm.model, pm.case, pm.sets, node.id))
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["total"] = table.sum(axis=1)
    table.index.name = "period"
    return table


def _capacity_by_period(
    pm: PlanningModel, fleet: dict[tuple, float], run: dict[tuple, float], running: dict[tuple, float]
) -> pd.DataFrame:
    """Installed and used EFLOPS against demand, per scenario and period (for the charts).

    Installed capacity counts each running chip at the PFLOPS of the workload it runs
    (``chip_performance``) and each idle chip at ``chips.pflops``, so that served never exceeds it.
    """
    case, sets, ix = pm.case, pm.sets, pm.ix
    served: dict[tuple[int, str], float] = {}
    for (c, _s, k, t, w), v in run.items():
        served[t, w] = served.get((t, w), 0.0) + v * case.pflops(c, k) / 1000.0
    rows = []
    for w in case.scenarios:
        for t, period in enumerate(ix.periods):
            n = sets.info_tree.node_of[(w, t)]
            idle = sum(
                _idle_chips(fleet.get((c, s, n), 0.0), running.get((c, s, t, w), 0.0)) * chip.pflops / 1000.0
                for c, chip in case.chips.items()
                for s in case.sites
            )
            installed = served.get((t, w), 0.0) + idle
            demand = sum(case.demand_eflops[(w, period, k)] for k in case.workloads)
            rows.append(
                {
                    "scenario": w,
                    "period": period,
                    "installed_eflops": installed,
                    "served_eflops": served.get((t, w), 0.0),
                    "demand_eflops": demand,
                }
            )
    return pd.DataFrame(rows)
