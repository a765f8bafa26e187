"""``--fix-chips``: a frozen plan's chip purchases frozen with its buildings and contracts.

The hand case is ``inputs/tiny`` (see tests/test_frozen_plan.py), whose phased plan builds 1 module
and buys 1,000 chips in p1 and again in p2, with demand 20% lower: 0.8 EFLOPS in p1, then 1.6
(``hi``) or 0.4 (``lo``) in p2. Chips cost $10,000 with a 5-year life over a 2-year horizon, so one
bought in p1 costs 10,000 less salvage 6,000 = $4,000, one bought in p2 $2,000; a module in p1 costs
10 - 8 = 2 $M, in p2 10 - 9 = 1 $M; a running MW for a year takes 8,760 MWh at $50: 0.438 $M.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CaseWriter, Cli, ExactConfig
from hypothesis import given, settings
from hypothesis import strategies as st
from test_frozen_plan import (
    HAND_CASE,
    TINY_PHASED_MUSD,
    assert_refused,
    flat,
    frozen_from,
    phased_plan,
    summary,
    write_plan,
)
from test_properties import PROPERTY, cases

from planner.case import Case
from planner.config import ModelConfig
from planner.errors import InputError
from planner.frozen_plan import read_frozen_plan
from planner.frozen_plan_fit import SAME_VALUE, fit_frozen_plan, node_scenarios
from planner.plan import PlanResult, solve_case

TINY_PLAN = {
    "builds.csv": "site,period,node,modules\na,p1,all,1\na,p2,all,1\n",
    "contracts.csv": "contract,period,node,share\ngrid,p1,all,1\n",
    "chips.csv": "chip,site,period,node,bought\ng,a,p1,all,1000\ng,a,p2,all,1000\n",
}
"""inputs/tiny's phased plan (its README), as a run folder lists it."""
LOWER_DEMAND = (
    "scenario,period,workload,eflops\nhi,p1,train,0.8\nhi,p2,train,1.6\nlo,p1,train,0.8\nlo,p2,train,0.4\n"
)
ENERGY_MUSD = 0.8 * 0.438 + 0.5 * (1.6 + 0.4) * 0.438
"""0.8 MW run in p1, then 1.6 MW in hi and 0.4 in lo: the same whatever the fleet (idle chips draw none)."""
FROZEN_CHIPS_MUSD = (2 + 1) + (1000 * 0.004 + 1000 * 0.002) + ENERGY_MUSD
"""Every decision of the plan frozen: 9.7884. Idle: 200 chips in p1, 400 (hi) or 1,600 (lo) in p2."""
FREE_CHIPS_MUSD = (2 + 1) + (800 * 0.004 + 800 * 0.002) + ENERGY_MUSD
"""Chips re-optimised: 800 in p1 and 800 more in p2, enough for hi (the penalty, 1,000 $M per
EFLOPS-year, dwarfs a chip), none idle in p1: 8.5884."""
FREE_AFTER_P1_MUSD = (2 + 1) + (1000 * 0.004 + 600 * 0.002) + ENERGY_MUSD
"""p1 frozen, chips too: 1,000 chips in p1, then 600 more (and the second module) for hi's 1.6: 8.9884."""

SITE_READY_IN_P2 = (
    "site,region,max_mw,module_mw,capex_musd_per_mw,pue,life_years,lead_periods\na,us,10,1,10,1,10,1\n"
)
"""inputs/tiny's site with a lead time of one period: its first module is ready in p2."""


@pytest.fixture
def lower_case(tmp_path: Path, write_case: CaseWriter) -> Path:
    """inputs/tiny with its demand 20% lower."""
    return write_case(tmp_path / "lower", {"demand.csv": LOWER_DEMAND}, base=HAND_CASE)


def bought(run: Path) -> list[str]:
    """A run's chips.csv as chip, site, period, node and bought."""
    lines = (run / "chips.csv").read_text().splitlines()[1:]
    return [",".join(line.split(",")[:4] + line.split(",")[5:6]) for line in lines]


# --------------------------------------------------------------------------------------------
# Numbers, by hand
# --------------------------------------------------------------------------------------------


def test_frozen_chips_are_paid_for_when_demand_comes_in_lower(
    tmp_path: Path, lower_case: Path, cli: Cli
) -> None:
    plan = write_plan(tmp_path / "plan", TINY_PLAN)
    out = summary(cli, lower_case, "--fix-plan", plan, "--fix-chips", "--out", tmp_path / "frozen")
    assert out["objective_musd"] == pytest.approx(FROZEN_CHIPS_MUSD, rel=1e-6)
    assert out["cost_by_scenario_musd"]["lo"]["chips_capex"] == pytest.approx(20, rel=1e-9)
    assert out["fixed_plan"] == {
        "from": str(plan),
        "through": None,
        "builds": 2,
        "signings": 1,
        "chip_purchases": 2,
    }
    assert bought(tmp_path / "frozen") == ["g,a,p1,all,1000", "g,a,p2,all,1000"]
    idle = (tmp_path / "frozen" / "stranded_by_period.csv").read_text().splitlines()[1:]
    assert [line.split(",")[2] for line in idle] == ["200", "400", "200", "1600"]
    # Without --fix-chips the model buys fewer, and pays less
    out = summary(cli, lower_case, "--fix-plan", plan, "--out", tmp_path / "free")
    assert out["objective_musd"] == pytest.approx(FREE_CHIPS_MUSD, rel=1e-6)
    assert "chip_purchases" not in out["fixed_plan"]
    assert bought(tmp_path / "free") == ["g,a,p1,all,800", "g,a,p2,all,800"]


def test_chips_frozen_through_p1_leave_p2_to_the_model(tmp_path: Path, lower_case: Path, cli: Cli) -> None:
    plan = write_plan(tmp_path / "plan", TINY_PLAN)
    args = (lower_case, "--fix-plan", plan, "--fix-through", "p1")
    out = summary(cli, *args, "--fix-chips", "--out", tmp_path / "frozen")
    assert out["objective_musd"] == pytest.approx(FREE_AFTER_P1_MUSD, rel=1e-6)
    assert out["fixed_plan"]["chip_purchases"] == 1
    assert bought(tmp_path / "frozen") == ["g,a,p1,all,1000", "g,a,p2,all,600"]
    assert summary(cli, *args, "--out", tmp_path / "free")["objective_musd"] == pytest.approx(
        FREE_CHIPS_MUSD, rel=1e-6
    )


def test_chips_are_frozen_at_every_node_of_a_period_where_scenarios_part(
    tmp_path: Path, write_case: CaseWriter, cli: Cli
) -> None:
    """A third period, where hi (3 EFLOPS) and lo (0.5) are nodes of their own: 500 chips at both,
    and none of p3's decisions left out. Left alone, hi would buy 1,000 and lo none."""
    longer = {
        **HAND_CASE,
        "periods.csv": HAND_CASE["periods.csv"] + "p3,1\n",
        "demand.csv": HAND_CASE["demand.csv"] + "hi,p3,train,3\nlo,p3,train,0.5\n",
    }
    case = write_case(tmp_path / "case", base=longer)
    plan = write_plan(
        tmp_path / "plan",
        {
            **TINY_PLAN,
            "builds.csv": TINY_PLAN["builds.csv"] + "a,p3,all,1\n",
            "chips.csv": TINY_PLAN["chips.csv"] + "g,a,p3,all,500\n",
        },
    )
    summary(cli, case, "--fix-plan", plan, "--fix-chips", "--out", tmp_path / "run")
    p3 = [line for line in bought(tmp_path / "run") if ",p3," in line]
    assert p3 == ["g,a,p3,hi,500", "g,a,p3,lo,500"]
    summary(cli, case, "--fix-plan", plan, "--out", tmp_path / "free")
    assert [line for line in bought(tmp_path / "free") if ",p3," in line] == ["g,a,p3,hi,1000", "g,a,p3,lo,0"]


def test_the_console_and_the_run_folder_say_chips_were_frozen(
    tmp_path: Path, lower_case: Path, cli: Cli
) -> None:
    plan = write_plan(tmp_path / "plan", TINY_PLAN)
    result = cli("solve", lower_case, "--fix-plan", plan, "--fix-chips")
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert (
        f"plan frozen: the buildings, contracts and chip purchases of {plan} in every period (2 builds,"
        " 1 signing, 2 chip purchases); operations optimised"
    ) in text
    assert "-phased-fixed-" in text


# --------------------------------------------------------------------------------------------
# Refused (exit 2) and infeasible (exit 1) plans
# --------------------------------------------------------------------------------------------


def test_chips_bought_in_some_scenarios_only_name_the_period_to_freeze_through(
    tmp_path: Path, lower_case: Path, cli: Cli
) -> None:
    chips = "chip,site,period,node,bought\ng,a,p1,all,1000\ng,a,p2,hi,1000\ng,a,p2,lo,500\n"
    plan = phased_plan(tmp_path, TINY_PLAN["builds.csv"], TINY_PLAN["contracts.csv"])
    (plan / "chips.csv").write_text(chips)
    result = cli("solve", lower_case, "--fix-plan", plan, "--fix-chips")
    assert result.exit_code == 2
    text = flat(result.output)
    assert f"{plan / 'chips.csv'}, row 3, column node: value 'hi' — expected 'all'" in text
    assert "took this one (g at a in p2) in some scenarios only. Its decisions part" in text
    assert "freeze the periods before (--fix-through p1)" in text
    assert "builds.csv" not in text
    assert cli("solve", lower_case, "--fix-plan", plan, "--json").exit_code == 0  # chips not frozen
    out = summary(cli, lower_case, "--fix-plan", plan, "--fix-chips", "--fix-through", "p1")
    assert out["objective_musd"] == pytest.approx(FREE_AFTER_P1_MUSD, rel=1e-6)
    # Equal purchases at nodes covering every scenario are one purchase
    (plan / "chips.csv").write_text(chips.replace("lo,500", "lo,1000"))
    out = summary(cli, lower_case, "--fix-plan", plan, "--fix-chips")
    assert out["objective_musd"] == pytest.approx(FROZEN_CHIPS_MUSD, rel=1e-6)


def test_every_problem_of_a_chips_file_at_once(
    tmp_path: Path, write_case: CaseWriter, cli: Cli
) -> None:
    plan = write_plan(
        tmp_path / "plan",
        {
            **TINY_PLAN,
            "chips.csv": (
                "chip,site,period,node,bought\n"
                "g,a,p1,all,-5\ng,a,p2,all,inf\ng,a,p2,all,3\ng,a,p1,hi,1\ng,a,p1,all,nan\n"
            ),
        },
    )
    result = cli("solve", write_case(tmp_path / "tiny", base=HAND_CASE), "--fix-plan", plan, "--fix-chips")
    text = assert_refused(
        result,
        "chips.csv, row 2, column bought: value '-5' — expected a number >= 0",
        "chips.csv, row 3, column bought: value 'inf' — expected a number >= 0",
        "chips.csv, row 4: value 'g, a, p2, all' — expected one row per chip, site, period and node; row 3",
        "chips.csv, row 6, column bought: value 'nan'",
    )
    # Once the file reads, it is checked against the case: a chip sold only in p2, at a site whose
    # first module is ready in p2
    chips = "chip,pflops,kw,capex_usd,life_years,first_period,last_period\ng,1,1,10000,5,p2,p2\n"
    case = write_case(tmp_path / "case", {"chips.csv": chips, "sites.csv": SITE_READY_IN_P2}, base=HAND_CASE)
    write_plan(
        plan,
        {
            "chips.csv": (
                "chip,site,period,node,bought\n"
                "g,a,p1,all,1000\nh,a,p1,all,5\nh,a,p2,all,0\nG,b,p2,all,5\ng,a,p9,all,5\ng,a,p2,all,5\n"
                "g,a,p2,hi,4\n"
            ),
        },
    )
    text = flat(cli("solve", case, "--fix-plan", plan, "--fix-chips").output)
    for expected in (
        "chips.csv, row 3, column chip: value 'h' — expected an id of the case (chips.csv); same value in 1"
        " more rows: 4",
        "chips.csv, row 5, column chip: value 'G' — expected an id of the case (chips.csv); 'g' differs from"
        " it only in letter case",
        "chips.csv, row 5, column site: value 'b' — expected an id of the case (sites.csv)",
        "chips.csv, row 6, column period: value 'p9' — expected a period of the case (periods.csv: p1, p2)",
        "chips.csv, row 8, column node: value 'hi' — expected 'all' (without the run's summary.json",
        "chips.csv, row 2, column period: value 'p1' — expected a period from g's first_period p2 to its"
        " last_period p2 (chips.csv): the case sells no g in p1",
    ):
        assert expected in text, expected


def test_chips_where_no_it_mw_can_be_built_yet_are_refused(
    tmp_path: Path, write_case: CaseWriter, cli: Cli
) -> None:
    """The model has no purchase at a site and period with no room for a chip (no existing_mw, the
    first module not ready yet): a frozen one there is refused, not dropped."""
    case = write_case(tmp_path / "case", {"sites.csv": SITE_READY_IN_P2}, base=HAND_CASE)
    plan = write_plan(tmp_path / "plan", TINY_PLAN)
    result = cli("solve", case, "--fix-plan", plan, "--fix-chips")
    assert result.exit_code == 2
    assert (
        "chips.csv, row 2, column period: value 'p1' — expected a period in which a can hold chips: it has no"
        " existing_mw, and a module started in its earliest_period p1 is ready 1 period(s) later (sites.csv),"
        " so chips fit there from p2 on; the plan buys 1,000 chips of g in p1"
    ) in flat(result.output)
    assert "row 3" not in result.output  # p2's purchase has room
    # The rows after --fix-through are not frozen, and need no room nor any id of the case
    write_plan(plan, {"chips.csv": "chip,site,period,node,bought\ng,a,p1,all,0\nzz,a,p2,all,1\n"})
    result = cli("solve", case, "--fix-plan", plan, "--fix-chips", "--fix-through", "p1", "--json")
    assert result.exit_code == 0, result.output


def test_a_plan_without_chips_csv(tmp_path: Path, lower_case: Path, cli: Cli) -> None:
    plan = write_plan(tmp_path / "plan", {name: TINY_PLAN[name] for name in ("builds.csv", "contracts.csv")})
    result = cli("solve", lower_case, "--fix-plan", plan, "--fix-chips")
    assert result.exit_code == 2
    assert (
        f"{plan / 'chips.csv'} — expected this file of the plan, which is missing: --fix-chips freezes the"
        " decisions it lists (chips.csv of a run folder, or one in its columns: chip, site, period, node,"
        " bought); leave --fix-chips out to freeze the buildings and contracts alone"
    ) in flat(result.output)
    assert cli("solve", lower_case, "--fix-plan", plan, "--json").exit_code == 0


@pytest.mark.parametrize("command", ["solve", "sweep"])
def test_fix_chips_needs_a_plan(tmp_path: Path, lower_case: Path, cli: Cli, command: str) -> None:
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("case,group,file,column,where,op,value\n")
    args = (lower_case, sweep) if command == "sweep" else (lower_case,)
    result = cli(command, *args, "--fix-chips")
    assert result.exit_code == 2
    assert "--fix-chips needs --fix-plan" in result.output


@pytest.mark.parametrize(
    ("files", "chips", "expected"),
    [
        (  # 1,500 chips of 1 kW in a 1 MW building
            {},
            "g,a,p1,all,1500\n",
            [
                "These constraints cannot all hold together (an irreducible infeasible set)",
                "chip fleet (purchases in service): g, a, period p1 (hi+lo)",
                "chips must fit in built IT MW: a, period p1 (hi+lo)",
            ],
        ),
        (
            {"chip_supply.csv": "chip,period,max_units\ng,p1,500\n"},
            "g,a,p1,all,1000\n",
            [
                "with the decisions fixed, this constraint cannot hold",
                "chip supply limit: g, period p1 (hi+lo)",
            ],
        ),
        (  # 10 $M of building and 10 $M of chips
            {"budget.csv": "period,capex_limit_musd\np1,15\n"},
            "g,a,p1,all,1000\n",
            ["with the decisions fixed, this constraint cannot hold", "capex budget: period p1 (hi+lo)"],
        ),
    ],
)
def test_frozen_chips_the_case_cannot_hold_are_a_model_with_no_plan(
    tmp_path: Path,
    write_case: CaseWriter,
    cli: Cli,
    files: dict[str, str],
    chips: str,
    expected: list[str],
) -> None:
    case = write_case(tmp_path / "case", {"demand.csv": LOWER_DEMAND, **files}, base=HAND_CASE)
    plan = write_plan(tmp_path / "plan", {**TINY_PLAN, "chips.csv": "chip,site,period,node,bought\n" + chips})
    result = cli("solve", case, "--fix-plan", plan, "--fix-chips", "--out", tmp_path / "run")
    assert result.exit_code == 1
    text = flat(result.output)
    for words in expected:
        assert words in text, words
    assert not (tmp_path / "run").exists()
    assert cli("solve", case, "--fix-plan", plan, "--fix-through", "p1", "--json").exit_code == 0


def test_a_sweep_with_frozen_chips(tmp_path: Path, cli: Cli, write_case: CaseWriter) -> None:
    """Base is inputs/tiny under its own phased plan (9.9855); 20% less demand costs 9.7884 with the
    chips frozen; chips of twice the kW no longer fit the frozen buildings: that variant fails alone."""
    case = write_case(tmp_path / "tiny", base=HAND_CASE)
    plan = write_plan(tmp_path / "plan", TINY_PLAN)
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(
        "case,group,file,column,where,op,value\nlow,,demand.csv,eflops,,scale,0.8\nhot,,chips.csv,kw,,scale,2\n"
    )
    run = tmp_path / "run"
    args = ("sweep", case, sweep, "--fix-plan", plan, "--fix-chips", "--workers", 1, "--no-plans")
    result = cli(*args, "--json", "--out", run)
    assert result.exit_code == 1  # one variant failed
    answer = json.loads(result.stdout)
    assert answer["fixed_plan"]["chip_purchases"] == 2
    assert (run / "fixed_plan_chips.csv").read_text() == TINY_PLAN["chips.csv"]
    assert json.loads((run / "fixed_plan.json").read_text())["chip_purchases"] == 2
    variants = {v["case"]: v for v in answer["variants"]}
    assert variants["base"]["objective_musd"] == pytest.approx(TINY_PHASED_MUSD, rel=1e-6)
    assert variants["low"]["objective_musd"] == pytest.approx(FROZEN_CHIPS_MUSD, rel=1e-6)
    assert variants["hot"]["status"] == "failed"
    assert "chips must fit in built IT MW: a, period p1" in flat(variants["hot"]["error"])
    text = flat(cli(*args, "--out", tmp_path / "run2").output)
    assert "the buildings, contracts and chip purchases of" in text
    no_chips = cli(*[a for a in args if a != "--fix-chips"], "--out", tmp_path / "r3")
    assert no_chips.exit_code == 0  # chips re-optimised: hot buys the chips that fit
    assert not (tmp_path / "r3" / "fixed_plan_chips.csv").exists()


# --------------------------------------------------------------------------------------------
# Properties: a model's own chips, frozen, change nothing; frozen chips never cost less
# --------------------------------------------------------------------------------------------

CHIPS_PROPERTY = settings(PROPERTY, max_examples=15)


def frozen_with_chips(result: PlanResult, folder: Path) -> Path:
    """``result``'s plan as a run folder writes it (10 digits), chips included."""
    frozen_from(result, folder)
    result.results.chips.to_csv(folder / "chips.csv", index=False, float_format="%.10g")
    return folder


def rescored(folder: Path, case: Case, config: ModelConfig, through: str | None, chips: bool) -> float:
    fitted, _ = fit_frozen_plan(read_frozen_plan(folder, through=through, chips=chips), case, config)
    return solve_case(case, config, fixed_plan=fitted).objective_musd


def at_least(a: float, b: float) -> bool:
    """``a >= b`` up to the solver's tolerance."""
    return a >= b - 1e-6 * max(1.0, abs(b))


def chips_same_through(result: PlanResult, folder: Path) -> int:
    """The last period index up to which the plan in ``folder`` bought every chip the same in every
    scenario (read from its chips.csv, a scenario at no listed node buying none)."""
    case = result.case
    by_scenario: dict[tuple[str, str, str], dict[str, float]] = {}
    for line in (folder / "chips.csv").read_text().splitlines()[1:]:
        c, s, period, node, _, value, _ = line.split(",")
        for w in node_scenarios(node, case.scenarios) or []:
            by_scenario.setdefault((c, s, period), {})[w] = float(value)
    last = -1
    for period in case.periods:
        for (_, _, p), values in by_scenario.items():
            taken = [values.get(w, 0.0) for w in case.scenarios]
            if p == period and max(taken) - min(taken) > SAME_VALUE * max(1.0, max(taken)):
                return last
        last += 1
    return last


@CHIPS_PROPERTY
@given(case=cases(min_scenarios=2))
def test_freezing_the_phased_plans_first_period_chips_included_changes_nothing(
    tmp_path_factory: pytest.TempPathFactory, exact_config: ExactConfig, case: Case
) -> None:
    config = exact_config("phased")
    own = solve_case(case, config)
    folder = frozen_with_chips(own, tmp_path_factory.mktemp("plan"))
    objective = rescored(folder, case, config, case.periods[0], chips=True)
    assert objective == pytest.approx(own.objective_musd, rel=1e-6, abs=1e-6)


@CHIPS_PROPERTY
@given(case=cases(min_scenarios=2), scale=st.sampled_from([0.5, 1.5, 2.0]))
def test_frozen_chips_never_cost_less_than_free_ones(
    tmp_path_factory: pytest.TempPathFactory, exact_config: ExactConfig, case: Case, scale: float
) -> None:
    """The phased plan of the case with demand scaled, frozen through its first period into the
    case: with its chips it costs at least what it costs with them re-optimised, which costs at
    least the case's own optimum."""
    config = exact_config("phased")
    demand = {key: scale * eflops for key, eflops in case.demand_eflops.items()}
    planned = solve_case(case.with_demand(demand, case.scenario_probability), config)
    folder = frozen_with_chips(planned, tmp_path_factory.mktemp("plan"))
    first = case.periods[0]
    with_chips = rescored(folder, case, config, first, chips=True)
    without = rescored(folder, case, config, first, chips=False)
    assert at_least(with_chips, without)
    assert at_least(without, solve_case(case, config).objective_musd)


@CHIPS_PROPERTY
@given(case=cases(min_scenarios=2))
def test_all_at_once_chips_frozen_until_they_part(
    tmp_path_factory: pytest.TempPathFactory, exact_config: ExactConfig, case: Case
) -> None:
    """All-at-once buys chips at the nodes of the scenario tree: its plan, chips included, can be
    frozen through the last period in which its chips are the same in every scenario. Under
    all-at-once that changes nothing; under phased it costs at least the same plan with its chips
    free. One period further is refused, naming the --fix-through that works."""
    all_at_once = exact_config("all-at-once")
    own = solve_case(case, all_at_once)
    folder = frozen_with_chips(own, tmp_path_factory.mktemp("plan"))
    last = chips_same_through(own, folder)
    through = case.periods[last]
    assert rescored(folder, case, all_at_once, through, chips=True) == pytest.approx(
        own.objective_musd, rel=1e-6, abs=1e-6
    )
    phased = exact_config("phased")
    with_chips = rescored(folder, case, phased, through, chips=True)
    assert at_least(with_chips, rescored(folder, case, phased, through, chips=False))
    if last + 1 < len(case.periods):
        one_more = read_frozen_plan(folder, through=case.periods[last + 1], chips=True)
        with pytest.raises(InputError) as refused:
            fit_frozen_plan(one_more, case, phased)
        assert f"freeze the periods before (--fix-through {through})" in str(refused.value)
