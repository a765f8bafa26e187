"""Shadow prices (``planner.duals``) against finite differences of the LP's objective.

The case: one site, one chip, one existing contract, two periods (p1 1 year, p2 2 years), two
equally likely scenarios that share p1 (5 EFLOPS of training) and part in p2 (high 10, low 6).
A duals table is in money of the period per unit-year, so a perturbation ``delta`` of a right-hand
side moves the (expected, discounted) objective by ``delta * sum_t value[t] * d[t] * years[t]``.
Each case is chosen so that the LP's basis does not change under the perturbation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, cast

import pandas as pd
import pyomo.environ as pyo
import pytest
from conftest import CaseWriter, Cli, ExactConfig
from factory import built, chip, make_case, site, solve
from rich.console import Console

from planner.duals import render_duals, shadow_prices
from planner.loader import load_case
from planner.plan import PlanResult, solve_case

TEMPLATE = {
    "parameters.csv": "name,value\ndiscount_rate,0.08\nunmet_penalty_musd_per_eflops_year,300\n",
    "periods.csv": "period,years\np1,1\np2,2\n",
    "scenarios.csv": "scenario,probability\nhigh,0.5\nlow,0.5\n",
    "demand.csv": (
        "scenario,period,workload,eflops\n"
        "high,p1,training,{d_p1}\nhigh,p2,training,{d_high}\n"
        "low,p1,training,{d_p1}\nlow,p2,training,{d_low}\n"
    ),
    "sites.csv": (
        "site,region,max_mw,module_mw,existing_mw,capex_musd_per_mw,pue,life_years\n"
        "north,us,100,5,{existing_mw},10,1.2,20\n"
    ),
    "chips.csv": "chip,pflops,kw,capex_usd,opex_usd_per_year,life_years\ngpu,2,1.2,40000,1000,4\n",
    "power.csv": (
        "contract,site,kind,mw,firm_fraction,price_usd_per_mwh,existing\n"
        "grid_n,north,grid,{mw},{firm_fraction},60,true\n{extra_contract}"
    ),
}
# Ample shell (50 MW) and firm power (80 MW): only chips and energy are bought.
AMPLE: dict[str, Any] = {  # numbers, and the text of an extra power.csv row
    "d_p1": 5, "d_high": 10, "d_low": 6, "existing_mw": 50, "mw": 80, "firm_fraction": 1, "extra_contract": ""
}
DELTA = 1e-3
PERIOD_MONEY = {"p1": 1.0, "p2": 2 / 1.08}  # d[t] * years[t]


class SolveLp(Protocol):
    """``solve_lp``."""

    def __call__(self, **values: object) -> PlanResult: ...


@pytest.fixture(
    params=[("off", False), ("on", False), ("off", True), ("on", True)],
    ids=["as-built", "rescaled", "as-built-solved-with-duals", "rescaled-solved-with-duals"],
)
def solve_lp(
    request: pytest.FixtureRequest, tmp_path: Path, write_case: CaseWriter, exact_config: ExactConfig
) -> SolveLp:
    """``solve_lp(**values) -> PlanResult``: the template with ``values`` over AMPLE, as an LP,
    passed to HiGHS as built and rescaled (``planner.scaling``: duals must be mapped back), its
    duals read by a re-solve or, as ``solve --relax --duals`` does, kept from the solve itself."""
    count = [0]

    def solve(**values: object) -> PlanResult:
        fields = {**AMPLE, **values}
        count[0] += 1
        files = {name: text.format(**fields) for name, text in TEMPLATE.items()}
        case, _ = load_case(write_case(tmp_path / f"case{count[0]}", base=files))
        config = exact_config(integer=False)
        scale, with_duals = request.param
        solver = config.solver.model_copy(update={"scale": scale})
        result = solve_case(case, config.model_copy(update={"solver": solver}), with_duals=with_duals)
        assert result.status == "optimal"
        assert bool(result.outcome.row_duals) == with_duals
        return result

    return solve


def value_of(table: pd.DataFrame, column: str, **keys: str) -> float:
    rows = table
    for key, wanted in keys.items():
        rows = rows[rows[key] == wanted]
    assert len(rows) == 1, (keys, table)
    return float(rows[column].iloc[0])


def discounted_total(table: pd.DataFrame, site: str) -> float:
    """``sum_t value[s,t] * d[t] * years[t]``: what one more MW in every period is worth today."""
    rows = table[table["site"] == site]
    records = cast("Iterable[Any]", rows.itertuples())  # pandas-stubs: each field any scalar
    return float(sum(r.musd_per_mw_year * PERIOD_MONEY[r.period] for r in records))


# --------------------------------------------------------------------------------------------
# demand
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["p1", "p2"])
def test_demand_marginal_matches_finite_difference(solve_lp: SolveLp, period: str) -> None:
    base = solve_lp()
    reported = value_of(shadow_prices(base)["demand_marginal"], "expected_musd_per_eflops_year",
                        period=period, workload="training")
    if period == "p1":
        bumped = solve_lp(d_p1=AMPLE["d_p1"] + DELTA)  # in both scenarios: the tree is unchanged
    else:
        bumped = solve_lp(d_high=AMPLE["d_high"] + DELTA, d_low=AMPLE["d_low"] + DELTA)
    finite_difference = (bumped.objective_musd - base.objective_musd) / DELTA / PERIOD_MONEY[period]
    assert reported > 0
    assert reported == pytest.approx(finite_difference, rel=1e-6)


def test_demand_marginal_matches_hand_computation(solve_lp: SolveLp) -> None:
    """p2's chips are bought at the node the two scenarios share in p2 (decided on p1's demand),
    so one more EFLOPS in both scenarios costs, per EFLOPS (500 chips, 0.6 IT MW, 0.72 MW drawn),
    with d2 = 1/1.08 and horizon end discount 1.08^-3:
    capex 20 d2, salvage 20 * (1 - (3 - 1) / 4) * 1.08^-3, opex 0.5 musd/yr * 2 years * d2,
    energy 0.72 MW * 8760 h * 2 years * 60 $/MWh = 0.75686 musd * d2; in money of p2 per
    EFLOPS-year: divided by d2 * 2 (= 6.5917)."""
    table = shadow_prices(solve_lp())["demand_marginal"]
    d2 = 1 / 1.08
    total = 20 * d2 - 10 * 1.08**-3 + 0.5 * 2 * d2 + 0.72 * 8760 * 2 * 60 / 1e6 * d2
    reported = value_of(table, "expected_musd_per_eflops_year", period="p2", workload="training")
    assert reported == pytest.approx(total / (2 * d2), rel=1e-7)


def test_demand_marginal_per_scenario_matches_finite_difference(solve_lp: SolveLp) -> None:
    """``scenario_<w>`` is conditional on the scenario: one more EFLOPS in `high` only moves the
    objective by p[high] * value. (In p2 the scenarios are already apart, so the tree holds.)"""
    base = solve_lp()
    table = shadow_prices(base)["demand_marginal"]
    bumped = solve_lp(d_high=AMPLE["d_high"] + DELTA)
    finite_difference = (bumped.objective_musd - base.objective_musd) / DELTA / PERIOD_MONEY["p2"] / 0.5
    assert value_of(table, "scenario_high", period="p2", workload="training") == pytest.approx(
        finite_difference, rel=1e-6
    )
    # and the expectation of the conditional values is the expected value
    row = table[table["period"] == "p2"].iloc[0]
    assert row["expected_musd_per_eflops_year"] == pytest.approx(
        0.5 * row["scenario_high"] + 0.5 * row["scenario_low"], rel=1e-9
    )


def test_unserved_demand_is_worth_the_penalty(solve_lp: SolveLp) -> None:
    """With 3 firm MW (10 MW at firm fraction 0.3) only 2.5 IT MW of chips fit: demand is short
    in every period and scenario, so one more EFLOPS-year costs the unmet penalty, 300."""
    result = solve_lp(mw=10, firm_fraction=0.3)
    assert not result.results.unmet.empty
    table = shadow_prices(result)["demand_marginal"]
    assert list(table["expected_musd_per_eflops_year"]) == pytest.approx([300.0, 300.0], rel=1e-9)


# --------------------------------------------------------------------------------------------
# site MW and firm MW
# --------------------------------------------------------------------------------------------


def test_slack_capacity_is_worth_nothing(solve_lp: SolveLp) -> None:
    tables = shadow_prices(solve_lp())
    assert tables["site_mw_value"]["musd_per_mw_year"].abs().max() < 1e-9
    assert tables["firm_mw_value"]["musd_per_mw_year"].abs().max() < 1e-9
    assert set(tables["site_mw_value"]["period"]) == {"p1", "p2"}


def test_every_site_and_period_has_a_value_even_where_no_chip_fits_yet() -> None:
    """The only chip can be bought from p2 on: the model has no shell or firm row in p1, and one
    more MW there is worth 0 (a table without p1 would leave a consumer's lookup empty)."""
    case = make_case({"p1": 0, "p2": 1}, {"p1": 1.0, "p2": 1.0}, sites=[site(), site("s2")],
                     chips=[chip(capex_usd=1e6, first_period="p2")])
    tables = shadow_prices(solve(case, integer=False))
    for name in ("site_mw_value", "firm_mw_value"):
        table = tables[name]
        keys = table[["site", "period"]].values.tolist()
        assert keys == [["s1", "p1"], ["s1", "p2"], ["s2", "p1"], ["s2", "p2"]]
        assert value_of(table, "musd_per_mw_year", site="s1", period="p1") == 0


def test_site_mw_value_matches_existing_mw_perturbation(solve_lp: SolveLp) -> None:
    """2 MW of existing shell against 3 IT MW of chips needed in p1: the shell binds (the rest is
    built), the site cap (100 MW) does not, and existing MW pay no O&M here."""
    base = solve_lp(existing_mw=2)
    table = shadow_prices(base)["site_mw_value"]
    assert table["musd_per_mw_year"].max() > 0
    bumped = solve_lp(existing_mw=2 + DELTA)
    saving = -(bumped.objective_musd - base.objective_musd) / DELTA
    assert saving > 0
    assert discounted_total(table, "north") == pytest.approx(saving, rel=1e-6)


@pytest.mark.parametrize("integer", [False, True], ids=["lp", "mip"])
def test_a_mw_where_none_is_built_yet_is_priced(
    write_case: CaseWriter, exact_config: ExactConfig, tmp_path: Path, integer: bool
) -> None:
    """No existing shell and a 1-period building lead: no chip fits in p1, so demand there is unmet
    at 300 $M per EFLOPS-year. One MW of shell in p1 would be worth that less the chips' cost;
    the MW is priced although the model needs no chip (nor row) there to find its plan (it was 0).
    At 0 MW the value of the shell has a kink (less than none is not possible), so the dual is a
    subgradient: at least what one more existing MW saves (492.70 $M here), and close to it
    (493.33)."""
    files = {name: text.format(**AMPLE) for name, text in TEMPLATE.items()}
    files["sites.csv"] = (
        "site,region,max_mw,module_mw,existing_mw,capex_musd_per_mw,pue,life_years,lead_periods\n"
        "north,us,100,5,{existing},10,1.2,20,1\n"
    )
    config = exact_config(integer=integer)

    def solve(existing: float) -> PlanResult:
        case_files = {**files, "sites.csv": files["sites.csv"].format(existing=existing)}
        case, _ = load_case(write_case(tmp_path / f"case-{existing}", base=case_files))
        return solve_case(case, config, with_duals=not integer)

    base = solve(0)
    table = shadow_prices(base)["site_mw_value"]
    assert value_of(table, "musd_per_mw_year", site="north", period="p1") > 100.0
    assert not table["unequipped"].any()  # firm power is there from p1: the shell alone is worth it
    if not integer:  # a MIP's integer modules make the difference quotient another question
        saving = -(solve(DELTA).objective_musd - base.objective_musd) / DELTA
        assert saving * (1 - 1e-9) <= discounted_total(table, "north") <= saving * 1.01


def test_a_site_with_neither_shell_nor_power_yet_is_marked(
    write_case: CaseWriter, exact_config: ExactConfig, tmp_path: Path
) -> None:
    """No existing shell, a grid contract to sign with a 1-period lead: in p1 neither IT MW nor
    firm power (nor energy) is there, and the rows that bind at 0 share the value of serving p1
    (here HiGHS puts it on the energy balance: both MW read 0). Such site-periods are marked in
    the table, and on the console when one is among the most valuable."""
    files = {name: text.format(**AMPLE) for name, text in TEMPLATE.items()}
    files["sites.csv"] = (
        "site,region,max_mw,module_mw,existing_mw,capex_musd_per_mw,pue,life_years,lead_periods\n"
        "north,us,100,5,0,10,1.2,20,1\n"
    )
    files["power.csv"] = (
        "contract,site,kind,mw,firm_fraction,price_usd_per_mwh,existing,lead_periods,divisible\n"
        "grid_n,north,grid,80,1,60,false,1,true\n"
    )
    case, _ = load_case(write_case(tmp_path / "bare", base=files))
    tables = shadow_prices(solve_case(case, exact_config(integer=False), with_duals=True))
    marked = tables["site_mw_value"].set_index("period")["unequipped"]
    assert bool(marked["p1"]) and not bool(marked["p2"])
    shown = {**tables, "site_mw_value": tables["site_mw_value"].assign(musd_per_mw_year=[490.0, 1.7])}
    console = Console(record=True, width=300)
    render_duals(shown, console)
    text = console.export_text()
    assert "north p1: 490.000*, north p2: 1.700" in text
    assert "* neither IT MW nor firm power there yet in the plan" in text


@pytest.mark.parametrize("how", ["firm_fraction", "extra_existing_contract"])
def test_firm_mw_value_matches_perturbation(solve_lp: SolveLp, how: str) -> None:
    """3 firm MW bind (0.3 of a 10 MW existing contract; PUE 1.2, so 2.5 IT MW of chips), demand
    is short; one more firm MW in every period, by a higher firm fraction or by a tiny extra
    existing contract at the same energy price, saves what the table says."""
    base = solve_lp(mw=10, firm_fraction=0.3)
    table = shadow_prices(base)["firm_mw_value"]
    assert table["musd_per_mw_year"].max() > 0
    if how == "firm_fraction":
        bumped = solve_lp(mw=10, firm_fraction=0.3 + DELTA / 10)
    else:
        bumped = solve_lp(mw=10, firm_fraction=0.3, extra_contract=f"tiny,north,grid,{DELTA},1,60,true\n")
    saving = -(bumped.objective_musd - base.objective_musd) / DELTA
    assert saving > 0
    assert discounted_total(table, "north") == pytest.approx(saving, rel=1e-6)


# --------------------------------------------------------------------------------------------
# MIP (integers fixed) and the command line
# --------------------------------------------------------------------------------------------


def test_an_lp_solved_with_duals_is_not_solved_again(
    tiny_case_dir: Path, exact_config: ExactConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``solve --relax --duals`` solved the LP twice: once for the plan, once for its duals."""
    case, _ = load_case(tiny_case_dir)
    resolved = shadow_prices(solve_case(case, exact_config(integer=False)))
    result = solve_case(case, exact_config(integer=False), with_duals=True)
    monkeypatch.setattr("planner.duals.solve_model", lambda *args, **kwargs: pytest.fail("solved again"))
    kept = shadow_prices(result)
    for name, table in resolved.items():
        pd.testing.assert_frame_equal(kept[name], table, rtol=1e-7, atol=1e-9)


def test_mip_duals_fix_integers_only_for_the_dual_solve(
    tiny_case_dir: Path, exact_config: ExactConfig
) -> None:
    case, _ = load_case(tiny_case_dir)
    result = solve_case(case, exact_config())
    m = result.planning_model.model
    values = {var.name: var.value for var in m.component_data_objects(pyo.Var)}
    tables = shadow_prices(result)
    assert {var.name: var.value for var in m.component_data_objects(pyo.Var)} == values  # put back
    demand = tables["demand_marginal"]
    assert len(demand) == len(case.periods) * len(case.workloads)
    assert {f"scenario_{w}" for w in case.scenarios} <= set(demand.columns)
    assert demand["expected_musd_per_eflops_year"].notna().all()
    m = result.planning_model.model
    integers = [v for v in m.component_data_objects(pyo.Var) if v.is_integer() or v.is_binary()]
    assert integers and not any(v.fixed for v in integers)


def test_solve_duals_writes_tables_and_prints_summary(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An LP's duals come with its solve: no second solve for them."""
    monkeypatch.setattr("planner.duals.solve_model", lambda *args, **kwargs: pytest.fail("solved again"))
    out = tmp_path / "run"
    result = cli("solve", tiny_case_dir, "--relax", "--duals", "--out", out)
    assert result.exit_code == 0, result.output
    assert "Shadow prices" in result.stdout
    assert "firm power MW" in result.stdout and "built IT MW" in result.stdout
    for name in ("demand_marginal", "site_mw_value", "firm_mw_value"):
        assert (out / f"duals_{name}.csv").is_file(), name
    demand = pd.read_csv(out / "duals_demand_marginal.csv")
    assert list(demand.columns[:3]) == ["period", "workload", "expected_musd_per_eflops_year"]
    assert len(demand) == 3 * 2
    site = pd.read_csv(out / "duals_site_mw_value.csv")
    assert list(site.columns) == ["site", "period", "musd_per_mw_year", "unequipped"]


def test_solve_duals_on_the_mip_and_with_json(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = cli("solve", tiny_case_dir, "--duals", "--json", "--out", out)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["integer"] is True
    assert "Shadow prices" not in result.stdout
    for name in ("demand_marginal", "site_mw_value", "firm_mw_value"):
        assert (out / f"duals_{name}.csv").is_file(), name


def test_mip_duals_when_a_fixed_row_holds_only_within_tolerance() -> None:
    """Budget 9.99999995 in p1, where no chip can be bought: HiGHS accepts one 10-musd module
    within its feasibility tolerance. With the integers fixed for the duals that budget row has no
    free decision left, and Pyomo checks it exactly: it must be taken as met, and active again
    afterwards."""
    case = make_case(
        {"p1": 0, "p2": 10},
        periods={"p1": 1.0, "p2": 1.0},
        sites=[site(capex_musd_per_mw=1.0, lead_periods=1)],
        chips=[chip(first_period="p2")],
        budget={"p1": 9.99999995},
    )
    result = solve(case)
    assert built(result) == pytest.approx({("s1", "p1"): 1.0})
    assert not shadow_prices(result)["demand_marginal"].empty
    assert all(row.active for row in result.planning_model.model.budget.values())


@pytest.mark.parametrize("with_duals", [False, True], ids=["re-solved", "solved-with-duals"])
def test_unserved_demand_under_a_cvar_objective_adds_its_cvar_share(
    tmp_path: Path, write_case: CaseWriter, exact_config: ExactConfig, with_duals: bool
) -> None:
    """As above, demand is short everywhere, now under expected cost + 0.5 x CVaR_0.5: one more
    EFLOPS-year raises every scenario's cost by 300, so the expectation and the CVaR (the dearer
    scenario's cost) both by 300, and the objective by 1.5 x 300. The re-solve for duals must
    keep the model's CVaR term."""
    from planner.config import CvarSettings

    short = {**AMPLE, "mw": 10, "firm_fraction": 0.3}
    files = {name: text.format(**short) for name, text in TEMPLATE.items()}
    case, _ = load_case(write_case(tmp_path / "case", base=files))
    config = exact_config(integer=False).model_copy(update={"cvar": CvarSettings(alpha=0.5, weight=0.5)})
    result = solve_case(case, config, with_duals=with_duals)
    table = shadow_prices(result)["demand_marginal"]
    assert list(table["expected_musd_per_eflops_year"]) == pytest.approx([450.0, 450.0], rel=1e-9)


def test_plan_on_mean_duals_keep_the_mean_plan_fixed(
    tmp_path: Path, write_case: CaseWriter, exact_config: ExactConfig
) -> None:
    """Plan-on-mean builds for the mean demand (5, then 8 EFLOPS: 4.8 MW of shell, no module
    built beyond it, existing MW 0, lead 0). In p2 `high` (10 EFLOPS) the chips that fit serve 8,
    so one more EFLOPS there is unmet: worth the penalty, 300, in that scenario. A model with the
    shell free would build for it instead (far less)."""
    files = {name: text.format(**{**AMPLE, "existing_mw": 0}) for name, text in TEMPLATE.items()}
    case, _ = load_case(write_case(tmp_path / "case", base=files))
    result = solve_case(case, exact_config("plan-on-mean", integer=False))
    assert result.results.builds["mw"].sum() == pytest.approx(4.8, rel=1e-9)
    table = shadow_prices(result)["demand_marginal"]
    p2 = {"period": "p2", "workload": "training"}
    assert value_of(table, "scenario_high", **p2) == pytest.approx(300.0, rel=1e-9)
    assert value_of(table, "scenario_low", **p2) < 300.0


def test_a_shell_without_power_is_not_marked_unequipped(
    write_case: CaseWriter, exact_config: ExactConfig, tmp_path: Path
) -> None:
    """All-at-once builds the shell in p1 and it stands through p3, where the only (existing)
    contract has ended: p3 has IT MW built but no firm power, so it is not "neither IT MW nor firm
    power". (Built MW are read at each period's long-lead node: all-at-once has one per period for
    all scenarios, where the scenarios, apart after p1, have a node each.)"""
    files = {name: text.format(**{**AMPLE, "existing_mw": 0}) for name, text in TEMPLATE.items()}
    files["periods.csv"] = "period,years\np1,1\np2,1\np3,1\n"
    files["demand.csv"] = (
        "scenario,period,workload,eflops\n"
        "high,p1,training,6\nhigh,p2,training,10\nhigh,p3,training,10\n"
        "low,p1,training,5\nlow,p2,training,6\nlow,p3,training,6\n"
    )
    files["power.csv"] = (
        "contract,site,kind,mw,firm_fraction,price_usd_per_mwh,existing,term_periods\n"
        "grid_n,north,grid,80,1,60,true,2\n"
    )
    # Firm power counts installed chips: one still in life in p3 would break its row, so the chips
    # live 2 years (bought in p1, gone by p3).
    files["chips.csv"] = files["chips.csv"].replace(",1000,4\n", ",1000,2\n")
    case, _ = load_case(write_case(tmp_path / "ends", base=files))
    result = solve_case(case, exact_config("all-at-once", integer=False), with_duals=True)
    assert result.results.builds["mw"].sum() > 0
    marked = shadow_prices(result)["site_mw_value"].set_index("period")["unequipped"]
    assert not marked.any()
