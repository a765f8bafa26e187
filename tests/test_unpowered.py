"""The ``unpowered_chips`` extension: owned chips may sit out of the building and off firm power.

Hand-solved cases: every cost is zero but chips (10 $M each, no salvage within the two-year
horizon) and unmet demand (1000 $M per EFLOPS-year); one chip serves 1 EFLOPS and draws 1 IT MW.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import CaseWriter, Cli
from factory import bought, chip, config, contract, make_case, site, solve
from hypothesis import given
from test_properties import PROPERTY, cases, leq

from planner.case import Case
from planner.config import ModelConfig, load_model_config
from planner.duals import shadow_prices
from planner.errors import InputError
from planner.plan import solve_case

CHIP_MUSD = 10.0
TWO_PERIODS = {"p1": 1.0, "p2": 1.0}


def power_ends_after_p1(chip_om_usd_per_year: float = 0.0) -> Case:
    """5 EFLOPS in p1, none in p2; the only power (10 MW, existing) ends after p1; chips live 2
    years, so a chip bought in p1 is still owned in p2."""
    return make_case(
        {"p1": 5.0, "p2": 0.0},
        TWO_PERIODS,
        [site(existing_mw=10.0, max_mw=10.0)],
        [chip(capex_usd=CHIP_MUSD * 1e6, life_years=2.0, opex_usd_per_year=chip_om_usd_per_year)],
        [contract(mw=10.0, term_periods=1)],
    )


def supply_before_the_building() -> Case:
    """5 EFLOPS in p2 only; 5 chips for sale in p1, none in p2; 1 MW stands, a free 10 MW module
    started in p1 is ready in p2."""
    return make_case(
        {"p1": 0.0, "p2": 5.0},
        TWO_PERIODS,
        [site(existing_mw=1.0, max_mw=11.0, lead_periods=1)],
        [chip(capex_usd=CHIP_MUSD * 1e6, life_years=2.0)],
        chip_supply={("c1", "p1"): 5.0, ("c1", "p2"): 0.0},
    )


def test_v1_forbids_chips_that_outlive_their_power() -> None:
    # Row 5 counts the fleet: a chip bought in p1 breaks it in p2, so all 5 EFLOPS go unmet.
    result = solve(power_ends_after_p1())
    assert result.objective_musd == pytest.approx(5 * 1000.0)
    assert bought(result) == {}
    assert result.results.unpowered_chips is None


def test_chips_whose_power_ends_sit_unpowered() -> None:
    result = solve(power_ends_after_p1(), unpowered_chips=True)
    assert result.objective_musd == pytest.approx(5 * CHIP_MUSD)
    assert bought(result) == {("c1", "s1", "p1"): pytest.approx(5.0)}
    table = result.results.unpowered_chips
    assert table is not None
    assert table.to_dict(orient="records") == [
        {
            "scenario": "base",
            "period": "p2",
            "site": "s1",
            "chip": "c1",
            "unpowered_chips": pytest.approx(5.0),
            "unpowered_it_mw": pytest.approx(5.0),
            "unpowered_pflops": pytest.approx(5000.0),
            # 50 $M of chips, a year into a two-year life
            "book_value_musd": pytest.approx(25.0),
        }
    ]
    stranded = result.results.stranded_by_period.set_index("period")
    # Unpowered chips are idle and stranded, and leave their building empty.
    assert stranded.loc["p2", "idle_chips"] == pytest.approx(5.0)
    assert stranded.loc["p2", "installed_it_mw"] == pytest.approx(0.0)
    assert stranded.loc["p2", "empty_shell_mw"] == pytest.approx(10.0)
    assert stranded.loc["p2", "stranded_capital_musd"] == pytest.approx(25.0)
    assert stranded.loc["p1", "empty_shell_mw"] == pytest.approx(5.0)


def test_chips_bought_before_their_building_wait_unpowered() -> None:
    # v1: 1 chip fits the standing MW in p1, so 4 of p2's 5 EFLOPS go unmet.
    v1 = solve(supply_before_the_building())
    assert v1.objective_musd == pytest.approx(CHIP_MUSD + 4 * 1000.0)
    extended = solve(supply_before_the_building(), unpowered_chips=True)
    assert extended.objective_musd == pytest.approx(5 * CHIP_MUSD)
    assert bought(extended) == {("c1", "s1", "p1"): pytest.approx(5.0)}
    table = extended.results.unpowered_chips
    assert table is not None
    # The fewest set aside: the standing MW holds one of the five.
    assert table[["period", "unpowered_chips"]].to_dict(orient="records") == [
        {"period": "p1", "unpowered_chips": pytest.approx(4.0)}
    ]


def test_the_fewest_chips_are_reported_unpowered_whatever_the_input_order() -> None:
    # p1 needs all 10 MW: the 3 'big' (2 MW each) and 4 'small' (1 MW) chips for sale. In p2 only
    # 2 MW of firm power is left and no demand: 2 small chips fit, so 3 big + 2 small = 5 must sit
    # unpowered (installing one big chip, chips.csv order, would leave 2 + 4 = 6).
    case = make_case(
        {"p1": 10.0, "p2": 0.0},
        TWO_PERIODS,
        [site(existing_mw=10.0, max_mw=10.0)],
        [
            chip("big", pflops=2000.0, kw=2000.0, capex_usd=2 * CHIP_MUSD * 1e6, life_years=2.0),
            chip("small", capex_usd=CHIP_MUSD * 1e6, life_years=2.0),
        ],
        [contract("ends", mw=8.0, term_periods=1), contract("lasts", mw=2.0)],
        chip_supply={("big", "p1"): 3.0, ("small", "p1"): 4.0, ("big", "p2"): 0.0, ("small", "p2"): 0.0},
    )
    result = solve(case, unpowered_chips=True)
    assert bought(result) == {
        ("big", "s1", "p1"): pytest.approx(3.0),
        ("small", "s1", "p1"): pytest.approx(4.0),
    }
    table = result.results.unpowered_chips
    assert table is not None
    assert table[["period", "chip"]].values.tolist() == [["p2", "big"], ["p2", "small"]]
    assert table["unpowered_chips"].tolist() == pytest.approx([3.0, 2.0])
    # The same 8 MW unpowered as in input order: only the count differs.
    assert table["unpowered_it_mw"].tolist() == pytest.approx([6.0, 2.0])


def test_scenarios_sharing_a_node_install_what_any_of_them_runs() -> None:
    # 'hi' and 'lo' share p1 (5 EFLOPS each), so they share p2's fleet: 5 chips bought in p1. In
    # p2 only 3 MW of firm power is left: 'hi' (5 EFLOPS) runs 3 chips, 'lo' (none) runs none. The
    # node's installed chips cover 'hi', so 'lo' too has 3 installed and 2 unpowered, not 5.
    case = make_case(
        {"hi": {"p1": 5.0, "p2": 5.0}, "lo": {"p1": 5.0, "p2": 0.0}},
        TWO_PERIODS,
        [site(existing_mw=10.0, max_mw=10.0)],
        [chip(capex_usd=CHIP_MUSD * 1e6, life_years=2.0)],
        [contract("ends", mw=7.0, term_periods=1), contract("lasts", mw=3.0)],
    )
    # v1: 3 chips, 2 EFLOPS unmet in p1 and in hi's p2 (probability 0.5).
    assert solve(case).objective_musd == pytest.approx(3 * CHIP_MUSD + 2 * 1000.0 + 0.5 * 2 * 1000.0)
    result = solve(case, unpowered_chips=True)
    assert result.objective_musd == pytest.approx(5 * CHIP_MUSD + 0.5 * 2 * 1000.0)
    table = result.results.unpowered_chips
    assert table is not None
    assert table[["scenario", "period"]].values.tolist() == [["hi", "p2"], ["lo", "p2"]]
    assert table["unpowered_chips"].tolist() == pytest.approx([2.0, 2.0])
    stranded = result.results.stranded_by_period.set_index(["scenario", "period"])
    assert stranded.loc[("lo", "p2"), "idle_chips"] == pytest.approx(5.0)
    assert stranded.loc[("lo", "p2"), "installed_it_mw"] == pytest.approx(3.0)
    assert stranded.loc[("lo", "p2"), "empty_shell_mw"] == pytest.approx(7.0)
    idle = result.results.idle_power.set_index(["scenario", "period"])
    assert idle.loc[("hi", "p2"), "idle_firm_mw"] == pytest.approx(0.0)
    assert idle.loc[("lo", "p2"), "idle_firm_mw"] == pytest.approx(0.0)


@pytest.mark.parametrize("integer", [True, False])
def test_shadow_prices_price_the_plan_solved_without_them(integer: bool) -> None:
    # No IT MW stands: chips for sale in p1 only could be bought where v1 has no purchase (no room
    # before p2) if the model built for shadow prices (chips at every site and node) let them sit
    # unpowered, a plan at 50 the model without --duals cannot make (5000: all demand unmet).
    case = make_case(
        {"p1": 0.0, "p2": 5.0},
        TWO_PERIODS,
        [site(max_mw=10.0, lead_periods=1)],
        [chip(capex_usd=CHIP_MUSD * 1e6, life_years=2.0)],
        chip_supply={("c1", "p1"): 5.0, ("c1", "p2"): 0.0},
    )
    settings = config(integer=integer, unpowered_chips=True)
    plain = solve_case(case, settings)
    with_duals = solve_case(case, settings, with_duals=not integer)
    assert plain.objective_musd == pytest.approx(5 * 1000.0)
    assert with_duals.objective_musd == pytest.approx(5 * 1000.0)
    # The demand's shadow price is the unmet penalty of the plan, not the 10 of stocked chips.
    marginal = shadow_prices(with_duals)["demand_marginal"].set_index("period")
    assert marginal.loc["p2", "expected_musd_per_eflops_year"] == pytest.approx(1000.0)


def test_unpowered_chips_pay_their_o_and_m() -> None:
    result = solve(power_ends_after_p1(chip_om_usd_per_year=1e6), unpowered_chips=True)
    # 5 chips x 1 $M a year, for both years: the chips still cost 2 x 5 + 50 < 5000 unmet.
    assert result.objective_musd == pytest.approx(5 * CHIP_MUSD + 2 * 5 * 1.0)


def test_a_chip_that_runs_nothing_cannot_free_room_by_being_unpowered() -> None:
    # 'dud' runs no workload, so no row 3 bounds its unpowered chips by its fleet. 1 MW of building
    # and 1 MW of firm power (5 MW at firm_fraction 0.2, energy for 5 MW): one good chip fits, the
    # other 4 EFLOPS go unmet. Unbounded, unpowered[dud] = 4 with no dud owned made room for 5.
    case = make_case(
        {"p1": 5.0},
        None,
        [site(existing_mw=1.0, max_mw=1.0)],
        [chip("good", capex_usd=CHIP_MUSD * 1e6), chip("dud", capex_usd=CHIP_MUSD * 1e6)],
        [contract(mw=5.0, firm_fraction=0.2)],
        chip_performance={("dud", "w"): 0.0},
    )
    result = solve(case, unpowered_chips=True)
    assert result.objective_musd == pytest.approx(CHIP_MUSD + 4 * 1000.0)
    assert bought(result) == {("good", "s1", "p1"): pytest.approx(1.0)}
    assert result.results.stranded_by_period["installed_it_mw"].tolist() == pytest.approx([1.0])


@PROPERTY
@given(case=cases())
def test_letting_chips_sit_unpowered_never_costs_more(case: Case) -> None:
    v1 = solve(case)
    # Without the switch the model is the v1 model, and its tables are the v1 tables.
    assert v1.planning_model.model.component("unpowered") is None
    assert "unpowered_chips" not in v1.results.tables()
    extended = solve(case, unpowered_chips=True)
    assert leq(extended.objective_musd, v1.objective_musd)
    table = extended.results.unpowered_chips
    assert table is not None and (table["unpowered_chips"] >= 0).all()
    # What is installed fits the buildings (empty shell >= 0 is how the table shows it).
    assert (extended.results.stranded_by_period["empty_shell_mw"] >= 0).all()


POWER_ENDS = {
    "parameters.csv": "name,value\ndiscount_rate,0\nunmet_penalty_musd_per_eflops_year,1000\n",
    "periods.csv": "period,years\np1,1\np2,1\n",
    "scenarios.csv": "scenario,probability\nbase,1\n",
    "demand.csv": "scenario,period,workload,eflops\nbase,p1,w,5\nbase,p2,w,0\n",
    "sites.csv": "site,region,max_mw,module_mw,existing_mw,capex_musd_per_mw,lead_periods,pue,life_years\n"
    "s1,r,10,10,10,0,0,1,2\n",
    "chips.csv": "chip,pflops,kw,capex_usd,opex_usd_per_year,life_years\nc1,1000,1000,10000000,0,2\n",
    "power.csv": "contract,site,kind,mw,firm_fraction,price_usd_per_mwh,capacity_cost_musd_per_mw_year,"
    "existing,term_periods\nq1,s1,grid,10,1,0,0,true,1\n",
}


def test_the_cli_switch_solves_the_extension_and_says_so(
    tmp_path: Path, cli: Cli, write_case: CaseWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_dir = write_case(tmp_path / "ends", base=POWER_ENDS)
    plain = cli("solve", case_dir, "--json", "--out", tmp_path / "plain")
    assert plain.exit_code == 0, plain.output
    summary = json.loads(plain.stdout)
    assert summary["objective_musd"] == pytest.approx(5000.0)
    assert "unpowered_chips" not in summary
    assert any("--unpowered-chips" in warning for warning in summary["warnings"])
    assert not (tmp_path / "plain" / "unpowered_chips.csv").exists()

    extended = cli("solve", case_dir, "--unpowered-chips", "--json", "--out", tmp_path / "ext")
    assert extended.exit_code == 0, extended.output
    summary = json.loads(extended.stdout)
    assert summary["objective_musd"] == pytest.approx(50.0)
    assert summary["unpowered_chips"]["base"] == {
        "unpowered_chips_peak": pytest.approx(5.0),
        "unpowered_it_mw_peak": pytest.approx(5.0),
        "book_value_musd_peak": pytest.approx(25.0),
    }
    table = pd.read_csv(tmp_path / "ext" / "unpowered_chips.csv")
    assert table["unpowered_chips"].tolist() == pytest.approx([5.0])
    assert json.loads((tmp_path / "ext" / "model.json").read_text())["unpowered_chips"] is True

    monkeypatch.chdir(tmp_path)
    console = cli("solve", case_dir, "--unpowered-chips")
    assert console.exit_code == 0, console.output
    assert "Chips left unpowered" in console.stdout
    # The default run folder says the run is not the v1 model's.
    assert [folder.name[: len("ends-phased-unpowered-")] for folder in (tmp_path / "runs").iterdir()] == [
        "ends-phased-unpowered-"
    ]


def test_value_of_information_solves_the_same_extension(
    tmp_path: Path, cli: Cli, write_case: CaseWriter
) -> None:
    # The shipped phased and plan-on-mean models solved for EVPI and VSS take the switch too: v1
    # would leave the 5 EFLOPS unmet (5000) against the extension's 50, a VSS of 4950 for nothing.
    case_dir = write_case(tmp_path / "ends", base=POWER_ENDS)
    both = cli("compare", case_dir, "--model", "phased", "--model", "all-at-once", "--unpowered-chips",
               "--workers", "1", "--json", "--out", tmp_path / "both")
    assert both.exit_code == 0, both.output
    summary = json.loads(both.stdout)
    assert summary["vss_musd"] == pytest.approx(0.0)
    assert summary["value_of_information_solves"]["plan-on-mean"]["expected_cost_musd"] == pytest.approx(50.0)
    alone = cli("compare", case_dir, "--model", "all-at-once", "--unpowered-chips", "--workers", "1",
                "--json", "--out", tmp_path / "alone")
    assert alone.exit_code == 0, alone.output
    solves = json.loads(alone.stdout)["value_of_information_solves"]
    assert solves["phased"]["expected_cost_musd"] == pytest.approx(50.0)
    assert solves["plan-on-mean"]["expected_cost_musd"] == pytest.approx(50.0)


def test_frozen_chips_whose_power_is_cut_sit_unpowered(
    tmp_path: Path, cli: Cli, write_case: CaseWriter
) -> None:
    # The plan: with power to the end, buy 5 chips in p1. The stress: the contract ends after p1.
    lasting = dict(POWER_ENDS, **{"power.csv": POWER_ENDS["power.csv"].replace("true,1\n", "true,\n")})
    case_dir = write_case(tmp_path / "lasting", base=lasting)
    plan = cli("solve", case_dir, "--out", tmp_path / "plan", "--json")
    assert plan.exit_code == 0, plan.output
    sweep_file = tmp_path / "cut.csv"
    sweep_file.write_text(
        "case,group,file,column,where,op,value\ncut,power,power.csv,term_periods,contract=q1,set,1\n"
    )
    args = ["sweep", case_dir, sweep_file, "--fix-plan", tmp_path / "plan", "--fix-chips", "--json"]
    args += ["--workers", "1"]  # in process: two tiny solves need no pool
    v1 = cli(*args, "--out", tmp_path / "v1")
    variants = {row["case"]: row for row in json.loads(v1.stdout)["variants"]}
    assert variants["cut"]["status"] == "failed"
    assert "firm power" in variants["cut"]["error"]

    extended = cli(*args, "--unpowered-chips", "--out", tmp_path / "ext")
    assert extended.exit_code == 0, extended.output
    variants = {row["case"]: row for row in json.loads(extended.stdout)["variants"]}
    assert variants["cut"]["objective_musd"] == pytest.approx(50.0)
    table = pd.read_csv(next((tmp_path / "ext" / "plans").glob("*-cut")) / "unpowered_chips.csv")
    assert table[["period", "unpowered_chips"]].to_dict(orient="records") == [
        {"period": "p2", "unpowered_chips": pytest.approx(5.0)}
    ]


def test_the_model_file_switch(tmp_path: Path) -> None:
    model = tmp_path / "stored.toml"
    model.write_text('name = "stored"\npolicy = "phased"\nunpowered_chips = true\n')
    assert load_model_config(str(model)).unpowered_chips is True
    assert ModelConfig(name="m").with_overrides(unpowered_chips=True).unpowered_chips is True
    assert load_model_config("phased").unpowered_chips is False
    model.write_text('name = "stored"\nunpowered_chips = "yes"\n')
    with pytest.raises(InputError, match="unpowered_chips"):
        load_model_config(str(model))
