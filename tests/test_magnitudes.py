"""Numbers HiGHS would drop, refuse or take as infinite are input errors (exit 2), in words."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import highspy
import numpy as np
import pytest
from click.testing import Result
from conftest import CaseWriter
from factory import chip, config, make_case, site

from planner.case import Case
from planner.config import ModelConfig
from planner.errors import InputError
from planner.highs_factory import new_highs
from planner.magnitudes import out_of_range
from planner.plan import solve_case

TINY_SITE = "north,us,30,4,2,11,0.3,0,1.2,15\n"


def _with_module_mw(tiny_files: Mapping[str, str], module_mw: str) -> dict[str, str]:
    sites = tiny_files["sites.csv"].replace(TINY_SITE, f"north,us,30,{module_mw},2,11,0.3,0,1.2,15\n")
    assert sites != tiny_files["sites.csv"]
    return {"sites.csv": sites}


@pytest.mark.parametrize("module_mw", ["1e-9", "1e-12", "1e-300"])
def test_a_module_too_small_for_highs_is_named_not_solved_as_free(
    module_mw: str,
    tmp_path: Path,
    write_case: CaseWriter,
    tiny_files: Mapping[str, str],
    cli: Callable[..., Result],
) -> None:
    """HiGHS reads a coefficient of 1e-9 or less as 0: with such modules it dropped the building
    from its rows and returned "optimal" with every module free or useless (inputs/tiny with
    module_mw 1e-12 reported all demand unmet)."""
    case = write_case(tmp_path / "case", _with_module_mw(tiny_files, module_mw))
    result = cli("solve", case, "--json", "--out", tmp_path / "run")
    assert result.exit_code == 2, result.output
    answer = json.loads(result.stdout)
    assert answer["status"] == "input_error"
    [problem] = answer["problems"]
    assert (problem["file"], problem["column"]) == ("sites.csv", "module_mw")
    assert "site cap" in problem["message"] and "north" in problem["message"]
    assert "at most 1e-9 as 0" in problem["message"]
    assert f"from sites.csv module_mw {module_mw} (north);" in problem["message"]  # the cell itself
    assert not (tmp_path / "run").exists()


def test_a_contract_too_large_for_highs_is_an_input_error_not_no_plan_status_optimal(
    tmp_path: Path, write_case: CaseWriter, tiny_files: Mapping[str, str], cli: Callable[..., Result]
) -> None:
    """mw 1e12 makes 8.76e15 MWh a year in the energy cap: HiGHS refused the model, and planner
    said "No plan: HiGHS found no plan: status optimal" (exit 1)."""
    power = tiny_files["power.csv"].replace("grid_s,south,grid,15,", "grid_s,south,grid,1e12,")
    case = write_case(tmp_path / "case", {"power.csv": power})
    result = cli("solve", case, "--out", tmp_path / "run")
    assert result.exit_code == 2, result.output
    assert "power.csv, column mw" in result.stderr
    assert "energy taken <= contract availability: grid_s" in result.stderr
    assert "coefficient of magnitude 1e15 or more" in result.stderr
    assert "power.csv mw 1e12 (grid_s)" in result.stderr


def test_the_message_gives_each_cell_of_the_product_so_the_slip_stands_out(
    tmp_path: Path, write_case: CaseWriter, tiny_files: Mapping[str, str], cli: Callable[..., Result]
) -> None:
    """Periods of 1e-11 years: every chip's energy term is that small. The product alone
    (kw x pue x load_factor x hours_per_year x years) left five cells to check."""
    periods = tiny_files["periods.csv"].replace("p3,2\n", "p3,1e-11\n")
    case = write_case(tmp_path / "case", {"periods.csv": periods})
    result = cli("validate", case, "--json")
    assert result.exit_code == 2, result.output
    [problem] = json.loads(result.stdout)["problems"]
    assert problem["column"].endswith("× periods.csv years")
    chip_id = "gpu" if "(gpu)" in problem["message"] else "asic"
    site_id = "north" if "(north)" in problem["message"] else "south"
    kw, pue = {"gpu": "1.2", "asic": "0.8"}[chip_id], {"north": "1.2", "south": "1.1"}[site_id]
    assert (
        f"from chips.csv kw {kw} ({chip_id}) × sites.csv pue {pue} ({site_id}) × parameters.csv load_factor 1"
        " × parameters.csv hours_per_year 8760 × periods.csv years 1e-11 (p3);"
    ) in problem["message"]


def test_a_tiny_cost_on_an_unbounded_decision_is_not_reported() -> None:
    """At 1e-9 usd/MWh the energy term of the CVaR row (1e-15 musd/MWh) is dropped by HiGHS, but
    energy has no upper bound of its own and costs that little: nothing a plan depends on."""
    case = make_case(
        {"w1": {"p1": 1.0}, "w2": {"p1": 2.0}},
        sites=[site(existing_mw=10)],
        chips=[chip(kw=1000.0)],
        contracts=[
            {"contract": "q1", "site": "s1", "kind": "grid", "mw": 10.0, "price_usd_per_mwh": 1e-9,
             "existing": True}
        ],
    )
    result = solve_case(case, config(weight=1.0))
    assert result.status == "optimal"
    # 1 and 2 EFLOPS served by 1 and 2 free chips of 1 MW; energy costs 1e-15 musd/MWh.
    assert result.objective_musd == pytest.approx(0.0, abs=1e-9)


def test_the_case_api_raises_input_error_too() -> None:
    case = make_case({"p1": 1.0}, sites=[site(max_mw=1.0, module_mw=1e-10)])
    with pytest.raises(InputError) as raised:
        solve_case(case, config())
    [problem] = raised.value.problems
    assert (problem.file, problem.column) == ("sites.csv", "module_mw")


def _lp(cost: float, upper_row: float, coefficient: float, column_upper: float) -> highspy.HighsLp:
    """One column, one row ``coefficient * x <= upper_row``, ``0 <= x <= column_upper``."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 1, 1
    lp.col_cost_ = np.array([cost])
    lp.col_lower_, lp.col_upper_ = np.array([0.0]), np.array([column_upper])
    lp.row_lower_, lp.row_upper_ = np.array([-highspy.kHighsInf]), np.array([upper_row])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array([0, 1])
    lp.a_matrix_.index_ = np.array([0])
    lp.a_matrix_.value_ = np.array([coefficient])
    return lp


@pytest.mark.parametrize(
    ("cost", "upper_row", "coefficient", "column_upper", "found"),
    [
        (1.0, 1.0, 1.0, 1.0, []),
        (1e20, 1.0, 1.0, 1.0, ["cost"]),
        (1.0, 1e20, 1.0, 1.0, ["rhs"]),
        (1.0, highspy.kHighsInf, 1.0, 1.0, []),  # a one-sided row is meant to be infinite
        (1.0, 1.0, 1e15, 1.0, ["large"]),
        (1.0, 1.0, 1e-9, 1e3, ["small"]),  # 1e-6 of the row's unit: it counts
        (1.0, 1.0, 1e-10, 1e2, []),  # at most 1e-8: below any tolerance
        (1.0, 1.0, 1e-10, highspy.kHighsInf, ["small"]),  # unbounded: it can grow until the term counts
        (1.0, 1.0, 2e-9, 1e10, []),  # above small_matrix_value: HiGHS keeps it
    ],
)
def test_out_of_range_follows_highs_limits(
    cost: float, upper_row: float, coefficient: float, column_upper: float, found: list[str]
) -> None:
    lp = _lp(cost, upper_row, coefficient, column_upper)
    assert [item.what for item in out_of_range(lp, new_highs())] == found


def test_a_lower_side_of_a_row_is_checked_too() -> None:
    """``x >= 1e20`` (a take-or-pay floor is a lower side): HiGHS would read it as no floor."""
    lp = _lp(1.0, highspy.kHighsInf, 1.0, highspy.kHighsInf)
    lp.row_lower_ = np.array([1e20])
    assert [item.what for item in out_of_range(lp, new_highs())] == ["rhs"]


def test_a_tiny_capex_in_the_cvar_row_is_traced_to_its_cells() -> None:
    """Risk-averse: the CVaR tail rows hold each scenario's cost, capex included (they are rows
    of money, not the objective), and the message still names the cells behind the number."""
    case = make_case({"w1": {"p1": 1.0}, "w2": {"p1": 2.0}},
                     sites=[site(max_mw=1e6, module_mw=1.0, capex_musd_per_mw=1e-10)])
    with pytest.raises(InputError) as raised:
        solve_case(case, config(weight=1.0))
    [problem] = raised.value.problems
    assert problem.column is not None
    assert problem.file == "sites.csv" and problem.column.startswith("module_mw × capex_musd_per_mw")
    assert "the number 1e-10 on modules started: s1, period p1 (w1+w2) in 'CVaR tail: w1'" in problem.expected
    assert "from sites.csv module_mw 1 (s1) × sites.csv capex_musd_per_mw 1e-10 (s1);" in problem.expected


def test_a_number_overridable_by_chip_performance_names_both_files_and_no_cell() -> None:
    """pflops may come from chips.csv or chip_performance.csv: the message names both and quotes
    no cell, which might not be the one used; numbers are shown with three digits."""
    case = make_case({"p1": 1.0}, chips=[chip(pflops=1.23456e-7)])
    with pytest.raises(InputError) as raised:
        solve_case(case, config())
    [problem] = raised.value.problems
    assert problem.column == "pflops (or chip_performance.csv pflops)"
    assert "the number 1.23e-10 " in problem.expected and ", from " not in problem.expected


def test_a_tiny_value_on_an_unbounded_decision_in_a_money_row_is_let_through() -> None:
    lp = _lp(1.0, 1.0, 1e-10, highspy.kHighsInf)
    assert out_of_range(lp, new_highs(), is_money_row=lambda row: row == 0) == []


def test_chips_too_small_for_highs_to_need_a_building_are_an_input_error() -> None:
    """1e-6 kW chips of 1 TFLOPS: 2,000 EFLOPS takes 2e9 chips, 2 MW of IT. HiGHS read their
    1e-9 MW each as 0 in "chips must fit in built IT MW" and called a plan with no building at all
    optimal (found by an audit; the check once let every unbounded decision through)."""
    case = make_case(
        {"p1": 2000.0}, sites=[site(max_mw=10, module_mw=1, capex_musd_per_mw=10)],
        chips=[chip(pflops=0.001, kw=1e-6)], penalty=1e6,
    )
    with pytest.raises(InputError) as raised:
        solve_case(case, config())
    fits, firm = raised.value.problems
    assert (fits.file, fits.column) == ("chips.csv", "kw")
    assert (firm.file, firm.column) == ("chips.csv", "kw × sites.csv pue")
    assert "chips must fit in built IT MW" in fits.expected


def test_out_of_range_reads_the_options_highs_will_use() -> None:
    """``highs_options`` may move HiGHS's limits; the check moves with them."""
    highs = new_highs()
    highs.setOptionValue("small_matrix_value", 1e-12)
    assert out_of_range(_lp(1.0, 1.0, 1e-10, 1e3), highs) == []


@pytest.mark.parametrize("command", ["validate", "compare", "sweep"])
def test_validate_compare_and_sweep_refuse_such_a_case_before_solving(
    command: str,
    tmp_path: Path,
    write_case: CaseWriter,
    tiny_files: Mapping[str, str],
    cli: Callable[..., Result],
) -> None:
    """``validate`` called the case valid; ``compare`` and ``sweep`` wrote a folder of failed
    strategies and exited 1. The check comes before any solve, like any input error."""
    case = write_case(tmp_path / "case", _with_module_mw(tiny_files, "1e-12"))
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("case,group,file,column,where,op,value\ncheap,,chips.csv,capex_usd,,scale,0.5\n")
    args = {
        "validate": ["validate", case],
        "compare": ["compare", case, "--workers", "1", "--out", tmp_path / "run"],
        "sweep": ["sweep", case, sweep, "--workers", "1", "--out", tmp_path / "run"],
    }[command]
    result = cli(*args, "--json")
    assert result.exit_code == 2, result.output
    answer = json.loads(result.stdout)
    assert answer["status"] == "input_error"
    [problem] = answer["problems"]  # once, though every compared model has the row
    assert (problem["file"], problem["column"]) == ("sites.csv", "module_mw")
    assert not (tmp_path / "run").exists()


def test_compare_checks_each_distinct_model_once(
    tiny_case_dir: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """plan-on-mean's tree model is phased's: compare's pre-solve check built it twice (about
    3 s per model at the bench size). Models that differ in what HiGHS is given are each checked."""
    import planner.plan

    checked: list[tuple[str, str, float]] = []
    real_check = planner.plan.check_case_numbers

    def counting_check(case: Case, config: ModelConfig) -> None:
        checked.append((config.name, config.policy, config.cvar.weight))
        real_check(case, config)

    monkeypatch.setattr(planner.plan, "check_case_numbers", counting_check)
    models = ("phased", "all-at-once", "plan-on-mean", "phased-risk-averse")
    args = [arg for name in models for arg in ("--model", name)]
    monkeypatch.setattr("planner.compare.compare_strategies", _stop_before_solving)
    with pytest.raises(_NoSolve):
        cli("compare", tiny_case_dir, *args, "--workers", "1", "--out", tiny_case_dir.parent / "run")
    assert checked == [
        ("phased", "phased", 0.0),
        ("all-at-once", "all-at-once", 0.0),
        ("phased-risk-averse", "phased", 0.5),
    ]


class _NoSolve(Exception):
    """Raised where compare would start solving: the test is about what comes before."""


def _stop_before_solving(*args: object, **kwargs: object) -> None:
    raise _NoSolve
