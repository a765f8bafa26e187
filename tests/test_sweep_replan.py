"""``planner sweep --fix-plan RUN --replan``: every (model, variant) pair solved with the plan frozen
and re-planned freely, and the frozen plan's regret (``inputs/tiny``, MIP gap 0).

Each re-planned figure must equal a sweep of the same file without ``--fix-plan``; each regret the
frozen objective less the re-planned one. The hand case is tests/test_frozen_plan.py's: one 1 MW
module frozen costs 506.7665 $M on tiny, whose phased optimum is 9.9855 (a regret of 496.781).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import Cli
from rich.console import Console

from planner.money import MILLIONS
from planner.sweep import VariantOutcome
from planner.sweep_report import (
    REPLAN_COLUMNS,
    REPLANNED_SECONDS,
    VARIANT_COLUMNS,
    print_negative_regrets,
    variants_table,
)
from planner.sweep_strategies import strategies_columns

TINY = Path(__file__).resolve().parents[1] / "inputs" / "tiny"
ONE_MODULE_PLAN = {
    "builds.csv": "site,period,node,modules\na,p1,all,1\n",
    "contracts.csv": "contract,period,node,share\ngrid,p1,all,0.4\n",
}
"""tests/test_frozen_plan.py's plan: 1 MW built in p1 and never more, 2 MW of the grid contract."""
SWEEP = (
    "case,group,file,column,where,op,value\n"
    "chips_half,chip capex,chips.csv,capex_usd,,scale,0.5\n"
    "lo_grows,demand,demand.csv,eflops,scenario=lo&period=p2,set,1.5\n"
    "shrunk,,sites.csv,max_mw,,set,0.5\n"  # the frozen module no longer fits: the frozen solve fails
    "bad_chip,,chips.csv,capex_usd,chip=tpu,scale,2\n"  # sweep row 5: no chip tpu, both solves fail
)
SOLVED = ("base", "chips_half", "lo_grows")
"""The variants whose frozen and re-planned solves both find a plan."""
CASES = (*SOLVED, "shrunk", "bad_chip")


def sweep_json(cli: Cli, *args: object) -> dict[str, Any]:
    result = cli("sweep", *args, "--mip-gap", "0", "--json")
    payload: dict[str, Any] = json.loads(result.stdout)
    return {"code": result.exit_code, "payload": payload, "rows": rows_by_pair(payload)}


def rows_by_pair(payload: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row.get("model", ""), row["case"]): row for row in payload["variants"]}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("replan")
    (root / "sweep.csv").write_text(SWEEP)
    (root / "plan").mkdir()
    for name, text in ONE_MODULE_PLAN.items():
        (root / "plan" / name).write_text(text)
    return root


@pytest.fixture(scope="module")
def replanned(root: Path, cli: Cli) -> dict[str, Any]:
    """The sweep with the plan frozen and re-planned, plans written."""
    swept = sweep_json(cli, TINY, root / "sweep.csv", "--fix-plan", root / "plan", "--replan",
                       "--workers", "1", "--out", root / "run")
    return swept | {"out": root / "run"}


@pytest.fixture(scope="module")
def free(root: Path, cli: Cli) -> dict[str, Any]:
    """The same sweep file without --fix-plan: what each re-plan must be."""
    return sweep_json(cli, TINY, root / "sweep.csv", "--workers", "1", "--no-plans", "--out", root / "free")


def test_each_re_plan_is_the_sweep_without_fix_plan(replanned: dict, free: dict) -> None:
    assert replanned["code"] == free["code"] == 1  # bad_chip failed, and in the first, shrunk frozen
    assert [case for _, case in replanned["rows"]] == list(CASES)
    for variant in (*SOLVED, "shrunk"):
        row, direct = replanned["rows"]["", variant], free["rows"]["", variant]
        assert direct["status"] == row["replanned_status"] == "optimal"
        assert row["replanned_objective_musd"] == pytest.approx(direct["objective_musd"], rel=1e-9)
        assert row["replanned_bound_musd"] == pytest.approx(direct["bound_musd"], rel=1e-9)
        assert row["replanned_error"] == ""
    base = replanned["rows"]["", "base"]
    assert base["objective_musd"] == pytest.approx(506.7665, rel=1e-9)  # by hand: test_frozen_plan.py
    assert base["replanned_objective_musd"] == pytest.approx(9.9855, rel=1e-9)  # inputs/tiny's README
    # shrunk by hand: no 1 MW module fits in 0.5 MW, so every EFLOPS-year goes unmet at 1,000 $M:
    # p1's 1, then 2 (hi) or 0.5 (lo) at probability 0.5.
    assert replanned["rows"]["", "shrunk"]["replanned_objective_musd"] == pytest.approx(2250, rel=1e-9)


def test_the_regret_is_the_frozen_objective_less_the_re_planned_one(replanned: dict) -> None:
    for variant in SOLVED:
        row = replanned["rows"]["", variant]
        regret = row["objective_musd"] - row["replanned_objective_musd"]
        assert row["regret_musd"] == pytest.approx(regret, abs=1e-9)
        assert row["regret_musd"] >= -1e-6  # the frozen problem restricts the free one
        # Proven optima (gap 0): the range is the regret, give or take the bounds' round-off.
        assert row["regret_low_musd"] <= row["regret_musd"] <= row["regret_high_musd"]
        assert row["regret_high_musd"] - row["regret_low_musd"] < 1e-6
    assert replanned["rows"]["", "base"]["regret_musd"] == pytest.approx(506.7665 - 9.9855, rel=1e-9)
    # Half-price chips save the frozen plan 2 $M (its 1,000 chips), the re-plan 3 (its 2,000): 1 more.
    assert replanned["rows"]["", "chips_half"]["regret_musd"] == pytest.approx(497.781, rel=1e-9)


def test_a_failed_frozen_solve_leaves_its_re_plan_and_a_failed_edit_fails_both(replanned: dict) -> None:
    shrunk = replanned["rows"]["", "shrunk"]
    assert shrunk["status"] == "failed" and "expected at most 0.5 modules at a" in shrunk["error"]
    assert shrunk["replanned_status"] == "optimal" and shrunk["replanned_error"] == ""
    assert shrunk["regret_musd"] is None and shrunk["regret_low_musd"] is None
    bad = replanned["rows"]["", "bad_chip"]
    assert bad["status"] == bad["replanned_status"] == "failed"
    assert "sweep.csv, row 5, column where: value 'chip=tpu'" in bad["error"]
    assert bad["replanned_error"] == bad["error"]
    assert all(bad[column] is None for column in ("replanned_objective_musd", "regret_musd"))


def test_variants_csv_keeps_its_columns_and_rows_and_gains_the_regret_at_the_end(replanned: dict) -> None:
    out = replanned["out"]
    table = pd.read_csv(out / "variants.csv", keep_default_na=False)
    assert list(table.columns) == [*VARIANT_COLUMNS, *REPLAN_COLUMNS]
    assert list(table["case"]) == list(CASES)
    assert list(replanned["payload"]["variants"][0]) == [*VARIANT_COLUMNS, *REPLAN_COLUMNS, REPLANNED_SECONDS]
    timings = pd.read_csv(out / "timings.csv", keep_default_na=False)
    assert list(timings.columns) == ["case", "seconds", "replanned_seconds"] and len(timings) == len(CASES)
    assert out.name == "run" and (out / "fixed_plan_builds.csv").is_file()


def test_json_carries_each_re_plans_seconds_as_it_carries_the_variants_own(
    replanned: dict, free: dict
) -> None:
    """--json gave each variant's ``seconds`` but not its re-plan's, which only timings.csv had."""
    timings = pd.read_csv(replanned["out"] / "timings.csv", keep_default_na=False)
    rows = replanned["payload"]["variants"]
    for column in ("seconds", REPLANNED_SECONDS):
        assert [row[column] for row in rows] == pytest.approx(list(timings[column]), rel=1e-9), column
    re_planned = {row["case"]: row[REPLANNED_SECONDS] for row in rows}
    assert all(re_planned[case] > 0 for case in (*SOLVED, "shrunk"))
    assert re_planned["bad_chip"] == 0  # its edit failed: nothing was solved
    assert all(REPLANNED_SECONDS not in row for row in free["payload"]["variants"])  # no --replan


def test_each_re_plans_tables_are_beside_its_frozen_plans(replanned: dict) -> None:
    plans = replanned["out"] / "plans"
    assert sorted(path.name for path in plans.iterdir()) == [
        "0-base", "0-base-replanned", "1-chips_half", "1-chips_half-replanned",
        "2-lo_grows", "2-lo_grows-replanned", "3-shrunk-replanned",  # shrunk's frozen solve failed
    ]
    for variant, folder in (("base", "0-base"), ("lo_grows", "2-lo_grows")):
        row = replanned["rows"]["", variant]
        frozen = json.loads((plans / folder / "summary.json").read_text())
        replan = json.loads((plans / f"{folder}-replanned" / "summary.json").read_text())
        assert frozen["objective_musd"] == row["objective_musd"]
        assert replan["objective_musd"] == row["replanned_objective_musd"]
    builds = (plans / "0-base-replanned" / "builds.csv").read_text().splitlines()[1:]
    assert builds == ["a,p1,all,1,1,p1", "a,p2,all,1,1,p2"]  # the phased plan: a module more in p2


def test_the_console_shows_the_re_plan_and_the_regret_and_each_failure_once(
    root: Path, cli: Cli
) -> None:
    result = cli("sweep", TINY, root / "sweep.csv", "--fix-plan", root / "plan", "--replan", "--mip-gap",
                 "0", "--workers", "1", "--no-plans", "--out", root / "console")
    assert result.exit_code == 1
    text = " ".join(result.stdout.split())
    for header in ("objective $M", "re-planned $M", "regret $M"):
        assert header in text, header
    assert "│ base │ │ optimal │ 506.767 │ 9.986 │ 496.781 │ 0.000 │" in text
    assert "│ shrunk │ │ failed │ - │ 2,250.000 │ - │" in text
    assert "│ bad_chip │ │ failed │ - │ failed │ - │" in text
    assert text.count("bad_chip failed:") == 1 and text.count("chip=tpu") == 1
    assert text.count("shrunk failed:") == 1 and "re-planned failed" not in text
    # its input is valid (the re-plan solves it): the frozen plan is what no longer fits
    assert "shrunk failed: the frozen plan does not fit this variant:" in text
    assert "makes the input invalid" not in text.split("shrunk failed:")[1].split("failed:")[0]
    assert "Negative regret" not in text and "costs less than re-planning" not in text


def test_replan_needs_fix_plan(root: Path, cli: Cli) -> None:
    result = cli("sweep", TINY, root / "sweep.csv", "--replan", "--out", root / "refused")
    assert result.exit_code == 2
    assert "--replan needs --fix-plan" in result.output
    assert not (root / "refused").exists()


def test_several_models_each_re_plan_their_pairs(root: Path, cli: Cli) -> None:
    """tiny's own phased plan (a module in p1 and another in p2) frozen under phased and
    all-at-once, in one pool of two workers. Under phased it is the optimum: regret 0, and 2 $M
    once modules are 2 MW (the plan's two modules stay two, twice the MW; re-planned, one 2 MW
    module in p1). all-at-once builds in the first period only: the frozen plan is one it cannot
    choose, 1 $M cheaper than its own, said on the console."""
    own = root / "own"
    assert cli("solve", TINY, "--mip-gap", "0", "--out", own).exit_code == 0
    sweep = root / "big.csv"
    sweep.write_text("case,group,file,column,where,op,value\nbig,,sites.csv,module_mw,,set,2\n")
    models = ("--model", "phased", "--model", "all-at-once")
    swept = sweep_json(cli, TINY, sweep, *models, "--fix-plan", own, "--replan", "--workers", "2",
                       "--out", root / "models")
    free = sweep_json(cli, TINY, sweep, *models, "--workers", "1", "--no-plans", "--out", root / "free2")
    assert swept["code"] == free["code"] == 0
    assert list(swept["rows"]) == [(m, v) for m in ("phased", "all-at-once") for v in ("base", "big")]
    for pair, row in swept["rows"].items():
        direct = free["rows"][pair]
        assert row["replanned_objective_musd"] == pytest.approx(direct["objective_musd"], rel=1e-9), pair
        regret = row["objective_musd"] - row["replanned_objective_musd"]
        assert row["regret_musd"] == pytest.approx(regret, abs=1e-9)
        assert row["regret_low_musd"] <= row["regret_musd"] <= row["regret_high_musd"]
    assert all(row[REPLANNED_SECONDS] > 0 for row in swept["rows"].values())  # each pair's own re-plan
    regrets = {pair: row["regret_musd"] for pair, row in swept["rows"].items()}
    assert regrets == pytest.approx({("phased", "base"): 0.0, ("phased", "big"): 2.0,
                                     ("all-at-once", "base"): -1.0, ("all-at-once", "big"): 2.0}, abs=1e-6)
    assert swept["rows"]["all-at-once", "base"]["replanned_objective_musd"] == pytest.approx(10.9855)
    out = root / "models"
    assert list(pd.read_csv(out / "variants.csv").columns) == ["model", *VARIANT_COLUMNS, *REPLAN_COLUMNS]
    assert list(pd.read_csv(out / "strategies.csv").columns) == strategies_columns(["phased", "all-at-once"])
    assert (out / "plans" / "all-at-once" / "1-big-replanned" / "summary.json").is_file()
    assert json.loads((out / "models.json").read_text()).keys() == {"phased", "all-at-once"}
    console = cli("sweep", TINY, sweep, *models, "--fix-plan", own, "--replan", "--mip-gap", "0",
                  "--workers", "1", "--no-plans", "--out", root / "models-console")
    text = " ".join(console.stdout.split())
    assert ("The frozen plan costs less than re-planning under all-at-once beyond both solves' MIP gaps ($M):"
            " base -1.000 (between -1.000 and -1.000).") in text
    assert "under phased beyond" not in text


def _outcome(case: str, objective: float | None, bound: float | None, error: str | None = None,
             status: str = "optimal", replanned: bool = False) -> VariantOutcome:
    summary = None if objective is None else _summary(objective, bound, status)
    return VariantOutcome(case, "", summary, error, 1.0, replanned=replanned)


def _summary(objective: float, bound: float | None, status: str) -> dict[str, Any]:
    """A solve's summary as variants_table reads it."""
    risk = {name: {"expected": 0.0} for name in (
        "stranded_capital_musd_peak", "idle_pflops_share_peak", "empty_shell_mw_peak",
        "unused_take_or_pay_mwh_total")}
    breakdown = dict.fromkeys(
        ("buildings_capex", "chips_capex", "power_capex", "energy", "unmet_demand", "salvage"), 0.0)
    return {"status": status, "stages": [], "objective_musd": objective, "expected_cost_musd": objective,
            "bound_musd": bound, "mip_gap": 0.0, "within_mip_gap": status == "optimal",
            "cost_breakdown_musd": breakdown, "risk": risk, "fingerprint": "f"}


def test_regret_ranges_take_both_bounds_and_a_failed_re_plan_leaves_the_frozen_figures() -> None:
    """regret_low = frozen bound - re-planned plan, regret_high = frozen plan - re-planned bound;
    blank without a bound; a re-plan that failed blanks only the regret."""
    pairs = [
        (_outcome("base", 100.0, 99.0, status="time_limit"), _outcome("base", 90.0, 88.0, replanned=True)),
        (_outcome("v", 95.0, 95.0), _outcome("v", 96.0, None, status="time_limit", replanned=True)),
        (_outcome("w", 80.0, 80.0), _outcome("w", None, None, "no plan: time limit", replanned=True)),
    ]
    for frozen, replan in pairs:
        frozen.replan = replan
    table = variants_table([frozen for frozen, _ in pairs])
    rows = {row["case"]: row for row in table.to_dict(orient="records")}
    base = rows["base"]
    assert (base["regret_musd"], base["regret_low_musd"], base["regret_high_musd"]) == (10.0, 9.0, 12.0)
    assert base["replanned_bound_musd"] == 88.0 and base["status"] == "time_limit"
    assert rows["v"]["regret_musd"] == -1.0 and math.isnan(rows["v"]["regret_low_musd"])
    assert rows["v"]["replanned_status"] == "time_limit"
    w = rows["w"]
    assert w["status"] == "optimal" and w["objective_musd"] == 80.0 and w["delta_musd"] == -20.0
    assert w["replanned_status"] == "failed" and w["replanned_error"] == "no plan: time limit"
    assert math.isnan(w["regret_musd"]) and math.isnan(w["replanned_objective_musd"])
    console = Console(record=True, width=300)
    print_negative_regrets(table, MILLIONS, console)
    text = console.export_text()
    assert ("Negative regret within the solves' MIP gaps ($M): v -1.000 (no range: a solve without a finite"
            " bound). Either the re-plan stopped at its MIP gap or time limit") in text
    assert "costs less than re-planning" not in text
