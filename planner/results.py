"""Result tables of a solved model: the plan, how much of its buildings and contracts it decides
before demand parts (from :mod:`planner.commitments`), its cost, (from :mod:`planner.stranded` and
:mod:`planner.risk`) stranded capacity and risk per scenario, and (extensions) contracted firm power
left idle (:mod:`planner.idle_power`) and power's share of the cost (:mod:`planner.cost_shares`).

Everything is read from the solved Pyomo model into pandas tables keyed like the inputs
(site, chip, contract, period, scenario). The cost breakdown evaluates the objective's own named
cost expressions, so it always adds up to the objective.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import pandas as pd
import pyomo.environ as pyo

from planner.commitments import commitments_table
from planner.cost_shares import cost_shares_table, opex_by_period_table
from planner.formulation import PlanningModel
from planner.formulation.objective import (
    COST_COMPONENTS,
    NODE_COMPONENTS,
    SCENARIO_COMPONENTS,
    signed,
)
from planner.formulation.power import available_mwh
from planner.formulation.variables import Index
from planner.idle_power import idle_power_table
from planner.risk import risk_by_period, risk_table
from planner.solved import (
    active_value,
    energy_needed_mwh,
    idle_chips,
    noise_level,
    running_chips,
    solved_values,
    take_or_pay_floor_mwh,
)
from planner.stranded import stranded_by_period, stranded_by_scenario
from planner.unpowered import installed_fleet, unpowered_chips_table

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
    commitments: pd.DataFrame
    unmet: pd.DataFrame
    dispatch: pd.DataFrame
    energy: pd.DataFrame
    stranded_by_period: pd.DataFrame
    stranded_by_scenario: pd.DataFrame
    risk: pd.DataFrame
    risk_by_period: pd.DataFrame
    capex_by_period: pd.DataFrame
    capacity_by_period: pd.DataFrame
    idle_power: pd.DataFrame
    cost_shares: pd.DataFrame
    opex_by_period: pd.DataFrame
    unpowered_chips: pd.DataFrame | None = None
    """Only where chips may sit unpowered (the ``unpowered_chips`` extension)."""

    def tables(self) -> dict[str, pd.DataFrame]:
        tables = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return {name: table for name, table in tables.items() if table is not None}

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


def extract_results(pm: PlanningModel, cvar_alpha: float) -> Results:
    """Read every result table from a solved model."""
    case, m = pm.case, pm.model
    build = solved_values(m.build)
    sign = solved_values(m.sign)
    buy = solved_values(m.buy)
    fleet = solved_values(m.fleet)
    run = _without_over_service(pm, solved_values(m.run))
    active = solved_values(m.contract_active)
    running = running_chips(run)
    installed = installed_fleet(pm, fleet, running)
    need_mwh = energy_needed_mwh(case, pm.sets, running)
    energy = _without_free_excess_energy(pm, solved_values(m.energy), need_mwh, active)
    node_label = _node_labels(pm)

    cost = _cost_by_scenario(pm)
    stranded = stranded_by_period(pm, build, buy, fleet, installed, running, active, need_mwh)
    by_scenario = stranded_by_scenario(stranded, cost)
    return Results(
        cost_by_scenario=cost,
        builds=_builds(pm, build, node_label),
        chips=_chips(pm, buy, fleet, node_label),
        contracts=_contracts(pm, sign, node_label),
        commitments=commitments_table(pm, build, sign, buy),
        unmet=_unmet(pm, solved_values(m.unmet)),
        dispatch=_dispatch(pm, run),
        energy=_energy(pm, energy, active),
        stranded_by_period=stranded,
        stranded_by_scenario=by_scenario,
        risk=risk_table(by_scenario, case.scenario_probability, cvar_alpha),
        risk_by_period=risk_by_period(stranded, case.scenario_probability, cvar_alpha),
        capex_by_period=_capex_by_period(pm),
        capacity_by_period=_capacity_by_period(pm, fleet, run, running),
        idle_power=idle_power_table(pm, installed, active),
        cost_shares=cost_shares_table(cost),
        opex_by_period=opex_by_period_table(pm),
        unpowered_chips=(
            unpowered_chips_table(pm, buy, fleet, installed) if m.component("unpowered") is not None else None
        ),
    )


def _builds(
    pm: PlanningModel, build: dict[Index, float], node_label: dict[tuple[str, int], str]
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
    buy: dict[Index, float],
    fleet: dict[Index, float],
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
    pm: PlanningModel, sign: dict[Index, float], node_label: dict[tuple[str, int], str]
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
                **_term(
                    periods, long_nodes[b].t + case.contracts[q].lead_periods, case.contracts[q].term_periods
                ),
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
                **_term(periods, 0, row.term_periods),
            }
            for q, row in case.contracts.items()
            if row.existing
        ],
        columns=["contract", "site", "kind", "period", "node", "share", "mw", "active_from", "active_until"],
    )


def _unmet(pm: PlanningModel, unmet: dict[Index, float]) -> pd.DataFrame:
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


def _term(periods: tuple[str, ...], start: int, term_periods: int | None) -> dict[str, str]:
    """A contract's ``active_from`` and ``active_until`` for a term begun in period ``start``."""
    return {
        "active_from": _period_or_beyond(periods, start),
        "active_until": _last_active(periods, start, term_periods),
    }


def _last_active(periods: tuple[str, ...], start: int, term_periods: int | None) -> str:
    """The last period of a term of ``term_periods`` periods begun in period ``start`` (0-based;
    ``None``: to the end), or "beyond horizon" when it begins after the last period."""
    if start >= len(periods):
        return "beyond horizon"
    end = len(periods) if term_periods is None else min(len(periods), start + term_periods)
    return periods[end - 1]


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
    table = _without_round_off(pd.DataFrame.from_dict(rows, orient="index"))
    table["total"] = sum(signed(comp) * table[comp] for comp in COST_COMPONENTS)
    probabilities = pd.Series(case.scenario_probability)
    table.loc[expected_row_label(case.scenarios)] = table.mul(probabilities, axis=0).sum()
    table.insert(0, "probability", [*probabilities.tolist(), case.probability_total])
    table.index.name = "scenario"
    return table


def _dispatch(pm: PlanningModel, run: dict[Index, float]) -> pd.DataFrame:
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


def _energy(pm: PlanningModel, energy: dict[Index, float], active: dict[Index, float]) -> pd.DataFrame:
    """Where the power comes from: MWh taken from each active contract per scenario and period,
    against what the active share makes available and its take-or-pay floor."""
    case, sets, periods = pm.case, pm.sets, pm.ix.periods
    rows = []
    for w in case.scenarios:
        for t, period in enumerate(periods):
            n = sets.info_tree.node_of[(w, t)]
            for q, contract in case.contracts.items():
                share = active_value(sets, active, q, n)
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
    rank: dict[Hashable, dict[str, int]] = {key: {v: i for i, v in enumerate(order[key])} for key in by}
    return table.sort_values(by, key=lambda column: column.map(rank[column.name]), kind="stable").reset_index(
        drop=True
    )


def _without_over_service(pm: PlanningModel, run: dict[Index, float]) -> dict[Index, float]:
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
    serving: dict[tuple[str, int, str], list[Index]] = {}
    for key in run:
        serving.setdefault(key[2:], []).append(key)

    def switch_off_first(key: Index) -> tuple[float, int, int]:
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


def _without_free_excess_energy(
    pm: PlanningModel,
    energy: dict[Index, float],
    need_mwh: dict[tuple[str, int, str], float],
    active: dict[Index, float],
) -> dict[Index, float]:
    """``energy`` without free MWh taken beyond what the running chips need: the same cost.

    The energy balance is ``sum_{q at s} energy >= need``. From a contract whose energy costs
    nothing (``price_usd_per_mwh`` 0) HiGHS may take any amount up to the cap, and the MWh that
    chips cut by :func:`_without_over_service` drew stay taken. Lowering a free contract's energy
    towards its take-or-pay floor changes no cost and breaks no row while the site still takes its
    need (``need_mwh``: :func:`energy_needed_mwh`); free contracts give up their excess in input order.
    """
    case, sets = pm.case, pm.sets
    taken: dict[tuple[str, int, str], float] = {}
    for (q, t, w), mwh in energy.items():
        taken[case.contracts[q].site, t, w] = taken.get((case.contracts[q].site, t, w), 0.0) + mwh
    trimmed = dict(energy)
    for (q, t, w), mwh in energy.items():
        contract = case.contracts[q]
        key = (contract.site, t, w)
        need = need_mwh.get(key, 0.0)
        excess = taken[key] - need
        if contract.price_usd_per_mwh != 0 or excess <= noise_level((taken[key], need)):
            continue
        floor = take_or_pay_floor_mwh(case, sets, active, q, sets.info_tree.node_of[(w, t)], t)
        cut = min(excess, mwh - floor)
        if cut > 0:
            trimmed[q, t, w] = mwh - cut
            taken[key] -= cut
    return trimmed


def _capex_by_period(pm: PlanningModel) -> pd.DataFrame:
    """Undiscounted capex committed per period, expected over scenarios (musd), by kind."""
    from planner.formulation.budget import NODE_CAPEX

    rows: dict[str, dict[str, float]] = {}
    for node in pm.sets.info_tree.nodes:
        period = pm.ix.periods[node.t]
        row = rows.setdefault(period, dict.fromkeys(NODE_CAPEX, 0.0))
        for kind, node_capex in NODE_CAPEX.items():
            row[kind] += node.probability * pyo.value(node_capex(pm.model, pm.case, pm.sets, node.id))
    table = _without_round_off(pd.DataFrame.from_dict(rows, orient="index"))
    table["total"] = table.sum(axis=1)
    table.index.name = "period"
    return table


def _without_round_off(table: pd.DataFrame) -> pd.DataFrame:
    """Money figures with round-off read as 0: a variable HiGHS leaves at -1e-14 (within its
    tolerances) must not show as a negative cost."""
    return table.mask(table.abs() <= noise_level(table.to_numpy().ravel()), 0.0)


def _capacity_by_period(
    pm: PlanningModel, fleet: dict[Index, float], run: dict[Index, float], running: dict[Index, float]
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
                idle_chips(fleet.get((c, s, n), 0.0), running.get((c, s, t, w), 0.0)) * chip.pflops / 1000.0
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
