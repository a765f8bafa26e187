"""``commitments.csv``: per site, per signed contract and per chip type bought at a site, the MW
decided before demand parts (certain, the same in every scenario; ``now`` in the first period) and
the MW decided only in some scenarios (contingent: expected, fewest and most over the scenarios).

The hand cases use 1 MW modules at 1 musd (life 1 year, so no salvage), chips of 1 MW that serve
1 EFLOPS each (free, so their purchases are left out of the buildings' and contracts' hand cases,
where any number is optimal), and periods of one year with scenarios ``lo`` and ``hi``. Their
demand differs in p1, so decisions from p2 on may part between them.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import CaseWriter, Cli
from factory import bought, built, chip, config, make_case, signed, site, solve
from hypothesis import given
from hypothesis import strategies as st
from test_policies import tree_case
from test_properties import PROPERTY, cases

from planner.case import Case
from planner.commitments import COMMITMENT_COLUMNS
from planner.config import Policy
from planner.frozen_plan import read_frozen_plan
from planner.frozen_plan_fit import fit_frozen_plan
from planner.plan import PlanResult, solve_case

MW_COLUMNS = COMMITMENT_COLUMNS[3:]
CONTINGENT = ["contingent_mw_expected", "contingent_mw_min", "contingent_mw_max"]
TINY = {
    path.name: path.read_text(encoding="utf-8")
    for path in (Path(__file__).parents[1] / "inputs" / "tiny").glob("*.csv")
}
TITLE = "Commitments: certain in every scenario vs contingent (MW)"


def approx(value: object) -> object:
    return pytest.approx(value, rel=1e-6, abs=1e-6)


def by_key(result: PlanResult, chips: bool = False) -> dict[tuple[str, str], dict[Hashable, Any]]:
    """(kind, id) -> the row of ``commitments`` of a building or contract; with ``chips``, (chip,
    site) -> the row of a chip type at a site."""
    table = result.results.commitments
    assert tuple(table.columns) == COMMITMENT_COLUMNS
    rows = table.to_dict(orient="records")
    if chips:
        return {(row["id"], row["site"]): row for row in rows if row["kind"] == "chips"}
    return {(row["kind"], row["id"]): row for row in rows if row["kind"] != "chips"}


def assert_rows(result: PlanResult, expected: dict[tuple[str, str], list[object]]) -> None:
    """``expected``: (kind, id) -> [site, now, certain, contingent expected, min, max, total expected]
    of the buildings and contracts."""
    table = by_key(result)
    assert list(table) == list(expected)
    for key, row in table.items():
        site, *mw = expected[key]
        assert row["site"] == site, key
        assert [row[c] for c in MW_COLUMNS] == approx(mw), key  # pytest 9.2's approx takes no strings


def growing_case(periods: int = 2, earliest_period: str | None = None) -> Case:
    """lo (p = 0.75): demand 1, 3 (then 3); hi (p = 0.25): 2, 5 (then 6). Fixed O&M 0.1 musd per
    MW-year makes a module built early cost more, so none is built before it is needed; the
    existing contract is free."""
    demand = {"lo": [1, 3, 3], "hi": [2, 5, 6]}
    names = [f"p{t + 1}" for t in range(periods)]
    return make_case(
        {w: dict(zip(names, values, strict=False)) for w, values in demand.items()},
        dict.fromkeys(names, 1.0),
        sites=[
            site(
                module_mw=1,
                capex_musd_per_mw=1.0,
                fixed_om_musd_per_mw_year=0.1,
                life_years=1,
                earliest_period=earliest_period,
            )
        ],
        probabilities={"lo": 0.75, "hi": 0.25},
        penalty=100.0,
    )


# --------------------------------------------------------------------------------------------
# By hand
# --------------------------------------------------------------------------------------------


def test_phased_commits_what_both_scenarios_need_and_waits_for_the_rest() -> None:
    """tree_case (test_policies): p1 is one node; hi needs 2 MW at once, so 2 modules and q1
    (2 MW) are signed now, for both. In p2 only hi builds 1 module and signs q2 (1 MW): contingent,
    0.5 MW expected, 0 in lo and 1 in hi. q1 takes nothing later."""
    expected: dict[tuple[str, str], list[object]] = {
        ("building", "s1"): ["s1", 2, 2, 0.5, 0, 1, 2.5],
        ("contract", "q1"): ["s1", 2, 2, 0, 0, 0, 2],
        ("contract", "q2"): ["s1", 0, 0, 0.5, 0, 1, 0.5],
    }
    assert_rows(solve(tree_case(), "phased"), expected)


def test_what_every_scenario_builds_later_is_contingent_but_its_least_shows() -> None:
    """growing_case: hi needs 2 MW in p1 (one node; 0.25 x 100 unmet costs more): 2 modules now.
    p2 (two nodes): lo builds 1 (needs 3), hi builds 3 (needs 5): 0.75 x 1 + 0.25 x 3 = 1.5 MW
    expected, at least 1 in every scenario, at most 3. The existing contract is no row."""
    assert_rows(solve(growing_case()), {("building", "s1"): ["s1", 2, 2, 1.5, 1, 3, 3.5]})


@pytest.mark.parametrize(
    ("policy", "earliest", "row"),
    [("all-at-once", "p2", ["s1", 0, 5, 0, 0, 0, 5]), ("plan-on-mean", None, ["s1", 2, 4, 0, 0, 0, 4])],
)
def test_one_decision_for_all_scenarios_is_all_certain(
    policy: Policy, earliest: str | None, row: list[object]
) -> None:
    """growing_case. all-at-once, the site first buildable in p2, after demand parts: one decision
    for both, 5 modules for hi's 5 EFLOPS (p1 goes unserved). plan-on-mean: mean demand 1.25 then
    3.5, so 2 modules in p1 and 2 in p2, fixed in both scenarios."""
    result = solve(growing_case(earliest_period=earliest), policy)
    assert_rows(result, {("building", "s1"): row})


def test_chips_bought_before_demand_parts_are_certain() -> None:
    """growing_case with chips at 1 musd that last 1 year (bought again every period): p1 (one node)
    buys 2 chips, 2 MW, for hi's 2 EFLOPS (0.25 x 100 unmet costs more): now and certain. p2: lo
    buys 3, hi 5: 0.75 x 3 + 0.25 x 5 = 3.5 MW expected, 3 at least, 5 at most."""
    case = make_case(
        {"lo": {"p1": 1, "p2": 3}, "hi": {"p1": 2, "p2": 5}},
        {"p1": 1.0, "p2": 1.0},
        sites=[site(module_mw=1, capex_musd_per_mw=1.0, fixed_om_musd_per_mw_year=0.1, life_years=1)],
        chips=[chip(capex_usd=1e6, life_years=1)],
        probabilities={"lo": 0.75, "hi": 0.25},
        penalty=100.0,
    )
    rows = by_key(solve(case), chips=True)
    assert list(rows) == [("c1", "s1")]
    assert [rows["c1", "s1"][c] for c in MW_COLUMNS] == approx([2, 2, 3.5, 3, 5, 5.5])


def test_a_frozen_decision_is_certain_after_demand_parts(tmp_path: Path) -> None:
    """growing_case over p1-p3, with a plan of 2 modules in p1 and 2 in p2 frozen through p2 (the
    same at both p2 nodes): 4 MW certain. In p3 lo (demand 3) needs nothing, hi (6) 2 modules:
    0.25 x 2 = 0.5 MW expected."""
    (tmp_path / "builds.csv").write_text("site,period,modules\ns1,p1,2\ns1,p2,2\n", encoding="utf-8")
    (tmp_path / "contracts.csv").write_text("contract,period,share\n", encoding="utf-8")
    case, model = growing_case(periods=3), config("phased")
    fitted, _ = fit_frozen_plan(read_frozen_plan(tmp_path, through="p2"), case, model)
    result = solve_case(case, model, fixed_plan=fitted)
    assert_rows(result, {("building", "s1"): ["s1", 2, 4, 0.5, 0, 2, 4.5]})


# --------------------------------------------------------------------------------------------
# On every case
# --------------------------------------------------------------------------------------------


@PROPERTY
@given(case=cases(), policy=st.sampled_from(["phased", "all-at-once", "plan-on-mean"]))
def test_certain_and_contingent_add_up_to_each_scenarios_decisions(case: Case, policy: Policy) -> None:
    """Along each scenario's path (read from the model, not from the tables), the MW a site starts
    or a contract signs, ``total[w]``: certain + contingent expected is ``sum_w p[w] * total[w]``,
    certain + contingent min (max) is the fewest (most) over the scenarios, and one decision for all
    scenarios leaves nothing contingent."""
    result = solve(case, policy)
    totals: dict[tuple[str, str], dict[str, float]] = {}
    for w in case.scenarios:
        for (s, _t), modules in built(result, w).items():
            key = ("building", s)
            totals.setdefault(key, dict.fromkeys(case.scenarios, 0.0))[w] += modules * case.sites[s].module_mw
        for (q, _t), share in signed(result, w).items():
            key = ("contract", q)
            totals.setdefault(key, dict.fromkeys(case.scenarios, 0.0))[w] += share * case.contracts[q].mw
        for (c, s, _t), units in bought(result, w).items():
            key = ("chips", f"{c} at {s}")
            totals.setdefault(key, dict.fromkeys(case.scenarios, 0.0))[w] += units * case.chips[c].kw / 1000
    chip_rows = by_key(result, chips=True)
    table = by_key(result) | {("chips", f"{c} at {s}"): row for (c, s), row in chip_rows.items()}
    assert set(table) == set(totals)
    for key, by_scenario in totals.items():
        row = table[key]
        expected = sum(case.scenario_probability[w] * mw for w, mw in by_scenario.items())
        assert row["certain_mw"] + row["contingent_mw_expected"] == approx(expected)
        assert row["total_mw_expected"] == approx(expected)
        assert row["certain_mw"] + row["contingent_mw_min"] == approx(min(by_scenario.values()))
        assert row["certain_mw"] + row["contingent_mw_max"] == approx(max(by_scenario.values()))
        assert 0 <= row["now_mw"] <= row["certain_mw"] + 1e-9
        if (policy != "phased" and key[0] != "chips") or len(case.scenarios) == 1:
            assert [row[c] for c in CONTINGENT] == [0, 0, 0]  # chips are bought on the tree


# --------------------------------------------------------------------------------------------
# Run folder and console
# --------------------------------------------------------------------------------------------


def test_a_solve_writes_commitments_csv_and_prints_the_table(
    tmp_path: Path, write_case: CaseWriter, cli: Cli
) -> None:
    """inputs/tiny (its README): 1 module in p1 and 1 in p2, both shared by hi and lo (their demand
    parts only in p2); the grid contract is signed, all of it before demand parts."""
    out = tmp_path / "run"
    result = cli("solve", write_case(tmp_path / "tiny", base=TINY), "--out", out)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "commitments.csv", keep_default_na=False)
    assert tuple(table.columns) == COMMITMENT_COLUMNS
    assert table.iloc[0].tolist() == ["building", "a", "a", 1, 2, 0, 0, 0, 2]
    contract = table.iloc[1]
    assert contract[["kind", "id", "site"]].tolist() == ["contract", "grid", "a"]
    assert contract[CONTINGENT].tolist() == [0, 0, 0]
    assert contract["certain_mw"] == contract["total_mw_expected"] > 0
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(TITLE))
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines[start:] if "│" in line]
    assert cells[0] == ["building", "a", "a", "1.00", "2.00", "0.00", "0.00", "0.00", "2.00"]
    assert cells[1][:3] == ["contract", "grid", "a"]
    assert lines.index(next(line for line in lines if line.startswith("Unmet demand"))) > start


def test_a_plan_that_decides_nothing_says_so(tmp_path: Path, write_case: CaseWriter, cli: Cli) -> None:
    """No demand and only an existing contract: nothing is built or signed."""
    files = {
        "demand.csv": "scenario,period,workload,eflops\nhi,p1,train,0\nhi,p2,train,0\n",
        "power.csv": "contract,site,kind,mw,price_usd_per_mwh,existing\ngrid,a,grid,5,50,true\n",
    }
    out = tmp_path / "run"
    result = cli("solve", write_case(tmp_path / "idle", files, base=TINY), "--out", out)
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out / "commitments.csv").empty
    flat = " ".join(result.stdout.split())
    assert f"{TITLE} ┏" in flat
    assert "none: no module started and no contract signed in any scenario" in flat
