"""``--fix-plan``: an earlier plan's buildings and contracts frozen, chips and operations re-optimised.

The hand case is ``inputs/tiny`` (its README works the phased plan out): one site of 1 MW modules,
one chip of 1 kW and 1 PFLOPS, a divisible 5 MW grid contract, p1 demand 1 EFLOPS, p2 2 (``hi``)
or 0.5 (``lo``), no discounting, a penalty of 1,000 $M per EFLOPS-year unmet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from conftest import CaseWriter, Cli, ExactConfig
from factory import solve
from hypothesis import given
from hypothesis import strategies as st
from test_properties import PROPERTY, cases

from planner.case import Case
from planner.config import ModelConfig, SolverSettings
from planner.frozen_plan import read_frozen_plan
from planner.frozen_plan_fit import fit_frozen_plan, node_scenarios
from planner.plan import PlanResult, later_decisions_start, solve_case

HAND_CASE = {
    path.name: path.read_text(encoding="utf-8")
    for path in (Path(__file__).parents[1] / "inputs" / "tiny").glob("*.csv")
}
TINY_PHASED_MUSD = 9.9855
"""inputs/tiny under phased (its README)."""

ONE_MODULE_PLAN = {
    "builds.csv": "site,period,node,modules\na,p1,all,1\n",
    "contracts.csv": "contract,period,node,share\ngrid,p1,all,0.4\n",
}
"""A plan that builds 1 MW in p1 and never more, with 2 MW of the grid contract."""
NO_SIGNINGS = "contract,period,share\n"


@pytest.fixture
def hand_case(tmp_path: Path, write_case: CaseWriter) -> Path:
    """inputs/tiny, written into ``tmp_path/tiny``."""
    return write_case(tmp_path / "tiny", base=HAND_CASE)


def hand_case_with_site(
    tmp_path: Path, write_case: CaseWriter, max_mw: float = 10, module_mw: float = 1
) -> Path:
    """The hand case with its site's ``max_mw`` and ``module_mw`` changed."""
    sites = HAND_CASE["sites.csv"].replace("a,us,10,1,", f"a,us,{max_mw:g},{module_mw:g},")
    return write_case(tmp_path / "case", {"sites.csv": sites}, base=HAND_CASE)


def write_plan(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def flat(text: str) -> str:
    """Console text with rich's line wrapping undone."""
    return " ".join(text.split())


def assert_refused(result: Result, *expected: str) -> str:
    """``result`` is exit 2 saying each of ``expected`` (whitespace folded), without a traceback;
    returns its text."""
    assert result.exit_code == 2, result.output
    text = flat(result.output)
    for said in expected:
        assert said in text, said
    assert "Traceback" not in text
    return text


def summary(cli: Cli, *args: object) -> dict[str, Any]:
    """``planner solve ARGS --json``, which must succeed."""
    outcome = cli("solve", *args, "--json")
    assert outcome.exit_code == 0, outcome.output
    loaded: dict[str, Any] = json.loads(outcome.stdout)
    return loaded


# --------------------------------------------------------------------------------------------
# Numbers, by hand
# --------------------------------------------------------------------------------------------


def test_a_frozen_one_module_plan_leaves_hi_short(tmp_path: Path, hand_case: Path, cli: Cli) -> None:
    """1 module (net of salvage 10 - 8 = 2) holds 1,000 chips (10 - 6 = 4). p2 in hi misses
    1 EFLOPS for a year: 1,000 $M with probability 0.5. Energy: 1 MW for a year in p1 (0.438),
    then 1 MW in hi and 0.5 MW in lo: 0.438 + 0.5 * (0.438 + 0.219). Expected 506.7665 $M."""
    plan = write_plan(tmp_path / "plan", ONE_MODULE_PLAN)
    out = summary(cli, hand_case, "--fix-plan", plan, "--out", tmp_path / "run")
    assert out["objective_musd"] == pytest.approx(2 + 4 + 0.7665 + 500, rel=1e-9)
    assert out["cost_by_scenario_musd"]["hi"]["unmet_demand"] == pytest.approx(1000, rel=1e-9)
    assert out["fixed_plan"] == {"from": str(plan), "through": None, "builds": 1, "signings": 1}
    assert out["integer_columns"] == 0  # every integer decision frozen: an LP
    builds = (tmp_path / "run" / "builds.csv").read_text()
    assert builds.splitlines()[1:] == ["a,p1,all,1,1,p1"]
    said = cli("solve", hand_case, "--fix-plan", plan, "--out", tmp_path / "again").output
    assert "(phased, MIP, no integer decision left free: an LP)" in " ".join(said.split())


def test_freezing_only_p1_leaves_p2_to_the_model(tmp_path: Path, hand_case: Path, cli: Cli) -> None:
    """The plan's p1 is the phased plan's p1 (1 module; 2 MW of grid is enough firm power for two
    modules), so with p2 free the phased optimum comes back, a second module in p2."""
    plan = write_plan(tmp_path / "plan", ONE_MODULE_PLAN)
    out = summary(cli, hand_case, "--fix-plan", plan, "--fix-through", "p1", "--out", tmp_path / "run")
    assert out["objective_musd"] == pytest.approx(TINY_PHASED_MUSD, rel=1e-9)
    assert out["fixed_plan"]["through"] == "p1"
    builds = (tmp_path / "run" / "builds.csv").read_text().splitlines()[1:]
    assert builds == ["a,p1,all,1,1,p1", "a,p2,all,1,1,p2"]


def test_a_frozen_plan_too_big_for_the_site_or_signed_twice_names_its_rows(
    tmp_path: Path, write_case: CaseWriter, cli: Cli
) -> None:
    case = hand_case_with_site(tmp_path, write_case, max_mw=1)
    plan = write_plan(
        tmp_path / "plan",
        {
            "builds.csv": "site,period,modules\na,p1,1\na,p2,1\n",
            "contracts.csv": "contract,period,share\ngrid,p1,0.8\ngrid,p2,0.8\n",
        },
    )
    result = cli("solve", case, "--fix-plan", plan, "--out", tmp_path / "run")
    assert result.exit_code == 2
    text = flat(result.output)
    assert "builds.csv, row 2, column modules: value '1' — expected at most 1 module at a in all" in text
    assert "the plan starts 2" in text
    assert "contracts.csv, row 3, column share: value '0.8' — expected shares of grid adding up" in text
    assert not (tmp_path / "run").exists()


def test_a_frozen_plan_over_budget_is_explained_as_a_model_with_no_plan(
    tmp_path: Path, write_case: CaseWriter, cli: Cli
) -> None:
    """The budget holds chips too, which stay free: a model with no plan (exit 1), in words."""
    case = write_case(tmp_path / "case", {"budget.csv": "period,capex_limit_musd\np1,5\n"}, base=HAND_CASE)
    plan = write_plan(tmp_path / "plan", ONE_MODULE_PLAN)
    result = cli("solve", case, "--fix-plan", plan, "--out", tmp_path / "run")
    assert result.exit_code == 1
    assert "budget" in result.output and "p1" in result.output
    assert not (tmp_path / "run").exists()


# --------------------------------------------------------------------------------------------
# Properties: a model's own plan, frozen, costs what the model said
# --------------------------------------------------------------------------------------------


def frozen_from(result: PlanResult, folder: Path) -> Path:
    """``result``'s plan tables as a run folder writes them (10 digits), with its scenarios."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("builds", "contracts"):
        getattr(result.results, name).to_csv(folder / f"{name}.csv", index=False, float_format="%.10g")
    scenarios: dict[str, dict[str, float]] = {w: {} for w in result.case.scenarios}
    (folder / "summary.json").write_text(json.dumps({"cost_by_scenario_musd": scenarios, "integer": True}))
    return folder


@PROPERTY
@given(case=cases(min_scenarios=2), policy=st.sampled_from(["all-at-once", "plan-on-mean"]))
def test_a_models_own_plan_frozen_costs_its_objective(
    tmp_path_factory: pytest.TempPathFactory, exact_config: ExactConfig, case: Case, policy: str
) -> None:
    own = solve(case, policy)  # type: ignore[arg-type]
    folder = frozen_from(own, tmp_path_factory.mktemp("plan"))
    config = exact_config("phased")
    fitted, _ = fit_frozen_plan(read_frozen_plan(folder), case, config)
    rescored = solve_case(case, config, fixed_plan=fitted)
    assert rescored.objective_musd == pytest.approx(own.objective_musd, rel=1e-6, abs=1e-6)


@PROPERTY
@given(case=cases(min_scenarios=2), data=st.data())
def test_freezing_the_phased_plan_before_it_branches_changes_nothing(
    tmp_path_factory: pytest.TempPathFactory, exact_config: ExactConfig, case: Case, data: st.DataObject
) -> None:
    """Freezing an optimal plan's first period restricts nothing the optimum needs; freezing
    another plan's can only cost more."""
    config = exact_config("phased")
    own = solve_case(case, config)
    folder = frozen_from(own, tmp_path_factory.mktemp("plan"))
    first = case.periods[0]
    fitted, _ = fit_frozen_plan(read_frozen_plan(folder, through=first), case, config)
    assert solve_case(case, config, fixed_plan=fitted).objective_musd == pytest.approx(
        own.objective_musd, rel=1e-6, abs=1e-6
    )
    modules = data.draw(st.sampled_from([0, 1]), label="modules")
    site = case.sites[next(iter(case.sites))]
    other = write_plan(
        tmp_path_factory.mktemp("other"),
        {"builds.csv": f"site,period,modules\n{site.site},{first},{modules}\n", "contracts.csv": NO_SIGNINGS},
    )
    if site.earliest_period not in (None, first) or modules * site.module_mw > site.max_mw - site.existing_mw:
        return
    fitted, _ = fit_frozen_plan(read_frozen_plan(other, through=first), case, config)
    assert solve_case(case, config, fixed_plan=fitted).objective_musd >= own.objective_musd - 1e-6 * max(
        1.0, abs(own.objective_musd)
    )


@PROPERTY
@given(case=cases(min_scenarios=2))
def test_a_plan_frozen_through_its_first_period_never_costs_more_than_itself(
    tmp_path_factory: pytest.TempPathFactory, case: Case
) -> None:
    """A MIP stopped at a loose gap returns some plan within it; freezing that plan's first period
    and solving again under the same settings could return another, dearer one. The solve starts
    from the plan's own later decisions (at the nodes they were taken), so it never does."""
    loose = ModelConfig(
        name="phased", solver=SolverSettings(mip_gap=0.5, proof_budget=0, threads=1, warm_start_s=0)
    )
    own = solve_case(case, loose)
    folder = frozen_from(own, tmp_path_factory.mktemp("plan"))
    fitted, _ = fit_frozen_plan(read_frozen_plan(folder, through=case.periods[0]), case, loose)
    frozen = solve_case(case, loose, fixed_plan=fitted)
    assert frozen.objective_musd <= own.objective_musd + 1e-6 * max(1.0, abs(own.objective_musd))
    # The start is the plan's decisions at the same nodes: every free integer decision, none fixed.
    start = later_decisions_start(frozen.planning_model, fitted)
    own_model, model = own.planning_model.model, frozen.planning_model.model
    decisions = (*model.build.values(), *model.sign.values())
    free = [var for var in decisions if not var.fixed and var.is_integer()]
    if not free:
        assert start is None
        return
    assert start is not None and len(start) == len(free)
    for var in free:
        twin = own_model.find_component(var.name)
        assert start[var] == pytest.approx(round(twin.value or 0.0), abs=1e-9), var.name


# --------------------------------------------------------------------------------------------
# Reading node labels
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "scenarios", "expected"),
    [
        ("all", ("a", "b"), ["a", "b"]),
        ("a+b", ("a", "b", "c"), ["a", "b"]),
        ("b+a", ("a", "b"), ["b", "a"]),
        ("a+q", ("a", "b"), None),
        ("", ("a",), None),
    ],
)
def test_node_labels_name_the_runs_scenarios(
    label: str, scenarios: tuple[str, ...], expected: list[str] | None
) -> None:
    assert node_scenarios(label, scenarios) == expected


def phased_plan(tmp_path: Path, builds: str, contracts: str) -> Path:
    """A plan of the hand case's scenarios, ``hi`` and ``lo``, with their run's summary."""
    summary_json = json.dumps({"cost_by_scenario_musd": {"hi": {}, "lo": {}}})
    files = {"builds.csv": builds, "contracts.csv": contracts, "summary.json": summary_json}
    return write_plan(tmp_path / "plan", files)


def test_equal_decisions_at_nodes_covering_every_scenario_are_one_decision(
    tmp_path: Path, hand_case: Path, cli: Cli
) -> None:
    builds = "site,period,node,modules\na,p1,all,1\na,p2,hi,1\na,p2,lo,1\n"
    plan = phased_plan(tmp_path, builds, "contract,period,node,share\ngrid,p1,all,1\n")
    out = summary(cli, hand_case, "--fix-plan", plan, "--out", tmp_path / "run")
    assert out["objective_musd"] == pytest.approx(TINY_PHASED_MUSD, rel=1e-9)


# --------------------------------------------------------------------------------------------
# Bad plans: exit 2, every problem named
# --------------------------------------------------------------------------------------------


def test_a_plan_that_parts_between_scenarios_names_the_period_to_freeze_through(
    tmp_path: Path, hand_case: Path, cli: Cli
) -> None:
    builds = "site,period,node,modules\na,p1,all,1\na,p2,hi,1\n"
    plan = phased_plan(tmp_path, builds, "contract,period,node,share\ngrid,p1,all,1\ngrid,p2,lo,0\n")
    result = cli("solve", hand_case, "--fix-plan", plan)
    assert result.exit_code == 2
    text = flat(result.output)
    assert f"{plan / 'builds.csv'}, row 3, column node: value 'hi'" in text
    assert "--fix-through p1" in text
    assert "contracts.csv" not in text  # a zero share at one node is no decision taken
    assert cli("solve", hand_case, "--fix-plan", plan, "--fix-through", "p1", "--json").exit_code == 0


def test_every_problem_of_a_plan_at_once(tmp_path: Path, hand_case: Path, cli: Cli) -> None:
    plan = write_plan(
        tmp_path / "plan",
        {
            "builds.csv": (
                "site,period,node,modules\nb,p1,all,1\na,p9,all,1\na,p1,all,-1\na,p2,all,1\na,p2,all,2\n"
            ),
            "contracts.csv": "contract,period,share\ngrid,p1,1.5\n",
        },
    )
    result = cli("solve", hand_case, "--fix-plan", plan, "--fix-through", "p7", "--model", "plan-on-mean")
    assert_refused(
        result,
        "builds.csv, row 4, column modules: value '-1'",
        "builds.csv, row 6: value 'a, p2, all' — expected one row per site, period and node; row 5",
        "contracts.csv, row 2, column share: value '1.5'",
        "--model: value 'plan-on-mean'",
    )
    # Once the files read, the plan is checked against the case
    write_plan(plan, {"builds.csv": "site,period,modules\nb,p1,1\na,p9,1\n", "contracts.csv": NO_SIGNINGS})
    text = flat(cli("solve", hand_case, "--fix-plan", plan, "--fix-through", "p7").output)
    for expected in (
        "--fix-through: value 'p7' — expected a period of the case",
        "builds.csv, row 2, column site: value 'b' — expected an id of the case (sites.csv)",
        "builds.csv, row 3, column period: value 'p9' — expected a period of the case (periods.csv: p1, p2)",
    ):
        assert expected in text, expected


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"contracts.csv": "contract,period,share\n"}, "builds.csv — expected this file of the plan"),
        ({"builds.csv": "", "contracts.csv": NO_SIGNINGS}, "builds.csv — expected a header row"),
        (
            {"builds.csv": "site,period,modules\n", "contracts.csv": NO_SIGNINGS, "summary.json": "{"},
            "summary.json — expected a planner run's summary.json",
        ),
        (
            {"builds.csv": "site,period,modules,colour\n", "contracts.csv": "contract,period,share\n"},
            "builds.csv, row 1, column colour",
        ),
        ({"comparison.csv": "figure\n", "builds-phased.csv": ""}, "this is a compare folder"),
        ({"variants.csv": "case\n"}, "this is a sweep folder: freeze one variant's plan, in its plans/"),
        (
            {"variants.csv": "model,case\n", "strategies.csv": "case\n"},
            "this is a sweep folder: freeze one variant's plan, in its plans/<model>/<n>-<variant>/ folder",
        ),
        (
            {**ONE_MODULE_PLAN, "summary.json": json.dumps({"cost_by_scenario_musd": [1, 2]})},
            "summary.json, column cost_by_scenario_musd — expected a planner run's summary.json",
        ),
    ],
)
def test_unreadable_plan_files(
    tmp_path: Path, hand_case: Path, cli: Cli, files: dict[str, str], expected: str
) -> None:
    plan = write_plan(tmp_path / "plan", files)
    result = cli("solve", hand_case, "--fix-plan", plan)
    assert result.exit_code == 2
    assert expected in flat(result.output)
    assert "Error" not in result.output  # no exception's name


def test_a_plan_before_a_sites_earliest_period_or_signing_an_existing_contract(
    tmp_path: Path, write_case: CaseWriter, cli: Cli
) -> None:
    sites = (
        "site,region,max_mw,module_mw,capex_musd_per_mw,pue,life_years,earliest_period\na,us,10,1,10,1,10,p2\n"
    )
    power = "contract,site,kind,mw,price_usd_per_mwh,divisible,existing\ngrid,a,grid,5,50,true,true\n"
    case = write_case(tmp_path / "case", {"sites.csv": sites, "power.csv": power}, base=HAND_CASE)
    plan = write_plan(tmp_path / "plan", ONE_MODULE_PLAN)
    result = cli("solve", case, "--fix-plan", plan)
    assert result.exit_code == 2
    text = flat(result.output)
    expected = "builds.csv, row 2, column period: value 'p1' — expected a period from a's earliest_period p2"
    assert expected in text
    assert "contracts.csv, row 2, column contract: value 'grid' — expected a contract to sign" in text


def test_fix_through_needs_a_plan(hand_case: Path, cli: Cli) -> None:
    result = cli("solve", hand_case, "--fix-through", "p1")
    assert result.exit_code == 2
    assert "--fix-through needs --fix-plan" in result.output


# --------------------------------------------------------------------------------------------
# Warnings, run folders, sweeps
# --------------------------------------------------------------------------------------------


def test_other_module_sizes_and_lp_plans_are_warned_about(
    tmp_path: Path, write_case: CaseWriter, cli: Cli
) -> None:
    files = {
        "builds.csv": "site,period,node,modules,mw\na,p1,all,0.5,0.5\n",
        "contracts.csv": "contract,period,node,share,mw\ngrid,p1,all,1,5\n",
        "summary.json": json.dumps({"cost_by_scenario_musd": {"hi": {}, "lo": {}}, "integer": False}),
    }
    plan = write_plan(tmp_path / "plan", files)
    case = hand_case_with_site(tmp_path, write_case, module_mw=2)
    out = summary(cli, case, "--fix-plan", plan, "--out", tmp_path / "run")
    warnings = " ".join(out["warnings"])
    assert "row 2: a, 0.5 modules in p1: 1 MW in this case, 0.5 MW in the plan; frozen as 0.5" in warnings
    assert "signs parts of indivisible contracts (a plan from an LP run?): a: 0.5 modules in p1" in warnings
    assert "grid" not in warnings  # its size did not change


def test_the_run_folder_says_the_plan_was_frozen_and_protects_it(
    tmp_path: Path, hand_case: Path, cli: Cli
) -> None:
    plan = write_plan(tmp_path / "plan", ONE_MODULE_PLAN)
    result = cli("solve", hand_case, "--fix-plan", plan, "--out", plan, "--overwrite")
    assert result.exit_code == 2
    assert (plan / "builds.csv").read_text() == ONE_MODULE_PLAN["builds.csv"]
    result = cli("solve", hand_case, "--fix-plan", plan)
    assert result.exit_code == 0, result.output
    assert "plan frozen: the buildings and contracts of" in result.output
    assert "-phased-fixed-" in result.output


def test_a_sweep_rescoring_a_frozen_plan(tmp_path: Path, hand_case: Path, cli: Cli) -> None:
    """Base is the hand case above (506.7665). Twice the grid changes nothing: power was never
    short. A variant whose site shrinks under the frozen module fails alone, said in words."""
    plan = write_plan(tmp_path / "plan", ONE_MODULE_PLAN)
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(
        "case,group,file,column,where,op,value\n"
        "shrunk,,sites.csv,max_mw,,set,0.5\n"
        "more-power,,power.csv,mw,,scale,2\n"
    )
    run = tmp_path / "run"
    result = cli("sweep", hand_case, sweep, "--fix-plan", plan, "--workers", 1, "--json", "--out", run)
    assert result.exit_code == 1  # one variant failed
    answer = json.loads(result.stdout)
    assert answer["fixed_plan"] == {"from": str(plan), "through": None, "builds": 1, "signings": 1}
    assert (run / "fixed_plan_builds.csv").read_text() == ONE_MODULE_PLAN["builds.csv"]
    assert json.loads((run / "fixed_plan.json").read_text())["from"] == str(plan)
    variants = {v["case"]: v for v in answer["variants"]}
    assert variants["base"]["objective_musd"] == pytest.approx(506.7665, rel=1e-9)
    assert variants["more-power"]["objective_musd"] == pytest.approx(506.7665, rel=1e-9)  # was never short
    assert variants["shrunk"]["status"] == "failed"
    error = variants["shrunk"]["error"]
    assert "builds.csv, row 2, column modules: value '1' — expected at most 0.5 modules at a" in error


# --------------------------------------------------------------------------------------------
# What a run folder tells of its plan: scenarios, periods, existing contracts (a review's findings)
# --------------------------------------------------------------------------------------------


def test_a_run_with_a_scenario_named_all_cannot_be_read(tmp_path: Path, hand_case: Path, cli: Cli) -> None:
    """Its label ``all`` could be that one scenario's node: refused, not guessed."""
    plan = write_plan(
        tmp_path / "plan",
        {**ONE_MODULE_PLAN, "summary.json": json.dumps({"cost_by_scenario_musd": {"all": {}, "lo": {}}})},
    )
    result = cli("solve", hand_case, "--fix-plan", plan)
    assert result.exit_code == 2
    assert "summary.json: value 'all' — expected scenario ids other than 'all' and without '+'" in flat(
        result.output
    )


@pytest.mark.parametrize(
    ("builds", "expected"),
    [
        ("a,p1,all,1\na,p2,foo,1\n", "row 3, column node: value 'foo' — expected 'all' or the run's"),
        ("a,p1,all,1\na,p2,hi,1\na,p2,hi+lo,1\n", "row 4, column node: value 'hi+lo' — expected nodes"),
    ],
)
def test_node_labels_that_name_no_node_of_the_run(
    tmp_path: Path, hand_case: Path, cli: Cli, builds: str, expected: str
) -> None:
    plan = phased_plan(tmp_path, "site,period,node,modules\n" + builds, NO_SIGNINGS)
    result = cli("solve", hand_case, "--fix-plan", plan)
    assert result.exit_code == 2
    assert expected in flat(result.output)
    assert "--fix-through" not in result.output  # a typo is not a tree that parts


def test_a_hand_written_plan_names_its_row_labelled_with_scenarios(
    tmp_path: Path, hand_case: Path, cli: Cli
) -> None:
    """Without the run's summary.json only 'all' reads: the row labelled 'hi' is the one named, not
    the 'all' row of the same site and period listed before it."""
    builds = "site,period,node,modules\na,p1,all,1\na,p2,all,1\na,p2,hi,1\n"
    plan = write_plan(tmp_path / "plan", {"builds.csv": builds, "contracts.csv": NO_SIGNINGS})
    result = cli("solve", hand_case, "--fix-plan", plan)
    assert result.exit_code == 2
    text = flat(result.output)
    assert "builds.csv, row 4, column node: value 'hi' — expected 'all' (without the run's summary" in text
    assert "row 3" not in text


def test_periods_the_plans_run_did_not_have(
    tmp_path: Path, write_case: CaseWriter, cli: Cli
) -> None:
    """A case one period longer than the plan's run: its p3 would silently build nothing."""
    longer = {
        **HAND_CASE,
        "periods.csv": HAND_CASE["periods.csv"] + "p3,1\n",
        "demand.csv": HAND_CASE["demand.csv"] + "hi,p3,train,2\nlo,p3,train,0.5\n",
    }
    case = write_case(tmp_path / "case", base=longer)
    run_periods = "period,total\np1,1\np2,0\n"
    plan = write_plan(tmp_path / "plan", {**ONE_MODULE_PLAN, "capex_by_period.csv": run_periods})
    result = cli("solve", case, "--fix-plan", plan)
    assert result.exit_code == 2
    assert "capex_by_period.csv, column period: value 'p3'" in flat(result.output)
    assert "(--fix-through p2)" in flat(result.output)
    assert cli("solve", case, "--fix-plan", plan, "--fix-through", "p2", "--json").exit_code == 0
    one_period = {
        "periods.csv": "period,years\np1,1\n",
        "demand.csv": "scenario,period,workload,eflops\nw,p1,train,1\n",
    }
    shorter = write_case(tmp_path / "short", one_period, base=HAND_CASE)
    write_plan(plan, {"builds.csv": "site,period,modules\na,p1,1\na,p2,1\n"})
    assert cli("solve", shorter, "--fix-plan", plan, "--fix-through", "p1", "--json").exit_code == 0
    assert cli("solve", shorter, "--fix-plan", plan, "--json").exit_code == 2


def test_an_existing_contract_of_the_run_that_the_case_has_to_sign(
    tmp_path: Path, hand_case: Path, cli: Cli
) -> None:
    plan = write_plan(
        tmp_path / "plan",
        {**ONE_MODULE_PLAN, "contracts.csv": "contract,period,share\ngrid,existing,1\nzz,existing,1\n"},
    )
    result = cli("solve", hand_case, "--fix-plan", plan)
    assert result.exit_code == 2
    assert "row 3, column contract: value 'zz' — expected an id of the case (power.csv)" in flat(
        result.output
    )
    write_plan(plan, {"contracts.csv": "contract,period,share\ngrid,existing,1\n"})
    out = summary(cli, hand_case, "--fix-plan", plan, "--out", tmp_path / "run")
    assert "grid was an existing contract in the plan's run and is one to sign in this case" in " ".join(
        out["warnings"]
    )


def test_whole_plans_from_lp_runs_get_no_fraction_warning(tmp_path: Path, hand_case: Path, cli: Cli) -> None:
    plan = write_plan(
        tmp_path / "plan",
        {**ONE_MODULE_PLAN, "summary.json": json.dumps({"cost_by_scenario_musd": {"w": 0}, "integer": 0})},
    )
    out = summary(cli, hand_case, "--fix-plan", plan, "--out", tmp_path / "run")
    assert out.get("warnings") == []


# --------------------------------------------------------------------------------------------
# A second review's findings
# --------------------------------------------------------------------------------------------


def test_rows_after_fix_through_need_no_id_of_the_case(tmp_path: Path, hand_case: Path, cli: Cli) -> None:
    """"The first year is committed, then site b falls through": b's later rows are not frozen."""
    plan = phased_plan(tmp_path, "site,period,node,modules\na,p1,all,1\nb,p2,hi,1\n", NO_SIGNINGS)
    assert cli("solve", hand_case, "--fix-plan", plan, "--fix-through", "p1", "--json").exit_code == 0
    write_plan(plan, {"builds.csv": "site,period,node,modules\na,p1,all,1\nb,p2,hi,1\nb,p9,lo,1\n"})
    result = cli("solve", hand_case, "--fix-plan", plan, "--fix-through", "p1")
    assert result.exit_code == 2
    text = flat(result.output)
    assert "row 4, column period: value 'p9'" in text
    assert "without the run's capex_by_period.csv planner cannot tell whether it comes after" in text
    text = flat(cli("solve", hand_case, "--fix-plan", plan).output)
    assert "row 3, column site: value 'b' — expected an id of the case (sites.csv)" in text


def test_a_case_with_the_runs_periods_in_another_order(
    tmp_path: Path, write_case: CaseWriter, cli: Cli
) -> None:
    longer = {
        **HAND_CASE,
        "periods.csv": "period,years\np1,1\np3,1\np2,1\n",
        "demand.csv": HAND_CASE["demand.csv"] + "hi,p3,train,2\nlo,p3,train,0.5\n",
    }
    case = write_case(tmp_path / "case", base=longer)
    run_periods = "period,total\np1,1\np2,0\np3,0\n"
    plan = write_plan(tmp_path / "plan", {**ONE_MODULE_PLAN, "capex_by_period.csv": run_periods})
    result = cli("solve", case, "--fix-plan", plan, "--fix-through", "p3")
    assert result.exit_code == 2
    expected = "capex_by_period.csv, column period: value 'p1, p3, p2' — expected the case's periods in the"
    assert expected in flat(result.output)


@pytest.mark.parametrize("content", ["period,total\np1,1\np1,2\n", "total\n1\n", "\xff\xfe"])
def test_a_runs_periods_table_that_does_not_read(
    tmp_path: Path, hand_case: Path, cli: Cli, content: str
) -> None:
    plan = write_plan(tmp_path / "plan", ONE_MODULE_PLAN)
    (plan / "capex_by_period.csv").write_bytes(content.encode("latin-1"))
    result = cli("solve", hand_case, "--fix-plan", plan)
    assert result.exit_code == 2
    assert "capex_by_period.csv" in result.output and "expected a planner run's capex_by_period.csv" in flat(
        result.output
    )
    (plan / "capex_by_period.csv").unlink()
    (plan / "capex_by_period.csv").mkdir()
    result = cli("solve", hand_case, "--fix-plan", plan)
    assert "a regular file (found a folder of that name)" in flat(result.output)


def test_scenario_ids_with_a_plus_only_matter_where_a_frozen_row_is_labelled(
    tmp_path: Path, hand_case: Path, cli: Cli
) -> None:
    plan = write_plan(
        tmp_path / "plan",
        {
            "builds.csv": "site,period,node,modules\na,p1,all,1\na,p2,x+y,1\n",
            "contracts.csv": NO_SIGNINGS,
            "summary.json": json.dumps({"cost_by_scenario_musd": {"x+y": {}, "z": {}}}),
        },
    )
    assert cli("solve", hand_case, "--fix-plan", plan, "--fix-through", "p1", "--json").exit_code == 0
    result = cli("solve", hand_case, "--fix-plan", plan)
    assert result.exit_code == 2
    assert "summary.json: value 'x+y' — expected scenario ids other than 'all' and without '+'" in flat(
        result.output
    )
    assert "1 problem(s)" in result.output  # the label is not read again, as naming no scenario


def test_all_at_once_frozen_through_its_only_periods_is_warned_about(
    tmp_path: Path, hand_case: Path, cli: Cli
) -> None:
    plan = write_plan(tmp_path / "plan", ONE_MODULE_PLAN)
    out = summary(cli, hand_case, "--model", "all-at-once", "--fix-plan", plan, "--fix-through", "p1")
    assert "all of them are frozen and the model decides none" in " ".join(out["warnings"])
    assert out["fixed_plan"]["through"] == "p1"


def test_a_sweep_gives_each_variants_plan_warnings(tmp_path: Path, hand_case: Path, cli: Cli) -> None:
    builds = "site,period,modules,mw\na,p1,1,1\n"
    plan = write_plan(tmp_path / "plan", {**ONE_MODULE_PLAN, "builds.csv": builds})
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("case,group,file,column,where,op,value\nbig,,sites.csv,module_mw,,set,2\n")
    args = ("sweep", hand_case, sweep, "--fix-plan", plan, "--workers", 1, "--no-plans")
    answer = json.loads(cli(*args, "--json", "--out", tmp_path / "run").stdout)
    assert list(answer["variant_warnings"]) == ["big"]
    assert "2 MW in this case, 1 MW in the plan" in answer["variant_warnings"]["big"][0]
    assert "big: " in (tmp_path / "run" / "variant_warnings.txt").read_text()
    assert "warning: variant big:" in flat(cli(*args, "--out", tmp_path / "run2").output)
