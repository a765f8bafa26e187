"""The sweep op ``scale_per_year`` (an extension of shared/spec/sweeps.md's v1 format): each
matched cell times ``value ** y``, ``y`` the start in years of its row's period (0 for the first),
from the variant's periods.csv as its earlier rows left it.

Values are worked by hand on small cases whose periods have unequal lengths; the end-to-end sweep
must give the objective of the tiny case with its demand edited by hand and solved directly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import pytest
from conftest import CaseWriter, Cli, ExactConfig

from planner.errors import InputError
from planner.loader import load_case
from planner.plan import solve_case
from planner.sweep import (
    PERIOD_FILES,
    CellWriters,
    Edit,
    apply_edits,
    read_sweep,
    solve_variant,
    sweep_tasks,
)

SWEEP_HEADER = "case,group,file,column,where,op,value\n"

# Periods of 1, 2, 0.5 and 1 years: y = 0, 1, 3, 3.5.
FILES = {
    "periods.csv": "period,years\np1,1\np2,2\np3,0.5\np4,1\n",
    "demand.csv": (
        "scenario,period,workload,eflops\n"
        "hi,p1,w,8\nhi,p2,w,8\nhi,p3,w,8\nhi,p4,w,8\n"
        "lo,p1,w,8\nlo,p2,w,8\nlo,p3,w,8\nlo,p4,w,8\n"
    ),
    "budget.csv": "period,capex_limit_musd\np1,100\np2,100\np3,100\np4,100\n",
    "chip_supply.csv": "chip,period,max_units\ngpu,p1,1000\ngpu,p3,1000\n",
    "chips.csv": "chip,pflops,kw,capex_usd,life_years\ngpu,2,1.2,40000,5\n",
}


def edits_of(tmp_path: Path, rows: str) -> dict[str, list[Edit]]:
    """Each variant's edits, read from a sweep file of ``rows``; none may have a problem."""
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(SWEEP_HEADER + rows)
    variants = read_sweep(sweep)
    assert [v.problems for v in variants] == [[] for _ in variants]
    return {variant.name: variant.edits for variant in variants}


def cells(text: str, column: int = -1) -> list[str]:
    """One column of a CSV text's data rows."""
    return [line.split(",")[column] for line in text.splitlines()[1:]]


def test_the_files_it_edits_are_those_whose_rows_have_a_period() -> None:
    assert PERIOD_FILES == ("demand.csv", "chip_supply.csv", "budget.csv")


def test_each_cell_is_multiplied_by_value_to_the_start_of_its_period_in_years(tmp_path: Path) -> None:
    """Periods of 1, 2, 0.5 and 1 years start at y = 0, 1, 3 and 3.5: with 0.5 a year, a demand
    of 8 becomes 8, 4, 1 and 8 / 2**3.5 = sqrt(1/2), in scenario hi only (``where``)."""
    edits = edits_of(tmp_path, "slow,demand growth,demand.csv,eflops,scenario=hi,scale_per_year,0.5\n")
    writers: CellWriters = {}
    demand = apply_edits(FILES, edits["slow"], "sweep.csv", writers)["demand.csv"]
    values = cells(demand)
    assert values[:3] == ["8.0", "4.0", "1.0"]
    assert float(values[3]) == pytest.approx(math.sqrt(0.5), rel=1e-15)
    assert values[4:] == ["8"] * 4  # lo: not matched, left as written
    assert writers == {("demand.csv", row, "eflops"): [2] for row in (2, 3, 4, 5)}


def test_quarter_year_periods_give_exact_factors(tmp_path: Path) -> None:
    """y = 0, 0.25, 0.5, 0.75, 1 from periods of 0.25 years: 16 a year is 1, 2, 4, 8, 16."""
    files = {
        "periods.csv": "period,years\n" + "".join(f"q{i},0.25\n" for i in range(5)),
        "demand.csv": "period,workload,eflops\n" + "".join(f"q{i},w,3\n" for i in range(5)),
    }
    edits = edits_of(tmp_path, "fast,,demand.csv,eflops,,scale_per_year,16\n")
    demand = apply_edits(files, edits["fast"], "sweep.csv")["demand.csv"]
    assert [float(v) for v in cells(demand)] == [3.0, 6.0, 12.0, 24.0, 48.0]


def test_budget_and_chip_supply_are_edited_per_year_too(tmp_path: Path) -> None:
    edits = edits_of(
        tmp_path,
        "tight,,budget.csv,capex_limit_musd,,scale_per_year,0.5\n"
        + "tight,,chip_supply.csv,max_units,chip=gpu,scale_per_year,2\n",
    )
    edited = apply_edits(FILES, edits["tight"], "sweep.csv")
    assert cells(edited["budget.csv"]) == ["100.0", "50.0", "12.5", repr(100 * 0.5**3.5)]
    assert cells(edited["chip_supply.csv"]) == ["1000.0", "8000.0"]  # p1: y = 0; p3: y = 3


def test_rows_apply_in_file_order_with_the_periods_as_earlier_rows_left_them(tmp_path: Path) -> None:
    """Row 2 makes p2 one year long (y of p3 becomes 2, of p4 2.5); row 3 halves per year on the
    edited periods; row 4 halves again (compounded); row 5 sets p4's demand, replacing rows 3-4
    as the writer of that cell, as a `set` after a `scale` does."""
    edits = edits_of(
        tmp_path,
        "v,,periods.csv,years,period=p2,scale,0.5\n"
        + "v,,demand.csv,eflops,scenario=hi,scale_per_year,0.5\n"
        + "v,,demand.csv,eflops,scenario=hi&period=p3,scale_per_year,0.5\n"
        + "v,,demand.csv,eflops,scenario=hi&period=p4,set,7\n",
    )
    writers: CellWriters = {}
    edited = apply_edits(FILES, edits["v"], "sweep.csv", writers)
    assert cells(edited["periods.csv"]) == ["1", "1.0", "0.5", "1"]
    assert cells(edited["demand.csv"])[:4] == ["8.0", "4.0", "0.5", "7.0"]  # p3: 8 / 2**2 / 2**2
    assert writers[("demand.csv", 2, "eflops")] == [3]
    assert writers[("demand.csv", 4, "eflops")] == [3, 4]  # compounded: both rows, like scale
    assert writers[("demand.csv", 5, "eflops")] == [5]
    # The base's periods.csv is used when the variant leaves it alone: p3 starts at 3.
    alone = apply_edits(FILES, edits["v"][1:2], "sweep.csv")
    assert cells(alone["demand.csv"])[2] == "1.0" and alone["periods.csv"] == FILES["periods.csv"]


def test_a_period_missing_from_periods_csv_is_left_to_the_loader(
    tiny_files: Mapping[str, str], exact_config: ExactConfig, tmp_path: Path
) -> None:
    """A row whose period periods.csv lacks keeps its value (no y to give it); the loader then
    names it, and the variant fails with that message, not a traceback."""
    files = dict(tiny_files)
    files["demand.csv"] += "high,p9,training,4\n"
    edits = edits_of(tmp_path, "v,,demand.csv,eflops,,scale_per_year,0.9\n")["v"]
    edited = apply_edits(files, edits, "sweep.csv")
    demand = cells(edited["demand.csv"])
    assert demand[-1] == "4" and demand[2] == repr(5 * 0.9)
    outcome = solve_variant("v", "", edited, exact_config())
    assert outcome.error is not None and "Traceback" not in outcome.error
    assert "demand.csv" in outcome.error and "p9" in outcome.error


@pytest.mark.parametrize(
    ("file", "column"),
    [("chips.csv", "capex_usd"), ("periods.csv", "years"), ("parameters.csv", "value")],
)
def test_a_file_without_periods_is_an_error_naming_the_sweep_row(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, file: str, column: str
) -> None:
    sweep = tmp_path / "growth.csv"
    sweep.write_text(
        SWEEP_HEADER
        + "ok,,demand.csv,eflops,,scale_per_year,0.9\n"
        + f"bad,,{file},{column},,scale_per_year,0.9\n"
    )
    result = cli("sweep", tiny_case_dir, sweep, "--workers", "1", "--json", "--out", tmp_path / "run")
    assert result.exit_code == 1, result.output
    rows = {row["case"]: row for row in json.loads(result.stdout)["variants"]}
    assert rows["ok"]["status"] == "optimal" and rows["bad"]["status"] == "failed"
    assert rows["bad"]["error"] == (
        f"growth.csv, row 3, column file: value '{file}' — expected a file whose rows each have a "
        "period, for scale_per_year (demand.csv, chip_supply.csv, budget.csv)"
    )


@pytest.mark.parametrize("value", ["0", "-0.5", "0.0", "-1e-300"])
def test_a_factor_not_above_zero_is_an_error_when_the_sweep_is_read(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path, value: str
) -> None:
    sweep = tmp_path / "growth.csv"
    sweep.write_text(
        SWEEP_HEADER
        + "ok,,demand.csv,eflops,,scale_per_year,0.5\n"
        + f"bad,,demand.csv,eflops,,scale_per_year,{value}\n"
        + f"scaled,,demand.csv,eflops,,scale,{value}\n"  # scale by 0 or less is no error of the row
    )
    variants = {variant.name: variant for variant in read_sweep(sweep)}
    assert variants["ok"].problems == [] and variants["scaled"].problems == []
    [problem] = variants["bad"].problems
    assert (problem.file, problem.row, problem.column, problem.value) == ("growth.csv", 3, "value", value)
    result = cli("sweep", tiny_case_dir, sweep, "--workers", "1", "--json", "--out", tmp_path / "run")
    assert result.exit_code == 1, result.output
    errors = {row["case"]: row["error"] for row in json.loads(result.stdout)["variants"]}
    assert errors["ok"] == ""
    assert errors["bad"] == (
        f"growth.csv, row 3, column value: value '{value}' — expected a number > 0 for scale_per_year"
        " (the factor per year, e.g. 0.9 for 10% less a year)"
    )


def test_an_unknown_op_names_scale_per_year_among_the_ops(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(SWEEP_HEADER + "v,,demand.csv,eflops,,scale-per-year,0.9\n")
    [problem] = read_sweep(sweep)[0].problems
    assert (problem.column, problem.expected) == ("op", "scale, add, set or scale_per_year")


def test_the_rows_that_wrote_a_cell_are_blamed_as_for_scale(tiny_case_dir: Path, tmp_path: Path) -> None:
    """A demand above the loader's 1e12 names the rows whose edits gave it its value: a set
    followed by scale_per_year both; a set after it alone."""
    sweep = tmp_path / "sweep.csv"
    sweep.write_text(
        SWEEP_HEADER
        + "both,,demand.csv,eflops,scenario=high&period=p3,set,1e10\n"  # row 2
        + "both,,demand.csv,eflops,scenario=high,scale_per_year,10\n"  # row 3: p3 1e10 x 10**3
        + "both,,chips.csv,capex_usd,,scale,1.1\n"  # row 4: fine
        + "alone,,demand.csv,eflops,scenario=high,scale_per_year,1e5\n"  # row 5: p3 9e15
        + "alone,,chips.csv,capex_usd,,scale,1.1\n"  # row 6: fine
        + "replaced,,demand.csv,eflops,scenario=high,scale_per_year,1e5\n"  # row 7
        + "replaced,,demand.csv,eflops,scenario=high&period=p3,set,-1\n"  # row 8: below 0
    )
    tasks = {task.name: task for task in sweep_tasks(tiny_case_dir, read_sweep(sweep), "sweep.csv")}
    blamed = {}
    for name in ("both", "alone", "replaced"):
        source, files = tasks[name].source, tasks[name].files
        assert source is not None and files is not None
        with pytest.raises(InputError) as raised:
            load_case(_written(tmp_path / name, files))
        blamed[name] = source.blamed_for(raised.value.problems)
    assert blamed == {
        "both": "the edits of sweep.csv rows 2, 3 make the input invalid",
        "alone": "the edit of sweep.csv row 5 makes the input invalid",
        "replaced": "the edit of sweep.csv row 8 makes the input invalid",
    }


def _written(folder: Path, files: Mapping[str, str]) -> Path:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


# The tiny case's demand (periods of 1, 2 and 2 years: y = 0, 1, 3) edited by hand.
HAND_DEMAND = {
    # 0.9 a year: p2 x 0.9, p3 x 0.729.
    "slow": (
        "scenario,period,workload,eflops\n"
        "high,p1,training,2\nhigh,p1,inference,1\n"
        "high,p2,training,4.5\nhigh,p2,inference,2.7\n"
        "high,p3,training,6.561\nhigh,p3,inference,4.374\n"
        "low,p1,training,2\nlow,p1,inference,1\n"
        "low,p2,training,2.25\nlow,p2,inference,1.35\n"
        "low,p3,training,1.458\nlow,p3,inference,1.458\n"
    ),
    # 1.05 a year in scenario high only: p2 x 1.05, p3 x 1.157625.
    "high_fast": (
        "scenario,period,workload,eflops\n"
        "high,p1,training,2\nhigh,p1,inference,1\n"
        "high,p2,training,5.25\nhigh,p2,inference,3.15\n"
        "high,p3,training,10.418625\nhigh,p3,inference,6.94575\n"
        "low,p1,training,2\nlow,p1,inference,1\n"
        "low,p2,training,2.5\nlow,p2,inference,1.5\n"
        "low,p3,training,2\nlow,p3,inference,2\n"
    ),
    # p2 made 3 years long first: y of p3 is 4, so p3 x 0.9**4 = 0.6561.
    "long_p2_slow": (
        "scenario,period,workload,eflops\n"
        "high,p1,training,2\nhigh,p1,inference,1\n"
        "high,p2,training,4.5\nhigh,p2,inference,2.7\n"
        "high,p3,training,5.9049\nhigh,p3,inference,3.9366\n"
        "low,p1,training,2\nlow,p1,inference,1\n"
        "low,p2,training,2.25\nlow,p2,inference,1.35\n"
        "low,p3,training,1.3122\nlow,p3,inference,1.3122\n"
    ),
}
GROWTH_ROWS = (
    "slow,demand growth,demand.csv,eflops,,scale_per_year,0.9\n"
    "high_fast,demand growth,demand.csv,eflops,scenario=high,scale_per_year,1.05\n"
    "high_fast,,chips.csv,capex_usd,chip=gpu,scale,0.8\n"
    "long_p2_slow,,periods.csv,years,period=p2,set,3\n"
    "long_p2_slow,,demand.csv,eflops,,scale_per_year,0.9\n"
)
HAND_OTHER = {
    "high_fast": {"chips.csv": ("gpu,2,1.2,40000,", "gpu,2,1.2,32000,")},
    "long_p2_slow": {"periods.csv": ("p2,2\n", "p2,3\n")},
}


def test_a_sweep_solves_each_variant_as_the_case_edited_by_hand(
    cli: Cli,
    write_case: CaseWriter,
    exact_config: ExactConfig,
    tiny_files: Mapping[str, str],
    tmp_path: Path,
) -> None:
    case_dir = write_case(tmp_path / "tiny")
    sweep = tmp_path / "growth.csv"
    sweep.write_text(SWEEP_HEADER + GROWTH_ROWS)
    out = tmp_path / "run"
    result = cli("sweep", case_dir, sweep, "--workers", "1", "--json", "--mip-gap", "0", "--out", out)
    assert result.exit_code == 0, result.output
    swept = {row["case"]: row for row in json.loads(result.stdout)["variants"]}
    assert list(swept) == ["base", *HAND_DEMAND]
    assert swept["slow"]["group"] == swept["high_fast"]["group"] == "demand growth"
    base = solve_case(load_case(case_dir)[0], exact_config()).objective_musd
    assert swept["base"]["objective_musd"] == pytest.approx(base, rel=1e-9)
    for name, demand in HAND_DEMAND.items():
        files = {**tiny_files, "demand.csv": demand}
        for file, (old, new) in HAND_OTHER.get(name, {}).items():
            assert files[file].count(old) == 1
            files[file] = files[file].replace(old, new)
        case, _ = load_case(write_case(tmp_path / f"hand-{name}", files))
        expected = solve_case(case, exact_config())
        assert expected.status == "optimal"
        assert swept[name]["status"] == "optimal"
        assert swept[name]["objective_musd"] == pytest.approx(expected.objective_musd, rel=1e-9), name
        assert abs(swept[name]["objective_musd"] - base) > 1e-3 * base, name  # the edit mattered


def test_the_shipped_growth_sweep_edits_the_flagship_demand_per_year() -> None:
    """inputs/sweeps/stargate-growth.csv applies to inputs/stargate (yearly periods from 2026):
    2035's demand is that of the case times value**9, 2026's as it was."""
    inputs = Path(__file__).resolve().parent.parent / "inputs"
    sweep = inputs / "sweeps" / "stargate-growth.csv"
    tasks = sweep_tasks(inputs / "stargate", read_sweep(sweep), sweep.name)
    assert [(task.name, task.group, task.error) for task in tasks] == [
        ("base", "", None),
        *((name, "demand growth", None) for name in ("growth-90", "growth-95", "growth-105")),
    ]
    base = tasks[0].files
    assert base is not None
    for task, value in zip(tasks[1:], (0.9, 0.95, 1.05), strict=True):
        assert task.files is not None
        for old, new in zip(base["demand.csv"].splitlines()[1:], task.files["demand.csv"].splitlines()[1:],
                            strict=True):
            scenario, period, workload, eflops = old.split(",")
            assert new == f"{scenario},{period},{workload},{float(eflops) * value ** (int(period) - 2026)!r}"
