"""``planner compare``: strategies side by side, EVPI and VSS, on small cases solved to MIP gap 0.

Facts checked:
- with one scenario and flat demand, phased, all-at-once and plan-on-mean are the same plan, and
  EVPI = VSS = 0;
- on a tree with a low-demand branch, all-at-once builds for the high branch up front and strands
  shell in the low one, which phased does not;
- EVPI >= 0, VSS >= 0 and phased <= all-at-once on random small cases (each of the three is a
  relaxation / restriction of another);
- the CLI's JSON, tables, charts and HTML page.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pytest
from conftest import CaseWriter, Cli, ExactConfig
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from planner.compare import Comparison, compare_strategies, strategy_figures
from planner.compare_report import render_comparison, vss_reading
from planner.config import CvarSettings, Policy
from planner.loader import load_case
from planner.money import money_unit
from planner.parallel import SolvedTask
from planner.plan import solve_case

POLICIES: tuple[Policy, ...] = ("phased", "all-at-once", "plan-on-mean")

# Unit chips (1 chip = 1 EFLOPS = 1 IT MW, 1 musd), 10 MW modules at 5 musd/MW, power at 10 $/MWh
# (so that no chip runs without need). Both scenarios need 10 MW in p1; their demand parts in p2
# (high 10, low 9), which is when it is seen; only from p3 on may decisions differ, and there
# `high` needs 30 MW and `low` 10 MW.
# Phased: one module in p1, two more in p3 of `high` only: never an empty MW.
# All-at-once: building only in p1, the same for both scenarios. Leaving `high` 20 EFLOPS short
# in p3 would cost 0.5 * 100 * 20 * 1.1^-2 = 826 musd in expectation, far more than two more
# modules (100 musd, minus salvage 90 * 1.1^-3 = 67.6): it builds 3 modules in p1, so 20 MW stand
# empty in p1 in both scenarios and for the whole horizon in `low`.
STRANDING_CASE = {
    "parameters.csv": "name,value\ndiscount_rate,0.1\nunmet_penalty_musd_per_eflops_year,100\n",
    "periods.csv": "period,years\np1,1\np2,1\np3,1\n",
    "scenarios.csv": "scenario,probability\nhigh,0.5\nlow,0.5\n",
    "demand.csv": (
        "scenario,period,workload,eflops\n"
        "high,p1,w,10\nhigh,p2,w,10\nhigh,p3,w,30\n"
        "low,p1,w,10\nlow,p2,w,9\nlow,p3,w,10\n"
    ),
    "sites.csv": "site,region,max_mw,module_mw,capex_musd_per_mw,pue,life_years\ns1,r,100,10,5,1,30\n",
    "chips.csv": "chip,pflops,kw,capex_usd,life_years\nc1,1000,1000,1000000,10\n",
    "power.csv": "contract,site,kind,mw,price_usd_per_mwh,existing\nq1,s1,grid,100,10,true\n",
}


def single_scenario_flat() -> dict[str, str | None]:
    """The tiny case with one scenario (no scenarios.csv) whose demand never changes: nothing is
    gained by waiting, so committing everything up front is optimal too."""
    return {
        "scenarios.csv": None,
        "demand.csv": "period,workload,eflops\np1,training,4\np1,inference,2\np2,training,4\n"
        "p2,inference,2\np3,training,4\np3,inference,2\n",
    }


def objectives(comparison: Comparison) -> dict[str, float]:
    return {name: solved(task)["objective_musd"] for name, task in comparison.strategies.items()}


def solved(task: SolvedTask) -> dict[str, Any]:
    """The summary of a task that solved."""
    assert task.summary is not None, task.error
    return task.summary


def test_one_scenario_all_policies_agree(
    write_case: CaseWriter, exact_config: ExactConfig, tmp_path: Path
) -> None:
    case, _ = load_case(write_case(tmp_path / "flat", single_scenario_flat()))
    assert case.scenarios == ("base",)
    comparison = compare_strategies(case, [exact_config(p) for p in POLICIES], workers=1)
    assert all(task.ok for task in comparison.strategies.values())
    values = objectives(comparison)
    for name in POLICIES[1:]:
        assert values[name] == pytest.approx(values["phased"], rel=1e-6), values
    assert comparison.evpi_musd == pytest.approx(0.0, abs=1e-6 * values["phased"])
    assert comparison.vss_musd == pytest.approx(0.0, abs=1e-6 * values["phased"])
    assert comparison.perfect_information == {}


def test_all_at_once_strands_capacity_in_the_low_branch(
    write_case: CaseWriter, exact_config: ExactConfig, tmp_path: Path
) -> None:
    case, _ = load_case(write_case(tmp_path / "stranding", base=STRANDING_CASE))
    configs = [exact_config("phased"), exact_config("all-at-once")]
    comparison = compare_strategies(case, configs, workers=1, with_value_of_information=False)
    figures = comparison.figures()
    phased, leap = figures["phased"], figures["all-at-once"]
    assert phased["empty_shell_mw_peak_expected"] == pytest.approx(0.0, abs=1e-6)
    assert leap["empty_shell_mw_peak_expected"] == pytest.approx(20.0, abs=1e-6)
    assert leap["empty_shell_mw_peak_worst"] == pytest.approx(20.0, abs=1e-6)
    # both strand the chip idle in `low` p2; only all-at-once strands shell as well
    assert leap["stranded_capital_musd_peak_expected"] > phased["stranded_capital_musd_peak_expected"] + 10
    assert leap["idle_pflops_share_peak_expected"] == pytest.approx(phased["idle_pflops_share_peak_expected"])
    assert leap["capex_total_musd"] > phased["capex_total_musd"]
    assert leap["objective_musd"] > phased["objective_musd"]
    assert leap["unmet_eflops_years_expected"] == pytest.approx(0.0, abs=1e-6)
    # capex in p1 (undiscounted): 30 MW and 10 chips against 10 MW and 10 chips
    capex = comparison.capex_by_year()
    assert capex.loc["p1", "all-at-once"] == pytest.approx(30 * 5 + 10 * 1.0, rel=1e-6)
    assert capex.loc["p1", "phased"] == pytest.approx(10 * 5 + 10 * 1.0, rel=1e-6)
    # the shell stays empty to the end in the low branch only
    leap_tables = comparison.strategies["all-at-once"].results
    assert leap_tables is not None
    by_period = leap_tables.stranded_by_period.set_index(["scenario", "period"])
    assert by_period.loc[("low", "p3"), "empty_shell_mw"] == pytest.approx(20.0, abs=1e-6)
    assert by_period.loc[("high", "p3"), "empty_shell_mw"] == pytest.approx(0.0, abs=1e-6)
    phased_tables = comparison.strategies["phased"].results
    assert phased_tables is not None
    assert phased_tables.stranded_by_period["empty_shell_mw"].abs().max() < 1e-6


def test_strategy_figures_read_worst_and_expected_apart(
    write_case: CaseWriter, exact_config: ExactConfig, tmp_path: Path
) -> None:
    """Phased on the stranding case: p1 builds 10 MW (50 musd) and buys 10 chips (10); ``high``
    builds 20 MW (100) and buys 20 chips (20) in p3. Capex: 60 + 0.5 x 120 = 120 musd, summed over
    the periods (undiscounted). In ``low``'s p2 (demand 9) 1 of the 10 chips is idle: an idle
    PFLOPS share of 0.1 at worst and 0.5 x 0.1 = 0.05 expected; its book value 1 x (1 - 1/10) =
    0.9 musd is stranded, 0.45 expected. No shell stands empty."""
    case, _ = load_case(write_case(tmp_path / "stranding", base=STRANDING_CASE))
    phased = compare_strategies(
        case, [exact_config("phased")], workers=1, with_value_of_information=False
    ).figures()["phased"]
    assert phased["capex_total_musd"] == pytest.approx(120.0, rel=1e-6)
    shares = [phased["idle_pflops_share_peak_worst"], phased["idle_pflops_share_peak_expected"]]
    assert shares == pytest.approx([0.1, 0.05], rel=1e-6)
    stranded = [phased["stranded_capital_musd_peak_worst"], phased["stranded_capital_musd_peak_expected"]]
    assert stranded == pytest.approx([0.9, 0.45], rel=1e-6)
    assert phased["empty_shell_mw_peak_worst"] == pytest.approx(0.0, abs=1e-6)


def test_unused_take_or_pay_is_read_worst_and_expected_apart(
    write_case: CaseWriter, exact_config: ExactConfig, tmp_path: Path
) -> None:
    """One existing 10 MW contract with take-or-pay 0.5 at 1000 h a year: 5000 MWh paid each
    period. Unit chips (1 MW each): demand 1 in p1, then 3 in ``high`` or 1 in ``low`` (p2 is
    seen too late to plan apart). Unused: p1 5000 - 1000 = 4000 in both; p2 5000 - 3000 = 2000 in
    ``high``, 4000 in ``low``. Totals 6000 and 8000 MWh: worst 8000, expected 7000."""
    files = {
        "parameters.csv": (
            "name,value\ndiscount_rate,0\nunmet_penalty_musd_per_eflops_year,100\nhours_per_year,1000\n"
        ),
        "periods.csv": "period,years\np1,1\np2,1\n",
        "scenarios.csv": "scenario,probability\nhigh,0.5\nlow,0.5\n",
        "demand.csv": "scenario,period,workload,eflops\nhigh,p1,w,1\nhigh,p2,w,3\nlow,p1,w,1\nlow,p2,w,1\n",
        "sites.csv": "site,region,max_mw,module_mw,capex_musd_per_mw,pue,life_years\ns1,r,100,10,0,1,30\n",
        "chips.csv": "chip,pflops,kw,capex_usd,life_years\nc1,1000,1000,1000000,10\n",
        "power.csv": "contract,site,kind,mw,price_usd_per_mwh,existing,min_take\nq1,s1,grid,10,10,true,0.5\n",
    }
    case, _ = load_case(write_case(tmp_path / "take-or-pay", base=files))
    phased = compare_strategies(
        case, [exact_config("phased")], workers=1, with_value_of_information=False
    ).figures()["phased"]
    unused = [phased["unused_take_or_pay_mwh_worst"], phased["unused_take_or_pay_mwh_expected"]]
    assert unused == pytest.approx([8000.0, 7000.0], rel=1e-6)


def test_evpi_and_vss_match_direct_solves(
    write_case: CaseWriter, exact_config: ExactConfig, tmp_path: Path
) -> None:
    """EVPI = phased - sum_w p[w] * (scenario w alone); VSS = plan-on-mean - phased (tiny case)."""
    case, _ = load_case(write_case(tmp_path / "tiny"))
    comparison = compare_strategies(case, [exact_config(p) for p in POLICIES], workers=1)
    values = objectives(comparison)
    wait_and_see = sum(
        case.scenario_probability[w] * solve_case(case.scenario_case(w), exact_config()).objective_musd
        for w in case.scenarios
    )
    assert set(comparison.perfect_information) == {"high", "low"}
    assert comparison.evpi_musd == pytest.approx(values["phased"] - wait_and_see, rel=1e-7)
    assert comparison.vss_musd == pytest.approx(values["plan-on-mean"] - values["phased"], rel=1e-7)
    # knowing in p1 which branch comes is worth something here; so is planning on the tree
    assert comparison.evpi_musd is not None and comparison.vss_musd is not None
    assert comparison.evpi_musd > 1.0
    assert comparison.vss_musd > 1.0
    unmet = {
        name: float(task.results.cost_by_scenario["unmet_demand"].iloc[-1])  # the expected row
        for name, task in comparison.strategies.items()
        if task.results is not None
    }
    vss_unmet = unmet["plan-on-mean"] - unmet["phased"]
    assert comparison.vss_unmet_demand_musd == pytest.approx(vss_unmet, rel=1e-7)
    # The mean plan serves less: more penalty than VSS itself, which its cheaper capacity offsets.
    assert comparison.vss_unmet_demand_musd is not None
    assert comparison.vss_unmet_demand_musd > comparison.vss_musd
    money = money_unit(comparison.vss_musd)
    rest = money(comparison.vss_musd - comparison.vss_unmet_demand_musd)
    assert rest.startswith("-")
    assert (
        f"The unmet-demand penalty accounts for {money(comparison.vss_unmet_demand_musd)} $M of it"
        in vss_reading(comparison, money)
    )
    assert f"the other costs for {rest} $M." in vss_reading(comparison, money)


def test_plan_on_means_gap_is_that_of_its_mean_demand_mip(
    write_case: CaseWriter, exact_config: ExactConfig, tmp_path: Path
) -> None:
    """Its second solve is exact once the long-lead plan is fixed (gap 0), but that plan comes from
    the mean-demand MIP, which stops at its own gap: the comparison's "MIP gap" showed 0.000 where
    that step had stopped at 0.46% (the flagship). The figure is the largest gap of the solves."""
    case, _ = load_case(write_case(tmp_path / "tiny"))
    comparison = compare_strategies(case, [exact_config("plan-on-mean")], workers=1)
    task = comparison.strategies["plan-on-mean"]
    assert task.summary is not None
    assert [stage["stage"] for stage in task.summary["stages"]] == ["mean-demand plan"]
    assert strategy_figures(case, task)["mip_gap"] == 0.0
    task.summary["stages"][0]["mip_gap"] = 0.0046  # as the flagship's mean-demand MIP stopped
    assert strategy_figures(case, task)["mip_gap"] == 0.0046
    task.summary["mip_gap"] = 0.005
    assert strategy_figures(case, task)["mip_gap"] == 0.005


def test_evpi_and_vss_ranges_follow_from_each_solves_bound(
    tiny_case_dir: Path, exact_config: ExactConfig
) -> None:
    """Each optimum lies between its bound and its plan: EVPI between phased bound - sum p * plan_w
    and phased plan - sum p * bound_w, VSS between mean - phased plan and mean - phased bound.
    Exact solves give a point; the wait-and-see solves are written out with their bounds."""
    from planner.compare import _value_of_information
    from planner.parallel import SolvedTask

    case, _ = load_case(tiny_case_dir)
    exact = compare_strategies(case, [exact_config("phased"), exact_config("plan-on-mean")], workers=1)
    assert exact.evpi_range_musd == pytest.approx((exact.evpi_musd, exact.evpi_musd), rel=1e-6)
    assert exact.vss_range_musd == pytest.approx((exact.vss_musd, exact.vss_musd), rel=1e-6)
    table = exact.perfect_information_table()
    assert list(table["scenario"]) == ["high", "low"] and set(table["status"]) == {"optimal"}

    def task(cost: float, bound: float, cvar_weight: float = 0.0, unmet: float = 0.0) -> SolvedTask:
        summary = {
            "expected_cost_musd": cost,
            "bound_musd": bound,
            "cvar_weight": cvar_weight,
            "cost_breakdown_musd": {"unmet_demand": unmet},
        }
        return SolvedTask("k", summary, None)

    configs = [exact_config("phased"), exact_config("plan-on-mean")]
    done = {"phased": task(100.0, 99.0, unmet=5.0), "plan-on-mean": task(130.0, 130.0, unmet=45.0)}
    exact.perfect_information = {"high": task(120.0, 118.0), "low": task(60.0, 59.5)}
    _value_of_information(exact, done, configs)
    p_high, p_low = case.scenario_probability["high"], case.scenario_probability["low"]  # 0.6, 0.4
    assert exact.evpi_musd == pytest.approx(100.0 - (p_high * 120.0 + p_low * 60.0))
    assert exact.evpi_range_musd == pytest.approx(
        (99.0 - (p_high * 120.0 + p_low * 60.0), 100.0 - (p_high * 118.0 + p_low * 59.5))
    )
    assert exact.vss_musd == pytest.approx(30.0) and exact.vss_range_musd == pytest.approx((30.0, 31.0))
    assert exact.vss_unmet_demand_musd == pytest.approx(45.0 - 5.0)
    averse = {"phased": task(100.0, 99.0, cvar_weight=0.5), "plan-on-mean": task(130.0, 130.0)}
    exact.evpi_range_musd = exact.vss_range_musd = None
    _value_of_information(exact, averse, configs)  # a bound on cost + 0.5 CVaR bounds no expected cost
    assert exact.evpi_range_musd is None and exact.vss_range_musd is None
    exact.perfect_information = {"high": task(120.0, 179.0, 0.5), "low": task(60.0, 89.0, 0.5)}
    assert exact.perfect_information_table()["bound_musd"].isna().all()  # not on the cost's scale
    # A bound a round-off above its plan: the range still holds the figure, low end first.
    exact.perfect_information = {"high": task(120.0, 120.0), "low": task(60.0, 60.0)}
    _value_of_information(exact, {**done, "phased": task(100.0, 100.0 + 3e-14)}, configs)
    assert exact.evpi_musd is not None and exact.vss_musd is not None
    # set by _value_of_information: not the None mypy saw assigned above
    low, high = cast("tuple[float, float]", exact.evpi_range_musd)
    assert low <= exact.evpi_musd <= high and high - low < 1e-12
    low, high = cast("tuple[float, float]", exact.vss_range_musd)
    assert low <= exact.vss_musd <= high
    # A wait-and-see bound a round-off above its plan: the top of EVPI's range falls 1.8e-14 short.
    exact.perfect_information = {"high": task(120.0, 120.0 + 3e-14), "low": task(60.0, 60.0)}
    _value_of_information(exact, done, configs)
    low, high = cast("tuple[float, float]", exact.evpi_range_musd)
    assert low <= exact.evpi_musd <= high and exact.evpi_musd == pytest.approx(4.0)
    # The statuses of the wait-and-see solves are theirs: a failed one, one stopped by its limit.
    stopped = SolvedTask("k", {"status": "time_limit", "expected_cost_musd": 61.0, "bound_musd": 59.0,
                                "mip_gap": 0.03, "cvar_weight": 0.0}, None)
    exact.perfect_information = {"high": SolvedTask("k", None, None, error="boom"), "low": stopped}
    table = exact.perfect_information_table()
    assert list(table["status"]) == ["failed", "time_limit"]
    assert table["mip_gap"].isna().tolist() == [True, False] and table["mip_gap"].iloc[1] == 0.03


def test_one_scenario_has_no_value_of_information_to_bracket(
    write_case: CaseWriter, exact_config: ExactConfig, tmp_path: Path, cli: Cli
) -> None:
    """With one scenario the phased plan is the wait-and-see plan: EVPI 0, exactly, and no
    wait-and-see solve to list."""
    demand = "period,workload,eflops\np1,training,2\np2,training,3\np3,training,4\n"
    files = {"demand.csv": demand, "scenarios.csv": None}
    case_dir = write_case(tmp_path / "one", files)
    case, _ = load_case(case_dir)
    comparison = compare_strategies(case, [exact_config("phased"), exact_config("plan-on-mean")], workers=1)
    assert comparison.evpi_musd == 0.0 and comparison.evpi_range_musd == (0.0, 0.0)
    assert comparison.perfect_information_table().empty
    result = cli("compare", case_dir, "--workers", "1", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "comparison.csv").exists()
    assert not (tmp_path / "run" / "perfect_information.csv").exists()


def test_the_reference_of_risk_averse_models_only_is_the_first(exact_config: ExactConfig) -> None:
    """No risk-neutral phased model compared: EVPI and VSS use the first phased model given."""
    from planner.compare import _reference_config

    first, second = (
        exact_config("phased", name=name).model_copy(update={"cvar": CvarSettings(alpha=0.9, weight=weight)})
        for name, weight in (("half", 0.5), ("full", 1.0))
    )
    assert _reference_config([exact_config("all-at-once"), first, second], "phased") is first
    assert _reference_config([second, first], "phased") is second
    assert _reference_config([first], "plan-on-mean") is None


def test_a_time_limited_mean_demand_step_is_the_strategys_status(
    write_case: CaseWriter, exact_config: ExactConfig, tmp_path: Path
) -> None:
    """Plan-on-mean's second solve is exact, but when its mean-demand MIP stopped at its time
    limit the strategy read "optimal" in compare and sweep; it now reads the step's status."""
    from planner.compare_report import comparison_summary
    from planner.sweep import VariantOutcome
    from planner.sweep_report import variants_table

    case, _ = load_case(write_case(tmp_path / "tiny"))
    comparison = compare_strategies(case, [exact_config("plan-on-mean")], workers=1)
    task = comparison.strategies["plan-on-mean"]
    assert task.summary is not None
    assert comparison_summary(comparison, None, [])["strategies"]["plan-on-mean"]["status"] == "optimal"
    task.summary["stages"][0]["status"] = "time_limit"
    entry = comparison_summary(comparison, None, [])["strategies"]["plan-on-mean"]
    assert entry["status"] == "time_limit" and entry["stages"][0]["stage"] == "mean-demand plan"
    table = variants_table([VariantOutcome("base", "", task.summary, None, 1.0)])
    assert list(table["status"]) == ["time_limit"]
    task.summary["stages"][0]["mip_gap"] = 0.0046
    task.summary["within_mip_gap"], task.summary["proven_optimal"] = False, False
    row = comparison.status_table().set_index("strategy").loc["plan-on-mean"]
    assert row["status"] == "time_limit" and row["mip_gap"] == pytest.approx(0.0046)
    task.summary["within_mip_gap"] = True  # a summary where the two flags differ: each column is its own
    row = comparison.status_table().set_index("strategy").loc["plan-on-mean"]
    assert row["within_mip_gap"] and not row["proven_optimal"]


def test_solve_says_plan_on_means_mean_demand_gap(tiny_case_dir: Path, exact_config: ExactConfig) -> None:
    """``solve --model plan-on-mean`` showed gap 0.000% (its second solve's) where its mean-demand
    MIP had stopped at 0.46%, and called the plan proven optimal."""
    from planner.report import status_line

    case, _ = load_case(tiny_case_dir)
    result = solve_case(case, exact_config("plan-on-mean"))
    assert result.proven_optimal
    result.stages[0]["mip_gap"] = 0.0046  # as the flagship's mean-demand MIP stopped
    assert "gap 0.000%, mean-demand plan gap 0.460%" in status_line(result)
    assert result.within_mip_gap and not result.proven_optimal


def test_evpi_and_vss_are_in_expected_cost_for_a_risk_averse_model(
    write_case: CaseWriter, exact_config: ExactConfig, tmp_path: Path
) -> None:
    """Phased with 0.5 x CVaR(0.9) against the risk-neutral plan-on-mean: both figures compare
    expected costs (the phased objective's CVaR term is not a cost the mean plan is charged)."""
    case, _ = load_case(write_case(tmp_path / "tiny"))
    risk = CvarSettings(alpha=0.9, weight=0.5)
    averse = exact_config("phased", name="averse").model_copy(update={"cvar": risk})
    comparison = compare_strategies(case, [averse, exact_config("plan-on-mean")], workers=1)
    phased, mean = (comparison.strategies[name].summary for name in ("averse", "plan-on-mean"))
    assert phased is not None and mean is not None
    assert phased["objective_musd"] > phased["expected_cost_musd"] + 1.0  # the CVaR term matters here
    wait_and_see = sum(
        case.scenario_probability[w] * solve_case(case.scenario_case(w), averse).expected_cost_musd
        for w in case.scenarios
    )
    assert comparison.evpi_musd == pytest.approx(phased["expected_cost_musd"] - wait_and_see, rel=1e-7)
    vss = mean["expected_cost_musd"] - phased["expected_cost_musd"]
    assert comparison.vss_musd == pytest.approx(vss, rel=1e-7)


def test_the_value_of_information_uses_the_risk_neutral_phased_model_in_any_order(
    write_case: CaseWriter, exact_config: ExactConfig, tmp_path: Path
) -> None:
    """Compared with a risk-averse phased model, EVPI and VSS are those of the risk-neutral one,
    whichever ``--model`` comes first (they took the first phased model: the figures changed with
    the order of the flags). At 15 $M per EFLOPS-year the risk-neutral plan leaves high demand
    unmet, and the risk-averse one serves more at a higher expected cost."""
    parameters = "name,value\ndiscount_rate,0.08\nunmet_penalty_musd_per_eflops_year,15\n"
    case, _ = load_case(write_case(tmp_path / "tiny", {"parameters.csv": parameters}))
    neutral = exact_config("phased", name="neutral")
    averse = neutral.model_copy(update={"name": "averse", "cvar": CvarSettings(alpha=0.5, weight=1.0)})
    alone = compare_strategies(case, [neutral], workers=1)
    for configs in ([neutral, averse], [averse, neutral]):
        comparison = compare_strategies(case, configs, workers=1)
        assert comparison.evpi_musd == pytest.approx(alone.evpi_musd, rel=1e-9)
        assert comparison.vss_musd == pytest.approx(alone.vss_musd, rel=1e-9)
        assert comparison.reference_models == {"phased": "neutral"}  # said, since two are compared
        console = Console(record=True, width=200)
        render_comparison(comparison, console, None)
        assert "EVPI and VSS use phased model 'neutral'" in console.export_text()
    averse_alone = compare_strategies(case, [averse], workers=1)
    assert averse_alone.evpi_musd != pytest.approx(alone.evpi_musd, rel=1e-6)  # the order mattered


@st.composite
def small_cases(draw: st.DrawFn) -> dict[str, str]:
    """A random case: 1 site, 1-2 chips, 3 periods, 2 scenarios branching after p1 (or later
    when the draws coincide), an existing contract and an optional second one to sign."""
    money = st.integers(0, 20)
    p_high = draw(st.integers(1, 9)) / 10
    d1 = draw(st.integers(1, 8))
    high = [d1 * draw(st.sampled_from([1.0, 1.5, 2.0, 3.0])) for _ in range(2)]
    low = [d1 * draw(st.sampled_from([0.25, 0.5, 1.0, 1.25])) for _ in range(2)]
    module = draw(st.sampled_from([1, 2, 5]))
    lead = draw(st.integers(0, 1))
    existing = draw(st.integers(0, 3))
    chips = "chip,pflops,kw,capex_usd,opex_usd_per_year,life_years\n"
    chips += f"gpu,2,1.2,{draw(st.integers(5, 60)) * 1000},{draw(st.integers(0, 3000))},"
    chips += f"{draw(st.integers(2, 6))}\n"
    if draw(st.booleans()):
        chips += f"asic,1.5,0.7,{draw(st.integers(5, 60)) * 1000},500,{draw(st.integers(2, 6))}\n"
    power = "contract,site,kind,mw,price_usd_per_mwh,capacity_cost_musd_per_mw_year,min_take,"
    power += "existing,divisible\n"
    power += f"grid,s1,grid,{draw(st.integers(2, 20))},{draw(st.integers(30, 90))},0,0,true,false\n"
    if draw(st.booleans()):
        power += (
            f"ppa,s1,ppa,{draw(st.integers(5, 30))},{draw(st.integers(20, 60))},"
            f"{draw(money) / 100},{draw(st.sampled_from([0, 0.5]))},false,{draw(st.booleans())}\n"
        )
    return {
        "parameters.csv": (
            f"name,value\ndiscount_rate,{draw(st.integers(0, 15)) / 100}\n"
            f"unmet_penalty_musd_per_eflops_year,{draw(st.integers(20, 500))}\n"
        ),
        "periods.csv": "period,years\np1,1\np2,1\np3,2\n",
        "scenarios.csv": f"scenario,probability\nhigh,{p_high}\nlow,{round(1 - p_high, 1)}\n",
        "demand.csv": (
            "scenario,period,workload,eflops\n"
            f"high,p1,w,{d1}\nhigh,p2,w,{high[0]}\nhigh,p3,w,{high[1]}\n"
            f"low,p1,w,{d1}\nlow,p2,w,{low[0]}\nlow,p3,w,{low[1]}\n"
        ),
        "sites.csv": (
            "site,region,max_mw,module_mw,existing_mw,capex_musd_per_mw,fixed_om_musd_per_mw_year,"
            "lead_periods,pue,life_years\n"
            f"s1,r,{draw(st.integers(10, 40))},{module},{existing},{draw(money)},{draw(money) / 40},"
            f"{lead},1.2,{draw(st.integers(5, 30))}\n"
        ),
        "chips.csv": chips,
        "power.csv": power,
    }


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=small_cases())
def test_value_of_information_is_never_negative(
    files: dict[str, str], write_case: CaseWriter, exact_config: ExactConfig
) -> None:
    with tempfile.TemporaryDirectory(prefix="planner-compare-") as tmp:
        case, _ = load_case(write_case(Path(tmp) / "case", base=files))
    comparison = compare_strategies(case, [exact_config(p) for p in POLICIES], workers=1)
    assert all(task.ok for task in comparison.strategies.values())
    values = objectives(comparison)
    tol = 1e-6 * max(1.0, abs(values["phased"]))
    assert comparison.evpi_musd is not None and comparison.vss_musd is not None
    assert comparison.evpi_musd >= -tol, (comparison.evpi_musd, files)
    assert comparison.vss_musd >= -tol, (comparison.vss_musd, files)
    assert values["phased"] <= values["all-at-once"] + tol


# --------------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compare_run(tmp_path_factory: pytest.TempPathFactory, write_case: CaseWriter, cli: Cli) -> dict:
    root = tmp_path_factory.mktemp("compare")
    case_dir = write_case(root / "tiny")
    out = root / "run"
    result = cli("compare", case_dir, "--workers", "1", "--mip-gap", "0", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    return {"stdout": result.stdout, "out": out, "case_dir": case_dir, "root": root}


def test_compare_json(compare_run: dict, exact_config: ExactConfig) -> None:
    assert compare_run["stdout"].strip().count("\n") == 0
    payload = json.loads(compare_run["stdout"])
    assert list(payload["strategies"]) == list(POLICIES)
    for name, entry in payload["strategies"].items():
        assert entry["status"] == "optimal", name
        assert isinstance(entry["objective_musd"], float)
        assert entry["policy"] == name
        assert {"capex_by_period_musd", "stranded", "cost_breakdown_musd"} <= set(entry)
    strategies = payload["strategies"]
    assert payload["vss_musd"] == pytest.approx(
        strategies["plan-on-mean"]["objective_musd"] - strategies["phased"]["objective_musd"], rel=1e-9
    )
    assert payload["evpi_musd"] >= -1e-6 and payload["vss_musd"] >= -1e-6
    unmet = {name: strategies[name]["cost_breakdown_musd"]["unmet_demand"] for name in strategies}
    vss_unmet = unmet["plan-on-mean"] - unmet["phased"]
    assert payload["vss_unmet_demand_musd"] == pytest.approx(vss_unmet, rel=1e-9)
    assert payload["evpi_range_musd"] == pytest.approx([payload["evpi_musd"]] * 2, rel=1e-6)  # gap 0
    assert [row["scenario"] for row in payload["perfect_information"]] == ["high", "low"]
    assert payload["run_dir"] == str(compare_run["out"])
    assert payload["differences_vs_first"]["phased"]["objective_musd"] == 0
    # the phased objective is the one a direct solve gives
    case, _ = load_case(compare_run["case_dir"])
    direct = solve_case(case, exact_config()).objective_musd
    assert strategies["phased"]["objective_musd"] == pytest.approx(direct, rel=1e-7)


def test_compare_run_folder(compare_run: dict, cli: Cli) -> None:
    """Each strategy gets every table a solve's folder has (its builds, chips, contracts, dispatch,
    energy and unmet demand too: without them no figure of a comparison could be checked)."""
    out = compare_run["out"]
    for name in ("capacity_vs_demand.png", "stranded_capital.png", "capex_by_year.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    html = (out / "index.html").read_text()
    assert "Value of information" in html
    for name in ("capacity_vs_demand.png", "stranded_capital.png", "capex_by_year.png"):
        assert f'src="{name}"' in html, name
    for name in ("comparison.csv", "capex_by_year.csv", "summary.json", "perfect_information.csv"):
        assert (out / name).is_file(), name
    status = pd.read_csv(out / "status.csv", keep_default_na=False)  # the CSV and HTML say how each ended
    assert list(status["strategy"]) == list(POLICIES) and set(status["status"]) == {"optimal"}
    assert status["proven_optimal"].all() and status["within_mip_gap"].all()  # --mip-gap 0
    assert "Status of each strategy" in html
    solved = compare_run["root"] / "solved"
    assert cli("solve", compare_run["case_dir"], "--mip-gap", "0", "--out", solved).exit_code == 0
    tables = {path.stem for path in solved.glob("*.csv")} - {"timings"}
    assert {"builds", "chips", "contracts", "dispatch", "energy", "unmet", "risk"} <= tables
    for policy in POLICIES:
        for table in tables:
            assert (out / f"{table}-{policy}.csv").is_file(), (table, policy)
    assert json.loads((out / "summary.json").read_text()) == json.loads(compare_run["stdout"])
    models = json.loads((out / "models.json").read_text())
    assert list(models) == list(POLICIES)
    assert all(models[name]["solver"]["mip_gap"] == 0 for name in POLICIES)  # as run: --mip-gap 0
    fingerprint = load_case(compare_run["case_dir"])[0].fingerprint
    assert (out / "inputs_fingerprint.txt").read_text() == f"sha256 {fingerprint}\n"


def test_a_second_compare_of_the_same_input_writes_the_same_files(compare_run: dict, cli: Cli) -> None:
    """Only the solve times (timings.csv, and summary.json's run_dir and seconds) may differ;
    comparison.csv used to carry a solve_seconds row, so it changed on every run."""
    again = compare_run["root"] / "again"
    result = cli("compare", compare_run["case_dir"], "--workers", "1", "--mip-gap", "0", "--out", again)
    assert result.exit_code == 0, result.output
    first = sorted(p.name for p in compare_run["out"].iterdir())
    assert first == sorted(p.name for p in again.iterdir())
    assert "timings.csv" in first
    for name in set(first) - {"timings.csv", "summary.json"}:
        assert (again / name).read_bytes() == (compare_run["out"] / name).read_bytes(), name
    timings = (again / "timings.csv").read_text().splitlines()
    assert timings[0] == "figure," + ",".join(POLICIES) and timings[1].startswith("solve_seconds,")


def test_compare_two_models_still_reports_evpi_and_vss(compare_run: dict, cli: Cli) -> None:
    out = compare_run["root"] / "two"
    result = cli("compare", compare_run["case_dir"], "--model", "phased", "--model", "all-at-once",
                 "--workers", "1", "--mip-gap", "0", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    first = json.loads(compare_run["stdout"])
    assert list(payload["strategies"]) == ["phased", "all-at-once"]
    assert payload["evpi_musd"] == pytest.approx(first["evpi_musd"], rel=1e-7)
    assert payload["vss_musd"] == pytest.approx(first["vss_musd"], rel=1e-7)
    # VSS rests on a plan-on-mean solve this comparison does not show: it says how that one ended.
    assert first["value_of_information_solves"] == {}
    (policy, solve), = payload["value_of_information_solves"].items()
    assert policy == "plan-on-mean" and solve["status"] == "optimal" and solve["mip_gap"] <= 1e-9
    mean_cost = first["strategies"]["plan-on-mean"]["expected_cost_musd"]
    assert solve["expected_cost_musd"] == pytest.approx(mean_cost, rel=1e-7)
    assert solve["bound_musd"] == pytest.approx(mean_cost, rel=1e-7)


def test_compare_console_output(compare_run: dict, cli: Cli) -> None:
    result = cli("compare", compare_run["case_dir"], "--model", "phased", "--model", "all-at-once",
                 "--workers", "1", "--out", compare_run["root"] / "console")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Strategies compared" in text
    assert "EVPI" in text and "VSS" in text
    assert "all-at-once - phased" in text
    # A case of a few musd reads in $M throughout: in $B every figure was 0.0xx.
    assert "$B" not in text
    assert re.search(r"EVPI [\d,.]+ \$M: .* would be worth [\d,.]+ \$M in", " ".join(text.split()))
    assert "EVPI and VSS use" not in text  # one model per policy: nothing to say which
    assert re.search(r"EVPI and VSS rest on the shipped plan-on-mean model, solved for them "
                     r"\(not compared\): expected cost [\d,.]+ \$M, status optimal, gap [\d.]+%\.",
                     " ".join(text.split()))


def test_compare_same_model_twice_is_exit_2(compare_run: dict, cli: Cli) -> None:
    out = compare_run["root"] / "twice"
    result = cli("compare", compare_run["case_dir"], "--model", "phased", "--model", "phased", "--out", out)
    assert result.exit_code == 2
    assert "--model" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("name", ["risk/averse", "../../etc", "_vss:plan-on-mean", "_pi:high", ".hidden"])
def test_a_model_name_unsafe_in_file_names_is_exit_2(compare_run: dict, cli: Cli, name: str) -> None:
    """A name with a path separator once stopped compare with an internal error after every solve;
    ``_vss:plan-on-mean`` took over planner's own plan-on-mean solve and reported its cost."""
    model = compare_run["root"] / "unsafe.toml"
    model.write_text(f'name = "{name}"\npolicy = "phased"\n')
    out = compare_run["root"] / "unsafe"
    result = cli("compare", compare_run["case_dir"], "--model", model, "--model", "phased",
                 "--out", out, "--json")
    assert result.exit_code == 2
    (problem,) = json.loads(result.stdout)["problems"]
    assert (problem["file"], problem["column"]) == ("unsafe.toml", "name")
    assert problem["expected"].startswith("a name of at most 100 characters")
    assert not out.exists()


def test_a_model_named_after_its_file_with_spaces_and_brackets(compare_run: dict, cli: Cli) -> None:
    model = compare_run["root"] / "my model (v2).toml"
    model.write_text('policy = "all-at-once"\n')
    out = compare_run["root"] / "spaces"
    result = cli("compare", compare_run["case_dir"], "--model", model, "--model", "phased",
                 "--workers", "1", "--mip-gap", "0", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    strategies = json.loads(result.stdout)["strategies"]
    assert list(strategies) == ["my model (v2)", "phased"]
    first = json.loads(compare_run["stdout"])["strategies"]
    assert strategies["my model (v2)"]["objective_musd"] == pytest.approx(
        first["all-at-once"]["objective_musd"], rel=1e-7
    )
    assert (out / "cost_by_scenario-my model (v2).csv").is_file()


def test_model_names_with_square_brackets_are_printed_as_written(compare_run: dict, cli: Cli) -> None:
    """rich read ``[v2]`` in a model name as a style tag: the table's columns lost it."""
    model = compare_run["root"] / "aao[v2].toml"
    model.write_text('policy = "all-at-once"\n')
    out = compare_run["root"] / "brackets[v2]"
    result = cli("compare", compare_run["case_dir"], "--model", "phased", "--model", model,
                 "--workers", "1", "--relax", "--out", out)
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "figure" in line)
    assert "".join(header.split()).endswith("┃phased┃aao[v2]┃aao[v2]-phased┃")
    assert "".join(f"Run folder: {out}".split()) in "".join(result.stdout.split())


def test_a_difference_a_tolerance_below_zero_is_printed_as_plus_zero() -> None:
    from planner.compare_report import _signed

    assert [_signed(v) for v in (-1e-12, -0.0006, 1234.5)] == ["+0.000", "-0.001", "+1,234.500"]


def test_the_recorded_settings_say_how_side_by_side_solves_ran(
    write_case: CaseWriter, exact_config: ExactConfig, tmp_path: Path
) -> None:
    """Workers solving side by side get one HiGHS thread each, and the records (models.json) said
    threads 0: a figure could not be reproduced from what its run folder recorded."""
    case, _ = load_case(write_case(tmp_path / "tiny"))
    default = exact_config("phased").model_copy(
        update={"solver": exact_config("phased").solver.model_copy(update={"threads": 0})}
    )
    pinned = exact_config("all-at-once").model_copy(
        update={"solver": exact_config("all-at-once").solver.model_copy(update={"threads": 2})}
    )
    side_by_side = compare_strategies(case, [default, pinned], workers=2, with_value_of_information=False)
    assert {name: c.solver.threads for name, c in side_by_side.configs.items()} == {
        "phased": 1,
        "all-at-once": 2,
    }
    in_turn = compare_strategies(case, [default, pinned], workers=1, with_value_of_information=False)
    assert {name: c.solver.threads for name, c in in_turn.configs.items()} == {"phased": 0, "all-at-once": 2}
