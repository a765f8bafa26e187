"""Build tiny :class:`Case` objects in Python, solve them, and read decisions back.

Defaults keep the hand arithmetic trivial: every cost is zero unless a test sets it; one chip
``c1`` of 1000 PFLOPS and 1000 kW, so one chip serves 1 EFLOPS and draws 1 IT MW; one site ``s1``
with free 10 MW modules and PUE 1; one free ``existing`` contract ``q1`` of 1000 MW at ``s1``;
``hours_per_year = 1000``; discount rate 0; unmet penalty 1000 musd per EFLOPS-year. Every
``life_years`` left unset is the horizon length ``Y``, so a decision taken in the first period has
no salvage value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, cast

import pandas as pd
import pyomo.environ as pyo

from planner.case import Case
from planner.config import CvarSettings, ModelConfig, Policy, SolverSettings
from planner.plan import PlanResult, solve_case
from planner.schema import ChipRow, ContractRow, ParameterValues, SiteRow

WORKLOAD = "w"
TINY = 1e-7

Demand = Mapping[str, object]
"""``{period: eflops}``, ``{period: {workload: eflops}}``, or either of them per scenario:
``{scenario: {period: eflops | {workload: eflops}}}``."""


def site(name: str = "s1", **fields: object) -> dict:
    return {"site": name, "region": "r", "max_mw": 1000.0, "module_mw": 10.0,
            "capex_musd_per_mw": 0.0, "pue": 1.0, **fields}


def chip(name: str = "c1", **fields: object) -> dict:
    return {"chip": name, "pflops": 1000.0, "kw": 1000.0, "capex_usd": 0.0, **fields}


def contract(name: str = "q1", site: str = "s1", **fields: object) -> dict:
    return {"contract": name, "site": site, "kind": "grid", "mw": 1000.0, "price_usd_per_mwh": 0.0,
            "existing": True, **fields}


def make_case(
    demand: Demand,
    periods: Mapping[str, float] | None = None,
    sites: Iterable[dict] = (),
    chips: Iterable[dict] = (),
    contracts: Iterable[dict] | None = None,
    *,
    probabilities: Mapping[str, float] | None = None,
    discount_rate: float = 0.0,
    penalty: float = 1000.0,
    hours_per_year: float = 1000.0,
    load_factor: float = 1.0,
    chip_performance: Mapping[tuple[str, str], float] | None = None,
    chip_supply: Mapping[tuple[str, str], float] | None = None,
    budget: Mapping[str, float] | None = None,
) -> Case:
    """A validated case. ``periods`` defaults to ``{"p1": 1.0}``; empty ``sites`` / ``chips`` mean
    one default row; ``contracts=None`` means the default free existing contract at each site.
    Scenarios are equally likely unless ``probabilities`` is given."""
    periods = dict(periods or {"p1": 1.0})
    horizon = sum(periods.values())
    # Keys that are not periods are scenarios, each with its own {period: ...}.
    by_scenario = cast(Mapping[str, Demand], demand if set(demand) - set(periods) else {"base": demand})
    demand_eflops: dict[tuple[str, str, str], float] = {}
    workloads: dict[str, None] = {}
    for w, per_period in by_scenario.items():
        for t, value in per_period.items():
            per_workload = cast(  # eflops, or {workload: eflops}
                Mapping[str, float], value if isinstance(value, Mapping) else {WORKLOAD: value}
            )
            for k, eflops in per_workload.items():
                demand_eflops[(w, t, k)] = float(eflops)
                workloads[k] = None
    if probabilities is None:
        probabilities = {w: 1.0 / len(by_scenario) for w in by_scenario}
    site_rows = [SiteRow(**{"life_years": horizon, **row}) for row in (list(sites) or [site()])]
    if contracts is None:
        contracts = [contract(f"q_{row.site}", row.site) for row in site_rows]
    return Case(
        name="test",
        parameters=ParameterValues(
            discount_rate=discount_rate,
            unmet_penalty_musd_per_eflops_year=penalty,
            hours_per_year=hours_per_year,
            load_factor=load_factor,
        ),
        period_years=periods,
        scenario_probability=dict(probabilities),
        workloads=tuple(workloads),
        demand_eflops=demand_eflops,
        sites={row.site: row for row in site_rows},
        chips={
            row["chip"]: ChipRow(**{"life_years": horizon, **row}) for row in (list(chips) or [chip()])
        },
        contracts={row["contract"]: ContractRow(**{"life_years": horizon, **row}) for row in contracts},
        chip_performance_pflops=dict(chip_performance or {}),
        chip_supply_units=dict(chip_supply or {}),
        budget_musd=dict(budget or {}),
    )


def config(
    policy: Policy = "phased",
    integer: bool = True,
    alpha: float = 0.9,
    weight: float = 0.0,
    scale: Literal["auto", "on", "off"] = "auto",
    unpowered_chips: bool = False,
) -> ModelConfig:
    """A model solved to proven optimality (MIP gap 0), so objectives can be compared exactly."""
    return ModelConfig(
        name=policy,
        policy=policy,
        integer=integer,
        unpowered_chips=unpowered_chips,
        cvar=CvarSettings(alpha=alpha, weight=weight),
        solver=SolverSettings(mip_gap=0.0, threads=1, scale=scale),
    )


def solve(case: Case, policy: Policy = "phased", **settings: Any) -> PlanResult:
    result = solve_case(case, config(policy, **settings))
    assert result.status == "optimal", result.status
    return result


# Decisions along one scenario's path, keyed by ids and period names, zeros left out.


def _path(result: PlanResult, scenario: str | None) -> list[tuple[str, int, int]]:
    """(period, info node, long-lead node) of each period on the scenario's path."""
    case, sets = result.case, result.planning_model.sets
    w = scenario or case.scenarios[0]
    out = []
    for t, period in enumerate(case.periods):
        n = sets.info_tree.node_of[(w, t)]
        out.append((period, n, sets.long_lead_node[n]))
    return out


def _nonzero(values: dict) -> dict:
    return {key: value for key, value in values.items() if abs(value) > TINY}


def built(result: PlanResult, scenario: str | None = None) -> dict[tuple[str, str], float]:
    """(site, period) -> modules started."""
    m = result.planning_model.model
    return _nonzero({(s, t): pyo.value(m.build[s, b]) for t, _n, b in _path(result, scenario)
                     for s in result.case.sites if (s, b) in m.build})


def bought(result: PlanResult, scenario: str | None = None) -> dict[tuple[str, str, str], float]:
    """(chip, site, period) -> chips bought."""
    m = result.planning_model.model
    return _nonzero({(c, s, t): pyo.value(m.buy[c, s, n]) for t, n, _b in _path(result, scenario)
                     for c in result.case.chips for s in result.case.sites if (c, s, n) in m.buy})


def signed(result: PlanResult, scenario: str | None = None) -> dict[tuple[str, str], float]:
    """(contract, period) -> share signed."""
    m = result.planning_model.model
    return _nonzero({(q, t): pyo.value(m.sign[q, b]) for t, _n, b in _path(result, scenario)
                     for q in result.case.contracts if (q, b) in m.sign})


def unmet(result: PlanResult, scenario: str | None = None) -> dict[tuple[str, str], float]:
    """(workload, period) -> EFLOPS not served."""
    m, case = result.planning_model.model, result.case
    w = scenario or case.scenarios[0]
    return _nonzero({(k, p): pyo.value(m.unmet[k, t, w]) for t, p in enumerate(case.periods)
                     for k in case.workloads})


def energy(result: PlanResult, scenario: str | None = None) -> dict[tuple[str, str], float]:
    """(contract, period) -> MWh taken."""
    m, case = result.planning_model.model, result.case
    w = scenario or case.scenarios[0]
    return _nonzero({(q, p): pyo.value(m.energy[q, t, w]) for t, p in enumerate(case.periods)
                     for q in case.contracts if (q, t, w) in m.energy})


def breakdown(result: PlanResult, scenario: str = "expected") -> dict[str, float]:
    """Cost components (musd) of one scenario, or their expectation."""
    row = cast("pd.Series[float]", result.results.cost_by_scenario.loc[scenario])  # one row
    return {str(key): float(value) for key, value in row.items() if key != "probability"}
