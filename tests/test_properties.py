"""Properties that hold for every case, checked on tiny random cases (hypothesis).

Cases have 2-3 periods, 1-2 sites, 1-2 chips, a contract per site (sometimes existing, with
take-or-pay, lead time, term) and 1-3 scenarios. Every model is solved to a zero MIP gap, so
comparisons between optima only need the solver's feasibility tolerance.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, cast

import pytest
from factory import chip, contract, make_case, site, solve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.case import Case
from planner.config import Policy
from planner.loader import load_case
from planner.plan import PlanResult
from planner.risk import PERIOD_METRICS, alpha_text
from planner.stranded import SUMMED_OVER_PERIODS

PROPERTY = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
TOL = 1e-5


def close(value: object) -> object:
    return pytest.approx(value, rel=TOL, abs=TOL)


def leq(a: float, b: float) -> bool:
    """``a <= b`` up to the solver's tolerance."""
    return a <= b + TOL * max(1.0, abs(b))


@st.composite
def cases(draw: st.DrawFn, min_scenarios: int = 1, max_scenarios: int = 3) -> Case:
    one = draw
    periods = {f"p{i + 1}": one(st.sampled_from([0.5, 1.0, 2.0])) for i in range(one(st.integers(2, 3)))}
    names = list(periods)
    sites = [
        site(
            f"s{i + 1}",
            max_mw=one(st.sampled_from([10.0, 20.0, 40.0])),
            module_mw=one(st.sampled_from([2.0, 5.0, 10.0])),
            existing_mw=one(st.sampled_from([0.0, 0.0, 3.0])),
            capex_musd_per_mw=one(st.sampled_from([0.5, 1.0, 2.0])),
            fixed_om_musd_per_mw_year=one(st.sampled_from([0.0, 0.05])),
            lead_periods=one(st.integers(0, 1)),
            earliest_period=one(st.sampled_from([None, *names[:2]])),
            pue=one(st.sampled_from([1.0, 1.2])),
            life_years=one(st.sampled_from([2.0, 5.0, 20.0])),
        )
        for i in range(one(st.integers(1, 2)))
    ]
    chips = [
        chip(
            f"c{i + 1}",
            pflops=one(st.sampled_from([500.0, 1000.0, 2000.0])),
            kw=one(st.sampled_from([500.0, 1000.0])),
            capex_usd=one(st.sampled_from([2e5, 1e6])),
            opex_usd_per_year=one(st.sampled_from([0.0, 1e5])),
            life_years=one(st.sampled_from([1.0, 2.0, 4.0])),
            first_period=one(st.sampled_from([None, names[1]])) if i else None,
        )
        for i in range(one(st.integers(1, 2)))
    ]
    contracts = [
        contract(
            f"q{s['site']}",
            s["site"],
            existing=one(st.booleans()),
            mw=one(st.sampled_from([10.0, 30.0])),
            firm_fraction=one(st.sampled_from([0.5, 1.0])),
            availability=one(st.sampled_from([0.6, 1.0])),
            price_usd_per_mwh=one(st.sampled_from([0.0, 50.0])),
            capacity_cost_musd_per_mw_year=one(st.sampled_from([0.0, 0.05])),
            capex_musd_per_mw=one(st.sampled_from([0.0, 0.5])),
            lead_periods=one(st.integers(0, 1)),
            term_periods=one(st.sampled_from([None, 2])),
            min_take=one(st.sampled_from([0.0, 0.3])),
            divisible=one(st.booleans()),
            life_years=one(st.sampled_from([2.0, 25.0])),
        )
        for s in sites
    ]
    workloads = ["train", "infer"][: one(st.integers(1, 2))]
    n_scenarios = one(st.integers(min_scenarios, max_scenarios))
    weights = [one(st.integers(1, 3)) for _ in range(n_scenarios)]
    demand = {
        f"w{j + 1}": {t: {k: float(one(st.integers(0, 15))) for k in workloads} for t in names}
        for j in range(n_scenarios)
    }
    return make_case(
        demand,
        periods,
        sites,
        chips,
        contracts,
        probabilities={w: weight / sum(weights) for w, weight in zip(demand, weights, strict=True)},
        discount_rate=one(st.sampled_from([0.0, 0.08])),
        penalty=one(st.sampled_from([2.0, 10.0, 50.0])),
        hours_per_year=1000.0,
    )


@PROPERTY
@given(case=cases(), data=st.data())
def test_more_budget_never_costs_more(case: Case, data: st.DataObject) -> None:
    limits = {t: data.draw(st.sampled_from([0.0, 5.0, 20.0]), label=t) for t in case.periods}
    extra = {t: data.draw(st.sampled_from([0.0, 10.0]), label=f"extra {t}") for t in case.periods}
    tight = solve(dataclasses.replace(case, budget_musd=limits)).objective_musd
    loose = solve(dataclasses.replace(case, budget_musd={t: v + extra[t] for t, v in limits.items()}))
    unlimited = solve(case)
    assert leq(loose.objective_musd, tight)
    assert leq(unlimited.objective_musd, loose.objective_musd)


@PROPERTY
@given(case=cases(), data=st.data())
def test_duplicating_a_scenario_changes_nothing(case: Case, data: st.DataObject) -> None:
    """Splitting a scenario into two with the same demand and half its probability each."""
    w = data.draw(st.sampled_from(case.scenarios), label="scenario")
    weight = data.draw(st.sampled_from([0.0, 0.5]), label="cvar weight")
    demand = dict(case.demand_eflops)
    demand.update({(f"{w}_twin", t, k): v for (s, t, k), v in case.demand_eflops.items() if s == w})
    probability = dict(case.scenario_probability)
    probability[w] /= 2
    probability[f"{w}_twin"] = probability[w]
    twin = case.with_demand(demand, probability)
    assert solve(twin, alpha=0.5, weight=weight).objective_musd == close(
        solve(case, alpha=0.5, weight=weight).objective_musd
    )


@PROPERTY
@given(case=cases())
def test_relaxation_is_a_lower_bound(case: Case) -> None:
    assert leq(solve(case, integer=False).objective_musd, solve(case).objective_musd)


@PROPERTY
@given(case=cases())
def test_cost_breakdown_salvage_and_fit(case: Case) -> None:
    """Risk neutral: the expected total of the breakdown is the objective; per scenario salvage
    is within [0, capex]; the installed IT MW (recomputed from purchases with the spec's life
    rule) fits in the built MW (recomputed from builds with lead times) everywhere."""
    result = solve(case)
    costs = result.results.cost_by_scenario
    assert costs.loc["expected", "total"] == close(result.objective_musd)
    assert result.expected_cost_musd == close(result.objective_musd)
    capex = costs[["buildings_capex", "chips_capex", "power_capex"]].sum(axis=1)
    assert (costs["salvage"] >= -TOL).all()
    assert (costs["salvage"] <= capex + TOL).all()
    for (w, s, t), installed in installed_it_mw(result).items():
        assert leq(installed, built_it_mw(result, w, s, t)), (w, s, t)


OVER_SERVICE = Path(__file__).parent / "cases" / "over_service"
"""A random case on which HiGHS returns plans that run more chips than demand needs (prepaid
take-or-pay energy), under every policy."""


@PROPERTY
@given(case=cases(), policy=st.sampled_from(["phased", "all-at-once", "plan-on-mean"]))
def test_the_dispatch_serves_demand_and_no_more(case: Case, policy: Policy) -> None:
    """Served plus unmet is the demand of every scenario, period and workload: chips that run beyond
    demand (free where energy is free or prepaid under take-or-pay) are reported idle."""
    assert_served_is_demand(case, policy)


@pytest.mark.parametrize("policy", ["phased", "all-at-once", "plan-on-mean"])
def test_the_dispatch_serves_demand_and_no_more_where_highs_runs_more(policy: Policy) -> None:
    assert_served_is_demand(load_case(OVER_SERVICE)[0], policy)


def assert_served_is_demand(case: Case, policy: Policy) -> None:
    results = solve(case, policy).results
    keys = ["scenario", "period", "workload"]
    served = results.dispatch.groupby(keys)["eflops"].sum()
    unmet = results.unmet.set_index(keys)["eflops"]
    for (w, t, k), demand in case.demand_eflops.items():
        assert served.get((w, t, k), 0.0) + unmet.get((w, t, k), 0.0) == close(demand), (w, t, k)


@PROPERTY
@given(case=cases(min_scenarios=2), alpha=st.sampled_from([0.5, 0.8]),
       weight=st.sampled_from([0.5, 1.0]))
def test_cvar_term(case: Case, alpha: float, weight: float) -> None:
    """objective = E + weight * CVaR with CVaR >= E (costs are non-negative), and the CVaR the
    model optimised equals the one the risk table recomputes from the scenario costs."""
    result = solve(case, alpha=alpha, weight=weight)
    assert leq(result.expected_cost_musd, result.objective_musd)
    assert leq(result.expected_cost_musd, result.cvar_musd)
    assert result.objective_musd == close(result.expected_cost_musd + weight * result.cvar_musd)
    assert result.results.risk.loc["cost_musd", f"cvar_{alpha_text(alpha)}"] == close(result.cvar_musd)
    assert result.results.cost_by_scenario.loc["expected", "total"] == close(result.expected_cost_musd)
    assert_risk_tables_are_consistent(result, alpha)


def assert_risk_tables_are_consistent(result: PlanResult, alpha: float) -> None:
    """Stranded figures are >= 0; for every risk row expected <= CVaR <= worst; the per-period risk
    rows are those of the per-period stranded figures over scenarios; each scenario's peak and sum
    over periods are those of its per-period figures, and the risk table's worst is their maximum."""
    res = result.results
    stranded = res.stranded_by_period
    assert (stranded.drop(columns=["scenario", "period"]) >= 0).all().all()
    cvar_column = f"cvar_{alpha_text(alpha)}"
    for table in (res.risk, res.risk_by_period):
        for _, row in table.iterrows():
            assert leq(row["expected"], row[cvar_column]) and leq(row[cvar_column], row["worst"]), row
    worst = stranded.groupby("period")[list(PERIOD_METRICS)].max()
    by_period = res.risk_by_period.set_index(["period", "metric"])["worst"]
    # The labels below are ids (str); pandas-stubs types them Hashable, which no lookup takes.
    for period, row in worst.iterrows():
        for metric, value in row.items():
            assert by_period[(cast(str, period), cast(str, metric))] == close(value), (period, metric)
    per_scenario = stranded.groupby("scenario")
    for figure in SUMMED_OVER_PERIODS:
        for name, over_periods in ((f"{figure}_peak", "max"), (f"{figure}_period_sum", "sum")):
            recomputed = per_scenario[figure].agg(over_periods)
            for w, value in recomputed.items():
                assert res.stranded_by_scenario.loc[cast(str, w), name] == close(value), (w, name)
            assert res.risk.loc[name, "worst"] == close(recomputed.max()), name


@PROPERTY
@given(case=cases())
def test_phased_is_cheapest_policy(case: Case) -> None:
    """all-at-once and plan-on-mean only restrict phased's long-lead decisions."""
    phased = solve(case, "phased").objective_musd
    assert leq(phased, solve(case, "all-at-once").objective_musd)
    assert leq(phased, solve(case, "plan-on-mean").objective_musd)


def _with_rows(case: Case, table: str, **factors: float) -> Case:
    """``case`` with each ``column=factor`` of ``table`` (sites, chips or contracts) multiplied."""
    rows = getattr(case, table)
    scaled = {
        key: row.model_copy(update={column: getattr(row, column) * f for column, f in factors.items()})
        for key, row in rows.items()
    }
    changes: dict[str, Any] = {table: scaled}  # the field named by ``table``
    return dataclasses.replace(case, **changes)


@PROPERTY
@given(case=cases(), factor=st.sampled_from([1.5, 2.0]), policy=st.sampled_from(["phased", "all-at-once"]))
def test_more_demand_never_costs_less(case: Case, factor: float, policy: Policy) -> None:
    """Every plan for the larger demand serves the smaller one too (``unmet`` only shrinks).
    Scaling every scenario alike keeps equal demands equal, so the tree is the same."""
    more = {key: eflops * factor for key, eflops in case.demand_eflops.items()}
    larger = case.with_demand(more, case.scenario_probability)
    assert leq(solve(case, policy).objective_musd, solve(larger, policy).objective_musd)


@PROPERTY
@given(case=cases(), factor=st.sampled_from([0.0, 0.5]), data=st.data())
def test_cheaper_capex_never_costs_more(case: Case, factor: float, data: st.DataObject) -> None:
    """Net of salvage a unit of capex weighs ``d[t] - (1+r)^-Y * remaining share >= 0``, and a
    budget only loosens: lower capex never raises the optimum, whatever the budget."""
    limits = {t: data.draw(st.sampled_from([5.0, 20.0, 1e6]), label=t) for t in case.periods}
    budgeted = dataclasses.replace(case, budget_musd=limits)
    cheaper = _with_rows(budgeted, "sites", capex_musd_per_mw=factor)
    cheaper = _with_rows(cheaper, "chips", capex_usd=factor)
    cheaper = _with_rows(cheaper, "contracts", capex_musd_per_mw=factor)
    assert leq(solve(cheaper).objective_musd, solve(budgeted).objective_musd)


@PROPERTY
@given(case=cases(), factor=st.sampled_from([2.0, 10.0]))
def test_higher_penalty_never_costs_less(case: Case, factor: float) -> None:
    penalty = case.parameters.unmet_penalty_musd_per_eflops_year * factor
    parameters = case.parameters.model_copy(update={"unmet_penalty_musd_per_eflops_year": penalty})
    stricter = dataclasses.replace(case, parameters=parameters)
    assert leq(solve(case).objective_musd, solve(stricter).objective_musd)


@PROPERTY
@given(case=cases(), data=st.data())
def test_more_room_never_costs_more(case: Case, data: st.DataObject) -> None:
    """A larger site cap and a larger chip supply only add plans."""
    supply = {(c, t): data.draw(st.sampled_from([0.0, 3.0, 10.0]), label=f"{c} {t}")
              for c in case.chips for t in case.periods}
    tight = dataclasses.replace(case, chip_supply_units=supply)
    roomier = _with_rows(
        dataclasses.replace(tight, chip_supply_units={key: units + 5.0 for key, units in supply.items()}),
        "sites",
        max_mw=2.0,
    )
    assert leq(solve(roomier).objective_musd, solve(tight).objective_musd)


@PROPERTY
@given(case=cases(min_scenarios=2), policy=st.sampled_from(["phased", "all-at-once"]))
def test_listing_order_changes_nothing(case: Case, policy: Policy) -> None:
    """Sites, chips, contracts, workloads and scenarios listed the other way round (only periods
    have an order): the same optimum. Not the same stranded figures: the order can pick another
    of several optimal plans (e.g. which of two alike sites is built). Not plan-on-mean either: its
    first solve's ties are broken by the solver, and its cost is that of the plan it fixes."""
    reversed_case = dataclasses.replace(
        case,
        scenario_probability=dict(reversed(case.scenario_probability.items())),
        workloads=tuple(reversed(case.workloads)),
        demand_eflops=dict(reversed(case.demand_eflops.items())),
        sites=dict(reversed(case.sites.items())),
        chips=dict(reversed(case.chips.items())),
        contracts=dict(reversed(case.contracts.items())),
    )
    assert solve(reversed_case, policy).objective_musd == close(solve(case, policy).objective_musd)


# Independent recomputation of installed and built IT MW from the decisions ---------------------


def _starts(case: Case) -> list[float]:
    starts, elapsed = [], 0.0
    for years in case.period_years.values():
        starts.append(elapsed)
        elapsed += years
    return starts


def installed_it_mw(result: PlanResult) -> dict[tuple[str, str, int], float]:
    """(scenario, site, t) -> sum over chips bought at t' <= t with y[t] - y[t'] < life of kw."""
    case, m, sets = result.case, result.planning_model.model, result.planning_model.sets
    y = _starts(case)
    out = {}
    for w in case.scenarios:
        for s in case.sites:
            for t in range(len(y)):
                total = 0.0
                for t0 in range(t + 1):
                    n0 = sets.info_tree.node_of[(w, t0)]
                    for c, row in case.chips.items():
                        if (c, s, n0) in m.buy and y[t] - y[t0] < row.life_years:
                            total += m.buy[c, s, n0].value * row.kw / 1000.0
                out[(w, s, t)] = total
    return out


def built_it_mw(result: PlanResult, w: str, s: str, t: int) -> float:
    """existing_mw + module_mw * modules started at t' with t' + lead <= t."""
    case, m, sets = result.case, result.planning_model.model, result.planning_model.sets
    row = case.sites[s]
    modules = 0.0
    for t0 in range(t - row.lead_periods + 1):
        b = sets.long_lead_node[sets.info_tree.node_of[(w, t0)]]
        if (s, b) in m.build:
            modules += m.build[s, b].value
    return row.existing_mw + row.module_mw * modules
