"""Tests of planner.loader: tiny case folders written into tmp_path, one concern per test."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import pytest
from conftest import CaseWriter
from factory import bought, solve

from planner import errors
from planner.case_summary import case_summary
from planner.csv_table import UNKNOWN_COLUMN
from planner.loader import InputError, Problem, load_case

# A minimal valid case. Periods are deliberately not in sorted order of their ids, and workloads
# appear as "training" then "inference", to check that the loader keeps the files' order.
VALID: dict[str, str] = {
    "parameters.csv": "name,value\ndiscount_rate,0.08\nunmet_penalty_musd_per_eflops_year,1000\n",
    "periods.csv": "period,years\nq3,1\nq1,2\nq2,2.5\n",
    "demand.csv": (
        "period,workload,eflops\n"
        "q3,training,1\nq3,inference,2\n"
        "q1,training,3\nq1,inference,4\n"
        "q2,training,5\nq2,inference,6\n"
    ),
    "sites.csv": (
        "site,region,max_mw,module_mw,capex_musd_per_mw,pue,life_years\n"
        "north,eu,100,10,8,1.2,30\n"
        "south,us,50,5,7,1.3,30\n"
    ),
    "chips.csv": "chip,pflops,kw,capex_usd,life_years\nh1,1.5,1.2,30000,5\n",
    "power.csv": (
        "contract,site,kind,mw,price_usd_per_mwh\ngrid_n,north,grid,50,60\ngrid_s,south,grid,40,70\n"
    ),
}

CONTRACT_HEADER = "contract,site,kind,mw,price_usd_per_mwh"


def write_case(folder: Path, files: Mapping[str, str | bytes | None]) -> Path:
    """Write the valid case with ``files`` overriding it (None deletes a file); return folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in {**VALID, **files}.items():
        if content is None:
            continue
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def problems_of(folder: Path) -> list[Problem]:
    with pytest.raises(InputError) as caught:
        load_case(folder)
    return caught.value.problems


def find(problems: list[Problem], file: str, row: int | None, column: str | None) -> Problem:
    matches = [p for p in problems if (p.file, p.row, p.column) == (file, row, column)]
    assert matches, f"no problem at {file} row {row} column {column}; got:\n" + "\n".join(
        map(str, problems)
    )
    return matches[0]


def assert_problem(
    problems: list[Problem],
    file: str,
    row: int | None,
    column: str | None,
    value: str,
    expected: str,
) -> Problem:
    """The problem at (file, row, column) shows all the facts a user needs, in its text."""
    problem = find(problems, file, row, column)
    text = str(problem)
    assert problem.value == value
    assert expected in problem.expected
    parts = [file, f"'{value}'", expected]
    parts += [f"row {row}"] if row is not None else []
    parts += [f"column {column}"] if column is not None else []
    for part in parts:
        assert part in text, f"{part!r} not in {text!r}"
    return problem


# --------------------------------------------------------------------------------------------
# Valid cases
# --------------------------------------------------------------------------------------------


def test_minimal_case_loads_with_values_defaults_and_order(tmp_path: Path) -> None:
    case, warnings = load_case(write_case(tmp_path / "mini", {}))
    assert warnings == []
    assert case.name == "mini"
    assert case.periods == ("q3", "q1", "q2")
    assert case.period_years == {"q3": 1.0, "q1": 2.0, "q2": 2.5}
    assert case.workloads == ("training", "inference")
    assert case.scenario_probability == {"base": 1.0}
    assert case.demand_eflops[("base", "q1", "inference")] == 4.0
    assert len(case.demand_eflops) == 6
    assert case.parameters.discount_rate == 0.08
    assert case.parameters.load_factor == 1.0  # default
    assert case.parameters.hours_per_year == 8760.0  # default
    assert list(case.sites) == ["north", "south"]
    north = case.sites["north"]
    assert (north.max_mw, north.existing_mw, north.lead_periods, north.earliest_period) == (
        100.0,
        0.0,
        0,
        None,
    )
    assert case.chips["h1"].pflops == 1.5
    assert case.chips["h1"].opex_usd_per_year == 0.0
    grid = case.contracts["grid_n"]
    assert (grid.firm_fraction, grid.availability, grid.divisible, grid.existing) == (
        1.0,
        1.0,
        False,
        False,
    )
    assert grid.term_periods is None and grid.life_years == 25.0
    assert case.chip_performance_pflops == {} and case.budget_musd == {}


def test_blank_optional_cells_take_defaults_and_optional_files_load(tmp_path: Path) -> None:
    files = {
        "sites.csv": (
            "site,region,max_mw,module_mw,existing_mw,capex_musd_per_mw,lead_periods,"
            "earliest_period,pue,life_years\n"
            "north,eu,100,10,,8,2.0,q1,1.2,30\n"
            "south,us,50,5,20,7,,,1.3,30\n"
        ),
        "chips.csv": (
            "chip,pflops,kw,capex_usd,life_years,first_period,last_period\n"
            "h1,1.5,1.2,30000,5,q1,q1\n"
            "h2,3,1.5,40000,5,,\n"
        ),
        "chip_performance.csv": "chip,workload,pflops\nh2,inference,4\n",
        "chip_supply.csv": "chip,period,max_units\nh2,q3,1000\n",
        "budget.csv": "period,capex_limit_musd\nq1,500\n",
    }
    case, _ = load_case(write_case(tmp_path, files))
    assert case.sites["north"].existing_mw == 0.0
    assert case.sites["north"].lead_periods == 2  # "2.0" is an integer
    assert case.sites["north"].earliest_period == "q1"
    assert case.sites["south"].existing_mw == 20.0
    assert case.sites["south"].earliest_period is None
    assert case.chips["h1"].first_period == "q1" and case.chips["h2"].last_period is None
    assert case.pflops("h2", "inference") == 4.0
    assert case.pflops("h2", "training") == 3.0
    assert case.chip_supply_units == {("h2", "q3"): 1000.0}
    assert case.budget_musd == {"q1": 500.0}


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("TRUE", True), ("Yes", True), ("1", True)]
    + [("false", False), ("False", False), ("no", False), ("0", False), ("", False)],
)
def test_boolean_forms(tmp_path: Path, text: str, value: bool) -> None:
    power = f"{CONTRACT_HEADER},divisible,existing\ngrid_n,north,grid,50,60,{text},{text}\n"
    power += "grid_s,south,grid,40,70,,\n"
    case, _ = load_case(write_case(tmp_path, {"power.csv": power}))
    assert case.contracts["grid_n"].divisible is value
    assert case.contracts["grid_n"].existing is value


def test_bad_boolean(tmp_path: Path) -> None:
    power = (
        f"{CONTRACT_HEADER},divisible\ngrid_n,north,grid,50,60,maybe\ngrid_s,south,grid,40,70,\n"
    )
    problems = problems_of(write_case(tmp_path, {"power.csv": power}))
    assert_problem(problems, "power.csv", 2, "divisible", "maybe", "true/false, 1/0 or yes/no")


def test_scenarios_file_sets_order_and_probabilities(tmp_path: Path) -> None:
    demand = "scenario,period,workload,eflops\n" + "".join(
        f"{s},{p},training,{i}\n" for i, s in enumerate(["low", "high"]) for p in ("q3", "q1", "q2")
    )
    files = {"demand.csv": demand, "scenarios.csv": "scenario,probability\nhigh,0.25\nlow,0.75\n"}
    case, _ = load_case(write_case(tmp_path, files))
    assert case.scenario_probability == {"high": 0.25, "low": 0.75}
    assert case.workloads == ("training",)


@pytest.mark.parametrize(
    ("probabilities", "total"),
    [(("0.1", "0.2", "0.7"), 1.0), (("0.3333333", "0.3333333", "0.3333333"), 0.9999999)],
    ids=["decimals-summing-to-1", "rounded-in-a-spreadsheet"],
)
def test_probabilities_within_the_tolerance_are_used_as_written_with_a_warning_off_1(
    tmp_path: Path, probabilities: tuple[str, ...], total: float
) -> None:
    """0.1 + 0.2 + 0.7 is 0.9999999999999999 in binary: no warning. Three 0.3333333 pass the 1e-6
    tolerance and are not rescaled: the expected row of the cost table weighs 0.9999999 in all."""
    names = ("a", "b", "c")
    demand = "scenario,period,workload,eflops\n" + "".join(
        f"{s},{p},training,{1 + i}\n" for i, s in enumerate(names) for p in ("q3", "q1", "q2")
    )
    written = dict(zip(names, probabilities, strict=True))
    scenarios = "scenario,probability\n" + "".join(f"{s},{p}\n" for s, p in written.items())
    case, warnings = load_case(write_case(tmp_path, {"demand.csv": demand, "scenarios.csv": scenarios}))
    assert case.scenario_probability == {s: float(p) for s, p in written.items()}
    assert case.probability_total == pytest.approx(total, abs=1e-15)
    said = [w for w in warnings if "not exactly 1" in w]
    assert len(said) == (total != 1.0)
    expected_row = solve(case).results.cost_by_scenario.iloc[-1]
    assert expected_row["probability"] == pytest.approx(total, abs=1e-15)


def test_without_scenarios_file_demand_scenarios_are_equally_likely(tmp_path: Path) -> None:
    rows = [f"{s},{p},training,1\n" for s in ("b", "a", "c") for p in ("q3", "q1", "q2")]
    demand = "scenario,period,workload,eflops\n" + "".join(rows)
    case, _ = load_case(write_case(tmp_path, {"demand.csv": demand}))
    assert list(case.scenario_probability) == ["b", "a", "c"]
    assert case.scenario_probability["a"] == pytest.approx(1 / 3)


def test_blank_demand_scenario_is_base(tmp_path: Path) -> None:
    demand = "scenario,period,workload,eflops\n,q3,training,1\n,q1,training,2\nbase,q2,training,3\n"
    case, _ = load_case(write_case(tmp_path, {"demand.csv": demand}))
    assert case.scenario_probability == {"base": 1.0}
    assert case.demand_eflops[("base", "q3", "training")] == 1.0


def test_header_bom_whitespace_note_columns_and_blank_lines(tmp_path: Path) -> None:
    sites = (
        "\ufeff site , region,max_mw ,module_mw,capex_musd_per_mw,pue,life_years,note,notes_2\n"
        "north,eu,100,10,8,1.2,30,some text,more\n"
        "\n"
        ",,,,,,,,\n"
        "south,us,-5,5,7,1.3,30,,\n"
    )
    problems = problems_of(write_case(tmp_path, {"sites.csv": sites}))
    # blank lines are skipped but still counted, as a spreadsheet shows them
    assert_problem(problems, "sites.csv", 5, "max_mw", "-5", "a number > 0")
    assert len(problems) == 1


def test_fingerprint_depends_on_file_bytes(tmp_path: Path) -> None:
    first, _ = load_case(write_case(tmp_path / "a", {}))
    same, _ = load_case(write_case(tmp_path / "b", {}))
    changed, _ = load_case(
        write_case(tmp_path / "c", {"periods.csv": "period,years\nq3,1\nq1,2\nq2,2.6\n"})
    )
    assert len(first.fingerprint) == 64 and int(first.fingerprint, 16) >= 0
    assert first.fingerprint == same.fingerprint
    assert first.fingerprint != changed.fingerprint


# --------------------------------------------------------------------------------------------
# Bad cells
# --------------------------------------------------------------------------------------------

SITES_HEADER = "site,region,max_mw,module_mw,capex_musd_per_mw,pue,life_years,lead_periods"


@pytest.mark.parametrize(
    ("column", "cell", "expected"),
    [
        ("max_mw", "-3", "a number > 0"),
        ("max_mw", "abc", "a number > 0"),
        ("max_mw", "nan", "a number > 0"),
        ("max_mw", "inf", "a number > 0"),
        ("max_mw", "2e13", "a number > 0, at most 1e12 in magnitude"),
        ("max_mw", "1e400", "a number > 0, at most 1e12 in magnitude"),
        ("max_mw", "1_000", "a number > 0"),  # float() takes these; a spreadsheet never writes them
        ("max_mw", "\u0661\u0662", "a number > 0"),
        ("max_mw", "\uff15", "a number > 0"),
        ("max_mw", "", "a value is required"),
        ("pue", "0.9", "a number >= 1"),
        ("capex_musd_per_mw", "-0.1", "a number >= 0"),
        ("lead_periods", "2.5", "an integer >= 0"),
        ("lead_periods", "-1", "an integer >= 0"),
        ("site", " north", "an id without leading or trailing spaces"),
        ("site", "", "a value is required"),
    ],
)
def test_bad_site_cell(tmp_path: Path, column: str, cell: str, expected: str) -> None:
    cells = ["north", "eu", "100", "10", "8", "1.2", "30", "0"]
    values = dict(zip(SITES_HEADER.split(","), cells, strict=True))
    values[column] = cell
    sites = f"{SITES_HEADER}\nsouth,us,50,5,7,1.3,30,0\n{','.join(values.values())}\n"
    problems = problems_of(write_case(tmp_path, {"sites.csv": sites}))
    assert_problem(problems, "sites.csv", 3, column, cell, expected)


# Every bound of the spec's table (shared/spec/inputs.md), on both sides of its edge: the cell is
# set in the first data row of the valid case (a parameter in its own row) and the case must load,
# or fail with a problem at that file, row and column. Written from the spec, not from the schema,
# so a schema bound that drifts (gt for ge, a lost le) fails here.
OPTIONAL_FILES: dict[str, str] = {
    "scenarios.csv": "scenario,probability\nbase,1\n",
    "budget.csv": "period,capex_limit_musd\nq3,100\n",
    "chip_supply.csv": "chip,period,max_units\nh1,q3,10\n",
    "chip_performance.csv": "chip,workload,pflops\nh1,training,2\n",
}
SPEC_BOUNDS: list[tuple[str, str, str, bool]] = [
    # parameters.csv
    ("parameters.csv", "discount_rate", "0", True),
    ("parameters.csv", "discount_rate", "-0.01", False),
    ("parameters.csv", "load_factor", "1", True),
    ("parameters.csv", "load_factor", "1.01", False),
    ("parameters.csv", "load_factor", "0", False),
    ("parameters.csv", "hours_per_year", "0", False),
    ("parameters.csv", "unmet_penalty_musd_per_eflops_year", "0", False),
    ("parameters.csv", "unmet_penalty_musd_per_eflops_year", "0.001", True),
    # periods.csv, scenarios.csv, demand.csv
    ("periods.csv", "years", "0", False),
    ("periods.csv", "years", "0.25", True),
    ("scenarios.csv", "probability", "1", True),
    ("scenarios.csv", "probability", "0", False),
    ("scenarios.csv", "probability", "1.5", False),
    ("demand.csv", "eflops", "0", True),
    ("demand.csv", "eflops", "-1", False),
    # sites.csv
    ("sites.csv", "region", "", False),
    ("sites.csv", "max_mw", "0", False),
    ("sites.csv", "module_mw", "0", False),
    ("sites.csv", "existing_mw", "0", True),
    ("sites.csv", "existing_mw", "-1", False),
    ("sites.csv", "capex_musd_per_mw", "0", True),
    ("sites.csv", "fixed_om_musd_per_mw_year", "0", True),
    ("sites.csv", "fixed_om_musd_per_mw_year", "-0.1", False),
    ("sites.csv", "lead_periods", "0", True),
    ("sites.csv", "pue", "1", True),
    ("sites.csv", "life_years", "0", False),
    # chips.csv
    ("chips.csv", "pflops", "0", False),
    ("chips.csv", "kw", "0", False),
    ("chips.csv", "capex_usd", "0", True),
    ("chips.csv", "opex_usd_per_year", "0", True),
    ("chips.csv", "opex_usd_per_year", "-1", False),
    ("chips.csv", "life_years", "0", False),
    # power.csv
    ("power.csv", "kind", "", False),
    ("power.csv", "mw", "0", False),
    ("power.csv", "firm_fraction", "0", True),
    ("power.csv", "firm_fraction", "1", True),
    ("power.csv", "availability", "1", True),
    ("power.csv", "price_usd_per_mwh", "0", True),
    ("power.csv", "price_usd_per_mwh", "-1", False),
    ("power.csv", "capacity_cost_musd_per_mw_year", "0", True),
    ("power.csv", "capacity_cost_musd_per_mw_year", "-1", False),
    ("power.csv", "capex_musd_per_mw", "0", True),
    ("power.csv", "capex_musd_per_mw", "-1", False),
    ("power.csv", "lead_periods", "0", True),
    ("power.csv", "lead_periods", "-1", False),
    ("power.csv", "term_periods", "1", True),
    ("power.csv", "min_take", "0", True),
    ("power.csv", "min_take", "1", True),
    ("power.csv", "min_take", "1.01", False),
    ("power.csv", "life_years", "0", False),
    # optional tables: a zero budget or supply forbids capex or purchases; negative is a slip
    ("budget.csv", "capex_limit_musd", "0", True),
    ("budget.csv", "capex_limit_musd", "-1", False),
    ("chip_supply.csv", "max_units", "0", True),
    ("chip_supply.csv", "max_units", "-1", False),
]


def _with_cell(file: str, column: str, cell: str) -> str:
    """The valid case's ``file`` (or an optional file's one-row example) with ``column`` set to
    ``cell`` in its first data row; a parameter is set in its own row."""
    if file == "parameters.csv":
        kept = [line for line in VALID[file].splitlines()[1:] if not line.startswith(f"{column},")]
        return "\n".join(["name,value", *kept, f"{column},{cell}"]) + "\n"
    header, first, *rest = (VALID.get(file) or OPTIONAL_FILES[file]).splitlines()
    names, values = header.split(","), first.split(",")
    if column not in names:
        names, values = [*names, column], [*values, ""]
        rest = [line + "," for line in rest]
    values[names.index(column)] = cell
    return "\n".join([",".join(names), ",".join(values), *rest]) + "\n"


@pytest.mark.parametrize(
    ("file", "column", "cell", "legal"), SPEC_BOUNDS, ids=[f"{f}:{c}={v}" for f, c, v, _ in SPEC_BOUNDS]
)
def test_spec_bounds_on_both_sides(tmp_path: Path, file: str, column: str, cell: str, legal: bool) -> None:
    text = _with_cell(file, column, cell)
    folder = write_case(tmp_path, {file: text})
    if legal:
        load_case(folder)
        return
    problems = problems_of(folder)
    row, column_named = (len(text.splitlines()), "value") if file == "parameters.csv" else (2, column)
    assert find(problems, file, row, column_named).value == cell


@pytest.mark.parametrize("site_id", ["nor\x00th", "nor\tth", "north\x7f", "no\x7frth"])
def test_an_id_with_a_control_character_is_refused(tmp_path: Path, site_id: str) -> None:
    sites = f"{SITES_HEADER}\nsouth,us,50,5,7,1.3,30,0\n{site_id},eu,100,10,8,1.2,30,0\n"
    problems = problems_of(write_case(tmp_path, {"sites.csv": sites}))
    assert (3, "site", site_id) in [(p.row, p.column, p.value) for p in problems]
    assert "control characters" in str(find(problems, "sites.csv", 3, "site"))


def test_a_number_padded_with_a_non_breaking_space_is_refused(tmp_path: Path) -> None:
    """Spaces around a number are fine; a non-breaking one (pasted from a web page) is not:
    Python's float() would take it, a spreadsheet would not."""
    sites = f"{SITES_HEADER}\nsouth,us,50,5,7,1.3,30,0\nnorth,eu, 100 ,10\u00a0,8,1.2,30,0\n"
    problems = problems_of(write_case(tmp_path, {"sites.csv": sites}))
    assert [(p.row, p.column, p.value) for p in problems] == [(3, "module_mw", "10\u00a0")]


@pytest.mark.parametrize(
    ("column", "cell", "expected"),
    [
        ("firm_fraction", "1.5", "a number >= 0 and <= 1"),
        ("availability", "0", "a number > 0 and <= 1"),
        ("term_periods", "0", "an integer >= 1"),
        ("min_take", "-1e20", "a number >= 0 and <= 1, at most 1e12 in magnitude"),
        ("term_periods", "1_0", "an integer >= 1"),
    ],
)
def test_bad_contract_cell(tmp_path: Path, column: str, cell: str, expected: str) -> None:
    power = (
        f"{CONTRACT_HEADER},{column}\ngrid_n,north,grid,50,60,{cell}\ngrid_s,south,grid,40,70,\n"
    )
    problems = problems_of(write_case(tmp_path, {"power.csv": power}))
    assert_problem(problems, "power.csv", 2, column, cell, expected)


def test_loader_raises_the_shared_error_classes(tmp_path: Path) -> None:
    # the CLI catches planner.errors.InputError: the loader must raise exactly that class
    assert InputError is errors.InputError and Problem is errors.Problem
    with pytest.raises(errors.InputError):
        load_case(tmp_path / "nowhere")


def test_problem_text_format() -> None:
    problem = Problem("sites.csv", 4, "max_mw", "-3", "a number > 0")
    assert str(problem) == "sites.csv, row 4, column max_mw: value '-3' — expected a number > 0"
    assert str(Problem("demand.csv", None, None, None, "x")) == "demand.csv — expected x"


# --------------------------------------------------------------------------------------------
# Columns and files
# --------------------------------------------------------------------------------------------


def test_missing_and_unknown_columns(tmp_path: Path) -> None:
    chips = "chip,kw,capex_usd,speed,note_src\nh1,1.2,30000,fast,x\n"
    problems = problems_of(write_case(tmp_path, {"chips.csv": chips}))
    missing = {p.column for p in problems if p.file == "chips.csv" and p.row is None}
    assert missing == {"pflops", "life_years"}
    assert "required column" in str(find(problems, "chips.csv", None, "pflops"))
    unknown = assert_problem(problems, "chips.csv", 1, "speed", "speed", "unknown column")
    assert "extra columns must start with 'note'" in str(unknown)
    # the missing columns are reported once, not again on every row
    assert len([p for p in problems if p.file == "chips.csv"]) == 3


def test_a_column_name_in_another_letter_case_is_named_as_such(tmp_path: Path) -> None:
    """``Chip`` for ``chip`` was a missing column and an unknown one; like a file name or an id in
    another letter case, it is one problem that says so."""
    chips = "Chip,PFLOPS,kw,capex_usd,life_years,First_Period\nh1,1.5,1.2,30000,5,\n"
    problems = problems_of(write_case(tmp_path, {"chips.csv": chips}))
    in_chips = [(p.row, p.column) for p in problems if p.file == "chips.csv"]
    assert in_chips == [(1, "Chip"), (1, "PFLOPS"), (1, "First_Period")]
    expected = "the column chip ('Chip' differs from it only in letter case, and column names must match"
    assert_problem(problems, "chips.csv", 1, "Chip", "Chip", expected)
    assert "the column pflops ('PFLOPS' differs" in find(problems, "chips.csv", 1, "PFLOPS").expected


def test_a_column_beside_its_exact_name_in_another_letter_case_is_an_unknown_column(tmp_path: Path) -> None:
    chips = "chip,Chip,pflops,kw,capex_usd,life_years\nh1,h1,1.5,1.2,30000,5\n"
    problems = problems_of(write_case(tmp_path, {"chips.csv": chips}))
    assert_problem(problems, "chips.csv", 1, "Chip", "Chip", UNKNOWN_COLUMN)


def test_a_comment_line_above_the_header_is_one_problem(tmp_path: Path) -> None:
    """``# my chips`` above the header read as the header: 5 missing columns and 3 unknown ones."""
    chips = "\n# my chips\nchip,pflops,kw,capex_usd,life_years\nh1,1.5,1.2,30000,5\n"
    problems = problems_of(write_case(tmp_path, {"chips.csv": chips}))
    assert [(p.file, p.row, p.column, p.value) for p in problems] == [("chips.csv", 2, None, "# my chips")]
    assert "this line reads as a comment" in problems[0].expected


def test_a_note_longer_than_the_csv_modules_default_limit_is_read(tmp_path: Path) -> None:
    """A 200,000-character note was "expected well-formed CSV (field larger than field limit
    (131072))": valid CSV, and notes are free text."""
    note = "x" * 200_000
    chips = VALID["chips.csv"].replace("life_years\n", "life_years,note\n").replace(",5\n", f",5,{note}\n")
    case, _ = load_case(write_case(tmp_path, {"chips.csv": chips}))
    assert list(case.chips) == ["h1"]


def test_missing_required_file_and_case_hint(tmp_path: Path) -> None:
    folder = write_case(tmp_path, {"sites.csv": None, "power.csv": None})
    (folder / "Power.csv").write_text(VALID["power.csv"], encoding="utf-8")
    problems = problems_of(folder)
    assert "required file" in str(find(problems, "sites.csv", None, None))
    assert "found 'Power.csv'" in str(find(problems, "power.csv", None, None))


@pytest.mark.parametrize(
    ("misnamed", "because"),
    [
        ("scenarios.CSV", "file names are case-sensitive"),
        ("scenarios.csv ", "spaces around a name are part of it"),
        ("scenarios.csv.txt", "the extra '.txt' is part of its name"),
        ("Scenarios.csv", "file names are case-sensitive"),
        ("scenarios.csv.bak", "the extra '.bak' is part of its name"),
        ("Scenarios.csv.csv", "file names are case-sensitive, the extra '.csv' is part of its name"),
    ],
)
def test_misnamed_optional_file_is_an_error_not_absent(
    write_case: CaseWriter, tiny_files: Mapping[str, str], tmp_path: Path, misnamed: str, because: str
) -> None:
    """A scenarios.csv under a near-miss name is never read: the case would run as if it were absent,
    every scenario equally likely, with no more than a vague warning (or none)."""
    folder = write_case(tmp_path / "case", {"scenarios.csv": None})
    (folder / misnamed).write_text(tiny_files["scenarios.csv"], encoding="utf-8")
    problems = problems_of(folder)
    assert len(problems) == 1, problems
    text = str(find(problems, "scenarios.csv", None, None))
    assert f"found {misnamed!r}, which is not read: {because};" in text
    assert "without scenarios.csv every scenario is equally likely" in text


def test_misnamed_required_file_names_the_look_alike_once(tmp_path: Path) -> None:
    folder = write_case(tmp_path, {"power.csv": None, "chips.csv": None})
    (folder / "power.csv.txt").write_text(VALID["power.csv"], encoding="utf-8")
    (folder / " CHIPS.CSV").write_text(VALID["chips.csv"], encoding="utf-8")
    problems = problems_of(folder)
    assert [str(p) for p in problems] == [
        "chips.csv — expected this required file (found ' CHIPS.CSV', which is not read: file names "
        "are case-sensitive, spaces around a name are part of it)",
        "power.csv — expected this required file (found 'power.csv.txt', which is not read: the extra "
        "'.txt' is part of its name)",
    ]


def test_misnamed_files_are_reported_with_every_other_problem(tmp_path: Path) -> None:
    folder = write_case(tmp_path, {"sites.csv": VALID["sites.csv"].replace(",100,", ",-100,")})
    (folder / "Budget.csv").write_text("period,capex_limit_musd\nq3,1\n", encoding="utf-8")
    (folder / "chip_supply.csv.txt").write_text("chip,period,max_units\nh1,q3,0\n", encoding="utf-8")
    problems = problems_of(folder)
    assert [(p.file, p.row, p.column) for p in problems] == [
        ("sites.csv", 2, "max_mw"),
        ("chip_supply.csv", None, None),
        ("budget.csv", None, None),
    ]
    assert "without chip_supply.csv chip purchases are not limited" in str(problems[1])
    assert "found 'Budget.csv'" in str(problems[2]) and "capex is not capped" in str(problems[2])


def test_misnamed_copy_beside_the_file_is_a_warning(write_case: CaseWriter, tmp_path: Path) -> None:
    """The file itself is read; a stale copy next to it changes nothing, but is worth a word."""
    folder = write_case(tmp_path / "case")
    for name in ("Scenarios.csv", "scenarios.csv.bak", "chips.csv "):
        (folder / name).write_text("stale\n", encoding="utf-8")
    case, warnings = load_case(folder)
    assert case.scenario_probability == {"high": 0.6, "low": 0.4}
    assert warnings == [
        "'Scenarios.csv': not read; scenarios.csv is read instead (file names are case-sensitive)",
        "'chips.csv ': not read; chips.csv is read instead (spaces around a name are part of it)",
        "'scenarios.csv.bak': not read; scenarios.csv is read instead (the extra '.bak' is part of its name)",
    ]


def test_unrelated_extra_files_stay_a_warning_or_unmentioned(write_case: CaseWriter, tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", {"budget.csv": None})
    for name in ("readme.csv", "budget_2030.csv", "budget.txt", "notes.txt", "budget"):
        (folder / name).write_text("anything\n", encoding="utf-8")
    _, warnings = load_case(folder)
    assert warnings == [
        "budget_2030.csv: not a file of the input format; ignored",
        "readme.csv: not a file of the input format; ignored",
    ]


def test_required_file_that_is_a_folder_or_a_broken_link(tmp_path: Path) -> None:
    folder = write_case(tmp_path, {"sites.csv": None, "power.csv": None})
    (folder / "sites.csv").mkdir()
    (folder / "power.csv").symlink_to(tmp_path / "gone.csv")
    problems = problems_of(folder)
    assert "found a folder of that name" in str(find(problems, "sites.csv", None, None))
    assert "broken link" in str(find(problems, "power.csv", None, None))
    assert "gone.csv" in str(find(problems, "power.csv", None, None))


def test_optional_file_that_is_not_a_file_is_an_error_not_absent(tmp_path: Path) -> None:
    """A budget that is a folder must not silently drop the budget (nor a supply limit, nor the
    scenario probabilities)."""
    folder = write_case(tmp_path, {})
    (folder / "budget.csv").mkdir()
    (folder / "scenarios.csv").unlink(missing_ok=True)
    (folder / "scenarios.csv").symlink_to(tmp_path / "gone.csv")
    (folder / "chip_supply.csv").symlink_to("/dev/null")
    os.mkfifo(folder / "chip_performance.csv")  # reading it would block forever
    problems = problems_of(folder)
    assert "found a folder of that name" in str(find(problems, "budget.csv", None, None))
    assert "broken link" in str(find(problems, "scenarios.csv", None, None))
    for name in ("chip_supply.csv", "chip_performance.csv"):
        assert "device, pipe or socket" in str(find(problems, name, None, None))


def test_empty_file_undecodable_file_and_bad_csv(tmp_path: Path) -> None:
    files: dict[str, str | bytes | None] = {
        "chips.csv": "",
        "sites.csv": VALID["sites.csv"].encode("utf-8").replace(b"eu", b"\xe9u"),
        "power.csv": f'{CONTRACT_HEADER}\ngrid_n,"north"x,grid,50,60\n',
    }
    problems = problems_of(write_case(tmp_path, files))
    assert "header row (the file is empty)" in str(find(problems, "chips.csv", None, None))
    undecodable = find(problems, "sites.csv", 2, "region")
    assert undecodable.value == "<E9>u" and "UTF-8" in undecodable.expected
    assert "well-formed CSV" in str(find(problems, "power.csv", 2, None))


def test_bytes_that_are_not_utf8_are_placed_in_their_spreadsheet_row_and_column(tmp_path: Path) -> None:
    """A Latin-1 export: each cell holding such bytes is named by its spreadsheet row (a note over
    two lines is one row) and column, its bytes shown as hex; a UTF-16 export is named as such."""
    sites = (
        "site,region,max_mw,module_mw,capex_musd_per_mw,pue,life_years,note\n"
        'north,eu,100,10,8,1.2,30,"line one\nline two"\n'
        "south,Z\xfcrich,50,5,7,1.3,30,caf\xe9\n"
    ).encode("latin-1")
    chips = VALID["chips.csv"].encode("utf-16")
    problems = problems_of(write_case(tmp_path, {"sites.csv": sites, "chips.csv": chips}))
    assert [(p.row, p.column, p.value) for p in problems if p.file == "sites.csv"] == [
        (3, "region", "Z<FC>rich"),
        (3, "note", "caf<E9>"),
    ]
    assert "UTF-16" in str(find(problems, "chips.csv", None, None))
    many = "site,region,max_mw,module_mw,capex_musd_per_mw,pue,life_years\n" + "".join(
        f"s{i},r\xe9,50,5,7,1.3,30\n" for i in range(13)
    )
    problems = problems_of(write_case(tmp_path / "many", {"sites.csv": many.encode("latin-1")}))
    listed = [p for p in problems if p.file == "sites.csv"]
    assert [p.row for p in listed] == list(range(2, 12))  # the first 10 cells, the last saying how many more
    assert listed[-1].expected.endswith("; 3 more cells like it") and "more" not in listed[0].expected


def test_a_quote_never_closed_is_reported_at_the_row_that_opens_it(tmp_path: Path) -> None:
    """Python's csv module reads to the end of the file and names its last line; the user needs
    the row where the quote opened."""
    power = f'{CONTRACT_HEADER}\ngrid_n,"north,grid,50,60\ngrid_s,south,grid,40,70\n\n'
    problems = problems_of(write_case(tmp_path, {"power.csv": power}))
    assert "a quote opened in this row is never closed" in find(problems, "power.csv", 2, None).expected


@pytest.mark.parametrize(
    ("first_lines", "says"),
    [("sep=,\n", "delete the 'sep=' line"), ("My sites, 2026\n\n", "the format has no title rows")],
    ids=["excel-sep-line", "title-row"],
)
def test_a_header_below_the_first_row_is_one_problem(tmp_path: Path, first_lines: str, says: str) -> None:
    """Not every column missing, every name unknown and every cell outside the header."""
    sites = first_lines + VALID["sites.csv"]
    problems = problems_of(write_case(tmp_path, {"sites.csv": sites}))
    header_row = first_lines.count("\n") + 1
    assert [(p.file, p.row) for p in problems] == [("sites.csv", 1)]
    assert f"row {header_row} holds the column names" in problems[0].expected and says in problems[0].expected


def test_a_reference_to_an_id_already_reported_is_not_a_second_problem(tmp_path: Path) -> None:
    """``north `` (a space after it) in sites.csv is the problem; power.csv's ``north`` is not another."""
    sites = VALID["sites.csv"].replace("north,eu", "north ,eu")
    problems = problems_of(write_case(tmp_path / "sites", {"sites.csv": sites}))
    assert [(p.file, p.row, p.column) for p in problems] == [("sites.csv", 2, "site")]
    demand = "scenario,period,workload,eflops\n" + "".join(
        f"{s},{p},training,1\n" for s in ("high", "low") for p in ("q3", "q1", "q2")
    )
    scenarios = "scenario,probability\nhigh ,0.5\nlow,0.5\n"
    files = {"demand.csv": demand, "scenarios.csv": scenarios}
    problems = problems_of(write_case(tmp_path / "scenarios", files))
    assert [(p.file, p.row, p.column) for p in problems] == [("scenarios.csv", 2, "scenario")]


@pytest.mark.parametrize(
    "signature", [b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"], ids=["xlsx", "xls"]
)
def test_workbook_saved_under_a_csv_name(tmp_path: Path, signature: bytes) -> None:
    problems = problems_of(write_case(tmp_path, {"sites.csv": signature + b"\x00\x14binary"}))
    sites = [p for p in problems if p.file == "sites.csv"]
    assert len(sites) == 1 and "workbook" in str(sites[0])


def test_missing_folder(tmp_path: Path) -> None:
    problems = problems_of(tmp_path / "nowhere")
    assert len(problems) == 1
    assert "nowhere" in str(problems[0]) and "existing folder" in str(problems[0])


def test_semicolon_separated_file(tmp_path: Path) -> None:
    problems = problems_of(write_case(tmp_path, {"periods.csv": "period;years\nq3;1\n"}))
    problem = find(problems, "periods.csv", 1, None)
    assert "comma-separated" in str(problem) and "';'" in str(problem)


def test_value_outside_named_columns(tmp_path: Path) -> None:
    periods = "period,years\nq3,1\nq1,2,oops\nq2,2.5,\n"
    problems = problems_of(write_case(tmp_path, {"periods.csv": periods}))
    assert_problem(problems, "periods.csv", 3, None, "oops", "no value outside")
    assert len(problems) == 1  # the trailing empty cell of row 4 is harmless


# --------------------------------------------------------------------------------------------
# parameters.csv
# --------------------------------------------------------------------------------------------


def test_parameter_problems(tmp_path: Path) -> None:
    parameters = (
        "name,value\n"
        "discount_rate,0.08\n"
        "load_factor,1.5\n"
        "discount_rate,0.05\n"
        "inflation,0.02\n"
        "hours_per_year,many\n"
    )
    problems = problems_of(write_case(tmp_path, {"parameters.csv": parameters}))
    assert_problem(problems, "parameters.csv", 3, "value", "1.5", "a number > 0 and <= 1")
    assert_problem(problems, "parameters.csv", 4, "name", "discount_rate", "row 2 has the same")
    assert_problem(problems, "parameters.csv", 5, "name", "inflation", "one of discount_rate")
    assert_problem(problems, "parameters.csv", 6, "value", "many", "a number > 0")
    missing = find(problems, "parameters.csv", None, "name")
    assert "unmet_penalty_musd_per_eflops_year" in str(missing)
    assert len(problems) == 5


def test_blank_optional_parameter_takes_default(tmp_path: Path) -> None:
    parameters = VALID["parameters.csv"] + "load_factor,\n"
    case, _ = load_case(write_case(tmp_path, {"parameters.csv": parameters}))
    assert case.parameters.load_factor == 1.0


# --------------------------------------------------------------------------------------------
# Ids and references
# --------------------------------------------------------------------------------------------


def test_duplicate_ids_name_both_rows(tmp_path: Path) -> None:
    sites = VALID["sites.csv"] + "north,asia,10,1,1,1.1,20\n"
    problems = problems_of(write_case(tmp_path, {"sites.csv": sites}))
    problem = assert_problem(problems, "sites.csv", 4, "site", "north", "a unique site id")
    assert "row 2" in str(problem)


def test_cross_references(tmp_path: Path) -> None:
    files = {
        "sites.csv": (
            "site,region,max_mw,module_mw,capex_musd_per_mw,pue,life_years,earliest_period\n"
            "north,eu,100,10,8,1.2,30,q9\nsouth,us,50,5,7,1.3,30,\n"
        ),
        "chips.csv": "chip,pflops,kw,capex_usd,life_years,last_period\nh1,1.5,1.2,30000,5,q0\n",
        "power.csv": VALID["power.csv"] + "grid_w,west,grid,10,50\n",
        "chip_performance.csv": "chip,workload,pflops\nh9,training,1\nh1,vision,2\n",
        "chip_supply.csv": "chip,period,max_units\nh1,q7,10\nh8,q1,10\n",
        "budget.csv": "period,capex_limit_musd\nq5,100\n",
    }
    problems = problems_of(write_case(tmp_path, files))
    assert_problem(problems, "sites.csv", 2, "earliest_period", "q9", "an id in periods.csv")
    assert_problem(problems, "chips.csv", 2, "last_period", "q0", "an id in periods.csv")
    assert_problem(problems, "power.csv", 4, "site", "west", "an id in sites.csv")
    assert_problem(problems, "chip_performance.csv", 2, "chip", "h9", "an id in chips.csv")
    assert_problem(
        problems, "chip_performance.csv", 3, "workload", "vision", "a workload in demand.csv"
    )
    assert_problem(problems, "chip_supply.csv", 2, "period", "q7", "an id in periods.csv")
    assert_problem(problems, "chip_supply.csv", 3, "chip", "h8", "an id in chips.csv")
    assert_problem(problems, "budget.csv", 2, "period", "q5", "an id in periods.csv")
    assert len(problems) == 8


def test_unknown_demand_period_is_reported_once_with_its_rows(tmp_path: Path) -> None:
    demand = VALID["demand.csv"] + "q4,training,1\nq4,inference,1\n"
    problems = problems_of(write_case(tmp_path, {"demand.csv": demand}))
    problem = assert_problem(problems, "demand.csv", 8, "period", "q4", "an id in periods.csv")
    assert "1 more rows: 9" in str(problem)
    assert len(problems) == 1


def test_chip_first_period_after_last_is_a_chip_never_available(tmp_path: Path) -> None:
    """Legal but suspicious (the spec sets no order on the two): a warning, and no purchase."""
    chips = (
        "chip,pflops,kw,capex_usd,life_years,first_period,last_period\n"
        "h1,1,1,1,5,,\nh2,1000,1,1,5,q2,q1\n"
    )
    case, warnings = load_case(write_case(tmp_path, {"chips.csv": chips}))
    assert warnings == [
        "chips.csv, row 3: chip 'h2' is never available (last_period q1 comes before first_period q2)"
    ]
    assert {chip for chip, _site, _period in bought(solve(case))} == {"h1"}


def test_duplicate_supply_and_budget_keys(tmp_path: Path) -> None:
    files = {
        "chip_supply.csv": "chip,period,max_units\nh1,q1,10\nh1,q2,10\nh1,q1,20\n",
        "budget.csv": "period,capex_limit_musd\nq1,100\nq1,200\n",
    }
    problems = problems_of(write_case(tmp_path, files))
    supply = assert_problem(
        problems, "chip_supply.csv", 4, None, "h1, q1", "one row per (chip, period)"
    )
    assert "row 2" in str(supply)
    budget = assert_problem(problems, "budget.csv", 3, "period", "q1", "one row per period")
    assert "row 2" in str(budget)


# --------------------------------------------------------------------------------------------
# Scenarios and demand completeness
# --------------------------------------------------------------------------------------------


def scenario_demand(scenarios: list[str]) -> str:
    rows = [f"{s},{p},training,1\n" for s in scenarios for p in ("q3", "q1", "q2")]
    return "scenario,period,workload,eflops\n" + "".join(rows)


def test_blank_demand_scenario_is_base_and_must_be_in_scenarios_csv(tmp_path: Path) -> None:
    """A blank scenario cell means 'base'; with a scenarios.csv that has no 'base' it is an unknown
    reference (it was skipped: the rows vanished, and plan-on-mean crashed on the missing key)."""
    demand = scenario_demand(["low", "high"]) + ",q1,training,1\n"
    files = {"demand.csv": demand, "scenarios.csv": "scenario,probability\nlow,0.5\nhigh,0.5\n"}
    problems = problems_of(write_case(tmp_path, files))
    assert_problem(problems, "demand.csv", 8, "scenario", "base", "a blank scenario means 'base'")


def test_scenario_problems(tmp_path: Path) -> None:
    files = {
        "demand.csv": scenario_demand(["low", "high", "odd"]),
        "scenarios.csv": "scenario,probability\nlow,0.5\nhigh,0.4\nmid,0.3\n",
    }
    problems = problems_of(write_case(tmp_path, files))
    assert_problem(problems, "demand.csv", 8, "scenario", "odd", "an id in scenarios.csv")
    assert_problem(problems, "scenarios.csv", 4, "scenario", "mid", "rows in demand.csv")
    total = find(problems, "scenarios.csv", None, "probability")
    assert "sum to 1" in str(total) and "1.2" in str(total)
    # mid has no rows: reported once, not again as missing (scenario, period, workload) rows
    assert len(problems) == 3


def test_probability_sum_within_tolerance(tmp_path: Path) -> None:
    files = {
        "demand.csv": scenario_demand(["a", "b", "c"]),
        "scenarios.csv": "scenario,probability\na,0.3333333\nb,0.3333333\nc,0.3333333\n",
    }
    case, _ = load_case(write_case(tmp_path, files))
    assert case.scenario_probability["c"] == 0.3333333


def test_demand_duplicates_and_missing_combinations(tmp_path: Path) -> None:
    demand = (
        "period,workload,eflops\n"
        "q3,training,1\nq3,inference,2\n"
        "q1,training,3\n"
        "q2,training,5\nq2,inference,6\n"
        "q3,training,7\n"
    )
    problems = problems_of(write_case(tmp_path, {"demand.csv": demand}))
    duplicate = assert_problem(
        problems,
        "demand.csv",
        7,
        None,
        "base, q3, training",
        "one row per (scenario, period, workload)",
    )
    assert "row 2" in str(duplicate)
    missing = find(problems, "demand.csv", None, None)
    assert "missing 1: (base, q1, inference)" in str(missing)
    assert len(problems) == 2


def test_missing_combinations_are_summarised(tmp_path: Path) -> None:
    demand = scenario_demand(["a"]) + "".join(f"b,q3,w{i},1\n" for i in range(3))
    problems = problems_of(write_case(tmp_path, {"demand.csv": demand}))
    text = str(find(problems, "demand.csv", None, None))
    # 2 scenarios x 3 periods x 4 workloads = 24 combinations, 6 given
    assert "missing 18:" in text and "(18 in all)" in text
    assert "(a, q3, w0)" in text


def test_problems_of_one_file_come_in_row_order(tmp_path: Path) -> None:
    """Periods are checked before scenarios, but a user reads the file top down."""
    demand = scenario_demand(["a", "b"]).replace("a,q1,", "zz,q1,").replace("b,q2,", "b,q9,")
    files = {"demand.csv": demand, "scenarios.csv": "scenario,probability\na,0.5\nb,0.5\n"}
    problems = [p for p in problems_of(write_case(tmp_path, files)) if p.row is not None]
    assert [(p.row, p.column) for p in problems] == [(3, "scenario"), (7, "period")]


def test_workloads_are_not_checked_against_an_unusable_demand_file(tmp_path: Path) -> None:
    """demand.csv without its workload column: one problem there, none for chip_performance.csv."""
    files = {
        "demand.csv": "period,load,eflops\nq3,training,1\nq1,training,1\nq2,training,1\n",
        "chip_performance.csv": "chip,workload,pflops\nh1,training,2\n",
    }
    problems = problems_of(write_case(tmp_path, files))
    assert {p.file for p in problems} == {"demand.csv"}


def test_probability_sum_outside_tolerance_either_way(tmp_path: Path) -> None:
    """Within 1e-6 of 1 on either side is accepted; 2e-6 above or 0.1 below is not."""
    demand = scenario_demand(["a", "b"])
    for first, ok in (("0.4999996", True), ("0.5000004", True), ("0.500002", False), ("0.4", False)):
        folder = write_case(tmp_path / first, {"demand.csv": demand,
                                               "scenarios.csv": f"scenario,probability\na,{first}\nb,0.5\n"})
        if ok:
            load_case(folder)
        else:
            assert "sum to 1" in str(find(problems_of(folder), "scenarios.csv", None, "probability"))


def test_probabilities_exactly_the_tolerance_from_1_are_accepted(tmp_path: Path) -> None:
    """3 x 0.333333 is 1e-6 below 1 as written (accepted: "within 1e-6"), though its binary float
    sum is 1.00000000003e-6 away; 0.5 + 0.299999 + 0.2 is as far as written. 3 x 0.3333329 (1.3e-6
    away) is refused."""
    demand = scenario_demand(["a", "b", "c"])
    for name, cells, ok in (
        ("thirds", ("0.333333",) * 3, True),
        ("mixed", ("0.5", "0.299999", "0.2"), True),
        ("below", ("0.3333329",) * 3, False),
    ):
        rows = "".join(f"{w},{p}\n" for w, p in zip("abc", cells, strict=True))
        files = {"demand.csv": demand, "scenarios.csv": "scenario,probability\n" + rows}
        folder = write_case(tmp_path / name, files)
        if ok:
            load_case(folder)
        else:
            assert "sum to 1" in str(find(problems_of(folder), "scenarios.csv", None, "probability"))


def test_a_bad_probability_cell_is_not_also_a_bad_sum(tmp_path: Path) -> None:
    files = {"demand.csv": scenario_demand(["a", "b"]),
             "scenarios.csv": "scenario,probability\na,half\nb,0.5\n"}
    problems = problems_of(write_case(tmp_path, files))
    assert [(p.row, p.column, p.value) for p in problems] == [(2, "probability", "half")]


def test_duplicate_scenario_and_chip_performance_keys(tmp_path: Path) -> None:
    files = {
        "demand.csv": scenario_demand(["a", "b"]),
        "scenarios.csv": "scenario,probability\na,0.5\nb,0.25\nb,0.25\n",
        "chip_performance.csv": "chip,workload,pflops\nh1,training,2\nh1,training,3\n",
    }
    problems = problems_of(write_case(tmp_path, files))
    assert_problem(problems, "scenarios.csv", 4, "scenario", "b", "a unique scenario id")
    assert_problem(problems, "chip_performance.csv", 3, None, "h1, training", "one row per (chip, workload)")


def test_unknown_first_period_of_a_chip_or_a_contract(tmp_path: Path) -> None:
    files = {
        "chips.csv": "chip,pflops,kw,capex_usd,life_years,first_period\nh1,1.5,1.2,30000,5,q8\n",
        "power.csv": (
            f"{CONTRACT_HEADER},first_period\ngrid_n,north,grid,50,60,q9\ngrid_s,south,grid,40,70,\n"
        ),
    }
    problems = problems_of(write_case(tmp_path, files))
    assert_problem(problems, "chips.csv", 2, "first_period", "q8", "an id in periods.csv")
    assert_problem(problems, "power.csv", 2, "first_period", "q9", "an id in periods.csv")


def test_existing_mw_may_fill_the_site_but_not_exceed_it(tmp_path: Path) -> None:
    header = "site,region,max_mw,module_mw,capex_musd_per_mw,pue,life_years,existing_mw\n"
    full = write_case(tmp_path / "full", {"sites.csv": header + "north,eu,100,10,8,1.2,30,100\n"
                                          "south,us,50,5,7,1.3,30,\n"})
    case, _ = load_case(full)
    assert case.sites["north"].existing_mw == 100
    over = write_case(tmp_path / "over", {"sites.csv": header + "north,eu,100,10,8,1.2,30,100.5\n"
                                          "south,us,50,5,7,1.3,30,\n"})
    problems = problems_of(over)
    assert_problem(problems, "sites.csv", 2, "existing_mw", "100.5", "existing_mw not above max_mw (100)")
    assert len(problems) == 1


def test_demand_file_with_a_header_only(tmp_path: Path) -> None:
    problems = problems_of(write_case(tmp_path, {"demand.csv": "period,workload,eflops\n"}))
    assert any(p.file == "demand.csv" and p.expected == "at least one demand row" for p in problems)


def test_parameter_row_without_a_name(tmp_path: Path) -> None:
    parameters = VALID["parameters.csv"] + ",0.5\n"
    problems = problems_of(write_case(tmp_path, {"parameters.csv": parameters}))
    assert_problem(problems, "parameters.csv", 4, "name", "", "a parameter name (a value is required)")
    assert len(problems) == 1


def test_a_bad_or_blank_required_parameter_is_reported_once(tmp_path: Path) -> None:
    """A required parameter whose cell is bad or blank is that cell's problem, not also 'missing'."""
    parameters = "name,value\ndiscount_rate,\nunmet_penalty_musd_per_eflops_year,lots\n"
    problems = problems_of(write_case(tmp_path, {"parameters.csv": parameters}))
    assert [(p.row, p.column, p.value) for p in problems] == [(2, "value", ""), (3, "value", "lots")]
    assert "a value is required" in problems[0].expected


def test_a_missing_id_column_is_not_also_every_reference_to_it(tmp_path: Path) -> None:
    """Without sites.csv's site column, power.csv's sites cannot be checked: one problem."""
    sites = "name,region,max_mw,module_mw,capex_musd_per_mw,pue,life_years\nnorth,eu,100,10,8,1.2,30\n"
    problems = problems_of(write_case(tmp_path, {"sites.csv": sites}))
    assert {(p.file, p.column) for p in problems} == {("sites.csv", "site"), ("sites.csv", "name")}


def test_parameters_file_without_its_value_column(tmp_path: Path) -> None:
    parameters = "name,amount\ndiscount_rate,0.08\nunmet_penalty_musd_per_eflops_year,1000\n"
    problems = problems_of(write_case(tmp_path, {"parameters.csv": parameters}))
    assert {(p.file, p.row, p.column) for p in problems} == {
        ("parameters.csv", 1, "amount"), ("parameters.csv", None, "value")
    }


# --------------------------------------------------------------------------------------------
# Many problems at once
# --------------------------------------------------------------------------------------------


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    files = {
        "periods.csv": "period,years\nq3,1\nq1,0\nq2,2.5\n",
        "sites.csv": VALID["sites.csv"].replace("north,eu,100", "north,eu,-100"),
        "chips.csv": "chip,pflops,kw,capex_usd,life_years\nh1,x,1.2,30000,5\n",
        "power.csv": VALID["power.csv"].replace("grid_s,south", "grid_s,east"),
        "budget.csv": "period,capex_limit_musd,extra\nq1,1,2\n",
    }
    with pytest.raises(InputError) as caught:
        load_case(write_case(tmp_path, files))
    lines = str(caught.value).splitlines()
    assert lines == [
        "periods.csv, row 3, column years: value '0' — expected a number > 0",
        "sites.csv, row 2, column max_mw: value '-100' — expected a number > 0",
        "chips.csv, row 2, column pflops: value 'x' — expected a number > 0",
        "power.csv, row 3, column site: value 'east' — expected an id in sites.csv",
        "budget.csv, row 1, column extra: value 'extra' — expected a known column "
        "(period, capex_limit_musd): unknown column; extra columns must start with 'note'",
    ]


# --------------------------------------------------------------------------------------------
# Warnings
# --------------------------------------------------------------------------------------------


def test_warnings(tmp_path: Path) -> None:
    files = {
        "sites.csv": (
            "site,region,max_mw,module_mw,capex_musd_per_mw,pue,life_years,lead_periods,"
            "earliest_period\n"
            "north,eu,100,10,8,1.2,30,1,q1\n"
            "south,us,50,5,7,1.3,30,1,q2\n"
            "lonely,us,50,5,7,1.3,30,0,\n"
            "lumpy,us,50,60,7,1.3,30,0,\n"
        ),
        "chips.csv": (
            "chip,pflops,kw,capex_usd,life_years,first_period\nh1,1,1,1,5,\nh2,1,1,1,5,q1\n"
        ),
        "chip_supply.csv": "chip,period,max_units\nh2,q1,0\nh2,q2,0\nh1,q3,0\n",
        "chip_performance.csv": "chip,workload,pflops\nh1,inference,0\nh2,inference,0\n",
        "power.csv": (
            f"{CONTRACT_HEADER},lead_periods,first_period,existing\n"
            "grid_n,north,grid,50,60,0,,\n"
            "grid_s,south,grid,40,70,1,q2,\n"
            "grid_old,south,grid,40,70,3,q2,true\n"
            "grid_lumpy,lumpy,grid,40,70,0,,\n"
        ),
        "readme.csv": "anything\n",
    }
    _, warnings = load_case(write_case(tmp_path, files))
    expected_starts = [
        "readme.csv: not a file of the input format",
        "sites.csv, row 3: site 'south' can never have a build ready",
        "sites.csv, row 4: site 'lonely' has no power contract",
        "sites.csv, row 5: site 'lumpy' can never build a whole module (module_mw 60 > max_mw - "
        "existing_mw = 50;",
        "chips.csv, row 3: chip 'h2' is never available",
        "power.csv, row 3: contract 'grid_s' can never be active",
        "power.csv, row 4: contract 'grid_old' is existing: active from the first period at no signing "
        "cost, so its lead_periods and first_period are ignored",
        "demand.csv: workload 'inference' cannot be served by any chip",
    ]
    assert len(warnings) == len(expected_starts), warnings
    for warning, start in zip(warnings, expected_starts, strict=True):
        assert warning.startswith(start), warning


def test_warnings_on_their_edges(tmp_path: Path) -> None:
    """Each warning fires just past its edge and not at it: room left by existing MW (none left is a
    site built to its cap, no warning), a chip whose
    supply is 0 in every period but the last, an existing contract with only a first_period, a
    single scenario named 'all' (nothing to confuse it with)."""
    files = {
        "demand.csv": VALID["demand.csv"].replace("period,", "scenario,period,").replace("\nq", "\nall,q"),
        "sites.csv": (
            "site,region,max_mw,module_mw,existing_mw,capex_musd_per_mw,pue,life_years,lead_periods,"
            "earliest_period\n"
            "north,eu,100,10,0,8,1.2,30,0,\n"
            "south,us,10,5,6,7,1.3,30,1,q1\n"
            "campus,us,30,5,30,7,1.3,30,0,\n"
        ),
        "chips.csv": "chip,pflops,kw,capex_usd,life_years\nh1,1,1,1,5\n",
        "chip_supply.csv": "chip,period,max_units\nh1,q3,0\nh1,q1,0\n",
        "power.csv": (
            f"{CONTRACT_HEADER},first_period,existing\n"
            "grid_n,north,grid,50,60,q1,true\n"
            "grid_s,south,grid,40,70,,\n"
            "grid_c,campus,grid,40,70,,\n"
        ),
    }
    _, warnings = load_case(write_case(tmp_path, files))
    assert warnings == [
        "sites.csv, row 3: site 'south' can never build a whole module (module_mw 5 > max_mw - "
        "existing_mw = 4; an LP relaxation may still build a fraction of one)",
        "power.csv, row 2: contract 'grid_n' is existing: active from the first period at no signing "
        "cost, so its first_period is ignored",
    ]


@pytest.mark.parametrize(
    ("low_training_p2", "warned"),
    [("2.5000000000000004", True), ("2.500000003", False), ("2.5", False)],
)
def test_a_branch_made_by_round_off_is_a_warning(
    low_training_p2: str, warned: bool, write_case: CaseWriter, tiny_files: dict, tmp_path: Path
) -> None:
    """Scenarios differing only by round-off (relative 1e-9 or less: a formula's 2.5000000000000004)
    still branch the tree, as the contract says, with a warning; 1.2e-9 apart is a real difference."""
    demand = (
        tiny_files["demand.csv"]
        .replace("high,p2,training,5\nhigh,p2,inference,3", "high,p2,training,2.5\nhigh,p2,inference,1.5")
        .replace("low,p2,training,2.5", f"low,p2,training,{low_training_p2}")
    )
    _, warnings = load_case(write_case(tmp_path / "case", {"demand.csv": demand}))
    said = [w for w in warnings if "round-off" in w]
    expected = (
        "demand.csv: scenarios 'high' and 'low' differ in period 'p2' only by round-off (2.5 vs "
        "2.5000000000000004 EFLOPS); the scenario tree branches there all the same (decisions from "
        "then on may differ). Equal cells make them share the period"
    )
    assert said == ([expected] if warned else [])


def test_suspicious_magnitudes_are_warnings_past_their_edges(tmp_path: Path) -> None:
    """A discount rate above 1 (8 for 8%), hours per year above a leap year's 8784 or under 1000,
    a PUE above 3, a site whose every contract has firm_fraction 0, an existing contract's capex,
    and a chip that serves a workload's largest demand with under 1e-3 chips or IT MW. At their
    edges (rate 1, 8784 and 1000 hours, PUE 3, exactly 1e-3 chips: 5 EFLOPS of training on
    5e6-PFLOPS chips) nothing is said."""
    chips_at_edge = "chip,pflops,kw,capex_usd,life_years\nh1,5e6,1000,1,5\n"
    power = f"{CONTRACT_HEADER},firm_fraction\ngrid_n,north,grid,50,60,\ngrid_s,south,grid,40,70,\n"
    edges = {
        "parameters.csv": VALID["parameters.csv"].replace("0.08", "1") + "hours_per_year,8784\n",
        "sites.csv": VALID["sites.csv"].replace("1.3,30", "3,30"),
        "chips.csv": chips_at_edge,
        "power.csv": power,
    }
    assert load_case(write_case(tmp_path / "edges", edges))[1] == []
    assert load_case(write_case(tmp_path / "few", {**edges, "parameters.csv": edges["parameters.csv"]
                                                  .replace("8784", "1000")}))[1] == []
    past = {
        "parameters.csv": VALID["parameters.csv"].replace("0.08", "8") + "hours_per_year,8785\n",
        "sites.csv": VALID["sites.csv"].replace("1.3,30", "3.01,30"),
        "chips.csv": chips_at_edge.replace("5e6,1000", "5.1e6,1000") + "h2,1,1e-4,1,5\n",
        "power.csv": power.replace("grid_s,south,grid,40,70,", "grid_s,south,grid,40,70,0")
        .replace(",firm_fraction", ",firm_fraction,capex_musd_per_mw,existing")
        .replace("grid_n,north,grid,50,60,", "grid_n,north,grid,50,60,,2,true")
        .replace("south,grid,40,70,0", "south,grid,40,70,0,,"),
    }
    warnings = load_case(write_case(tmp_path / "past", past))[1]
    assert warnings == [
        "sites.csv, row 3: site 'south' has no firm power: every contract at it has firm_fraction 0 in "
        "power.csv, so no chip can ever be installed there",
        "sites.csv, row 3: site 'south' has pue 3.01, far above data-center PUEs (1.1 to 2); a PUE is a "
        "ratio (1.2), not a percentage",
        "power.csv, row 2: contract 'grid_n' is existing: active from the first period at no signing "
        "cost, so its capex_musd_per_mw is ignored",
        "parameters.csv: discount_rate 8 is 800% a year; a rate is a fraction (0.08 for 8%)",
        "parameters.csv: hours_per_year 8785 is more than a year has (8784 in a leap year)",
        "chips.csv, row 2: chip 'h1' serves the largest demand of workload 'training' (5 EFLOPS) with "
        "0.00098 chips drawing 0.00098 IT MW: amounts this small sit within the solver's tolerances "
        "(1e-6), so a plan may leave them out of buildings, power or cost; check pflops (PFLOPS per "
        "chip) and kw (kW per chip)",
        "chips.csv, row 3: chip 'h2' serves the largest demand of workload 'training' (5 EFLOPS) with "
        "5e+03 chips drawing 0.0005 IT MW: amounts this small sit within the solver's tolerances "
        "(1e-6), so a plan may leave them out of buildings, power or cost; check pflops (PFLOPS per "
        "chip) and kw (kW per chip)",
    ]
    few = {"parameters.csv": VALID["parameters.csv"] + "hours_per_year,999\n"}
    assert load_case(write_case(tmp_path / "fewer", few))[1] == [
        "parameters.csv: hours_per_year 999 is under 1,000 hours: hours per day, week or month? (a "
        "year has 8760)"
    ]


def test_periods_discounted_to_within_the_solver_tolerances_are_named(tmp_path: Path) -> None:
    """Three 50-year periods at 50%: p2 weighs 1.5^-50 = 1.6e-9 of p1, p3 2.5e-18; HiGHS left all
    of p3's demand unmet at no visible cost, and --duals printed 1e8 $M per MW-year. At 10% p3
    still weighs 1.1^-100 = 7.3e-5: nothing to say."""
    def warned(rate: str) -> list[str]:
        files = {
            "periods.csv": "period,years\nq1,50\nq2,50\nq3,50\n",
            "parameters.csv": VALID["parameters.csv"].replace("0.08", rate),
        }
        return [w for w in load_case(write_case(tmp_path / rate, files))[1] if "discount_rate" in w]

    assert warned("0.5") == [
        "parameters.csv: discount_rate 0.5 weighs period 'q2' (from year 50) and the later ones at 1.6e-09 "
        "or less of the first, below 1e-06: their costs come within HiGHS's tolerances of nothing, so the "
        "plan there may be arbitrary (demand left unmet, say) and their shadow prices noise"
    ]
    assert warned("0.1") == []


def test_a_site_whose_lead_reaches_the_horizon_end_is_named_with_its_period(tmp_path: Path) -> None:
    sites = (
        "site,region,max_mw,module_mw,capex_musd_per_mw,pue,life_years,lead_periods,earliest_period\n"
        "north,eu,100,10,8,1.2,30,0,\nsouth,us,50,5,7,1.3,30,1,q2\n"
    )
    _, warnings = load_case(write_case(tmp_path, {"sites.csv": sites}))
    assert warnings == [
        "sites.csv, row 3: site 'south' can never have a build ready within the horizon "
        "(earliest_period is period 3 of 3, lead_periods 1)"
    ]


def test_scenario_ids_that_read_like_node_labels_are_a_warning(
    write_case: CaseWriter, tiny_files: Mapping[str, str], tmp_path: Path
) -> None:
    """Tables label a shared decision's node ``all`` and a few scenarios' node ``hi+lo``."""
    renamed = {
        name: tiny_files[name].replace("high,", "all,").replace("low,", "lo+w,")
        for name in ("scenarios.csv", "demand.csv")
    }
    _, warnings = load_case(write_case(tmp_path, renamed))
    assert [w.split(":")[0] for w in warnings] == ["scenario 'all'", "scenario 'lo+w'"]
    assert all("reads ambiguously" in w for w in warnings)


def test_empty_optional_file_is_a_warning(tmp_path: Path) -> None:
    _, warnings = load_case(write_case(tmp_path, {"budget.csv": ""}))
    assert warnings == ["budget.csv: the file is empty; treated as absent"]


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------


def test_case_summary_sizes_horizon_and_tree(tmp_path: Path) -> None:
    # a and b share q3 and q1, c leaves them at q1; a and b split at q2
    values = {"a": (1, 2, 3), "b": (1, 2, 4), "c": (1, 5, 6)}
    demand = "scenario,period,workload,eflops\n" + "".join(
        f"{s},{p},training,{v}\n"
        for s, vs in values.items()
        for p, v in zip(("q3", "q1", "q2"), vs, strict=True)
    )
    files = {"demand.csv": demand, "scenarios.csv": "scenario,probability\na,0.2\nb,0.3\nc,0.5\n"}
    case, _ = load_case(write_case(tmp_path / "tree", files))
    summary = case_summary(case)
    assert summary["name"] == "tree"
    assert summary["sizes"]["periods"] == 3 and summary["sizes"]["demand_rows"] == 9
    assert summary["sizes"]["sites"] == 2 and summary["sizes"]["contracts"] == 2
    assert summary["horizon"] == {
        "first_period": "q3",
        "last_period": "q2",
        "periods": 3,
        "total_years": 5.5,
    }
    assert summary["scenarios"][2] == {"scenario": "c", "probability": 0.5}
    assert summary["workloads"] == ["training"]
    assert summary["scenario_tree"] == [
        {
            "period": "q1",
            "shared_until": "q3",
            "scenarios": ["a", "b", "c"],
            "branches": [["a", "b"], ["c"]],
        },
        {"period": "q2", "shared_until": "q1", "scenarios": ["a", "b"], "branches": [["a"], ["b"]]},
    ]


# --------------------------------------------------------------------------------------------
# Size
# --------------------------------------------------------------------------------------------


def test_large_demand_file_loads(tmp_path: Path) -> None:
    periods = [f"p{i}" for i in range(20)]
    workloads = [f"w{i}" for i in range(50)]
    scenarios = [f"s{i}" for i in range(20)]  # 20 x 20 x 50 = 20,000 rows
    demand = "scenario,period,workload,eflops\n" + "".join(
        f"{s},{p},{w},1.5\n" for s in scenarios for p in periods for w in workloads
    )
    files = {
        "periods.csv": "period,years\n" + "".join(f"{p},1\n" for p in periods),
        "demand.csv": demand,
    }
    case, _ = load_case(write_case(tmp_path, files))
    assert len(case.demand_eflops) == 20_000
    assert case.workloads[:2] == ("w0", "w1") and case.scenarios[-1] == "s19"


# --------------------------------------------------------------------------------------------
# Odd shapes
# --------------------------------------------------------------------------------------------


def test_header_only_files(tmp_path: Path) -> None:
    problems = problems_of(write_case(tmp_path / "a", {"periods.csv": "period,years\n"}))
    assert "at least one period row" in str(find(problems, "periods.csv", None, None))
    _, warnings = load_case(
        write_case(tmp_path / "b", {"chips.csv": "chip,pflops,kw,capex_usd,life_years\n"})
    )
    assert warnings == ["chips.csv: no rows; no demand can be served"]


def test_short_row_cells_are_blank(tmp_path: Path) -> None:
    sites = VALID["sites.csv"] + "west,us,50\n"
    problems = problems_of(write_case(tmp_path, {"sites.csv": sites}))
    assert_problem(problems, "sites.csv", 4, "module_mw", "", "a value is required")
    assert {p.column for p in problems} == {"module_mw", "capex_musd_per_mw", "pue", "life_years"}


def test_ids_differing_only_in_letter_case_are_a_warning(
    write_case: CaseWriter, tiny_files: Mapping[str, str], tmp_path: Path
) -> None:
    """``GPU`` and ``gpu`` are two chips, each with its own rows: legal, more often a typo."""
    chips = tiny_files["chips.csv"] + "GPU,2,1.2,40000,1500,5,\n"
    _, warnings = load_case(write_case(tmp_path, {"chips.csv": chips}))
    assert warnings == [
        "chips.csv: chip ids 'gpu' and 'GPU' differ only in letter case; ids are case-sensitive, so they "
        "are 2 different chips"
    ]


def test_a_reference_differing_only_in_letter_case_names_the_id_it_resembles(
    write_case: CaseWriter, tiny_files: Mapping[str, str], tmp_path: Path
) -> None:
    power = tiny_files["power.csv"].replace("grid_s,south,", "grid_s,South,")
    with pytest.raises(InputError) as raised:
        load_case(write_case(tmp_path, {"power.csv": power}))
    [problem] = raised.value.problems
    assert (problem.file, problem.row, problem.column, problem.value) == ("power.csv", 4, "site", "South")
    assert problem.expected == (
        "an id in sites.csv; 'south' differs from it only in letter case, and ids must match"
        " exactly"
    )


@pytest.mark.parametrize(
    ("periods", "warned"),
    [
        (["2031", "2030", "2029"], "period '2030' is listed after '2031'"),
        (["2027Q1", "2027Q3", "2027Q2"], "period '2027Q2' is listed after '2027Q3'"),
        (["FY2030-H2", "FY2030-H1", "FY2031-H1"], "period 'FY2030-H1' is listed after 'FY2030-H2'"),
        (["2100", "2099", "2101"], "period '2099' is listed after '2100'"),
        (["2027", "2027Q1", "2027Q2"], "period '2027Q1' is listed after '2027'"),  # both start 2027
        (["2029", "2030", "2031"], None),
        (["2027q1", "2027Q2", "2027-Q3"], None),
        (["p3", "p2", "p1"], None),  # not calendar ids: the order listed is the only order
        (["2030", "later", "2029"], None),
    ],
)
def test_year_like_period_ids_out_of_order_are_a_warning(
    periods: list[str],
    warned: str | None,
    write_case: CaseWriter,
    tiny_files: Mapping[str, str],
    tmp_path: Path,
) -> None:
    renamed = dict(zip(("p1", "p2", "p3"), periods, strict=True))
    files = {
        name: re.sub(r"\bp[123]\b", lambda found: renamed[found.group()], tiny_files[name])
        for name in ("periods.csv", "demand.csv", "chips.csv")
    }
    _, warnings = load_case(write_case(tmp_path, files))
    expected = [] if warned is None else [
        f"periods.csv: {warned}; periods are taken in the order listed (first = now), whatever their ids say"
    ]
    assert warnings == expected


def test_a_number_in_a_trailing_note_warns_of_shifted_cells(
    write_case: CaseWriter, tiny_files: Mapping[str, str], tmp_path: Path
) -> None:
    """``north,us,30,4,2,11,0.3,0,1,200,15,`` once read pue 1 and life 200 (an unquoted 1,200 split
    in two) with the real life, 15, in the note, and no word said."""
    header, north, south = tiny_files["sites.csv"].splitlines()
    sites = f"{header},note\n{north.replace(',1.2,15', ',1,200,15')}\n{south},2024\n"
    _, warnings = load_case(write_case(tmp_path, {"sites.csv": sites}))
    assert warnings == [  # not row 3: a year in a note, and no number split in two before it
        "sites.csv, row 2, column note: a plain number in a note; if a number earlier in the row has a "
        "thousands separator (12,500), its cells have shifted one column right: write 12500 or quote it "
        '("12,500")'
    ]


@pytest.mark.parametrize(
    ("life", "warned"),
    [(",1,200.5,15", True), (",1234,500,15", False)],  # 1,200.5 can be one number; 1234,500 cannot
)
def test_a_split_number_ends_in_three_digits_and_starts_with_at_most_three(
    life: str, warned: bool, write_case: CaseWriter, tiny_files: Mapping[str, str], tmp_path: Path
) -> None:
    header, north, south = tiny_files["sites.csv"].splitlines()
    sites = f"{header},note\n{north.replace(',1.2,15', life)}\n{south}\n"
    _, warnings = load_case(write_case(tmp_path, {"sites.csv": sites}))
    notes = [w for w in warnings if "column note" in w]
    assert [w.split(":")[0] for w in notes] == (["sites.csv, row 2, column note"] if warned else [])
    others = [w for w in warnings if w not in notes]
    assert others == ([] if warned else [  # 1234 read as the PUE is suspicious on its own
        "sites.csv, row 2: site 'north' has pue 1234, far above data-center PUEs (1.1 to 2); a PUE is a "
        "ratio (1.2), not a percentage"
    ])


def test_number_forms_a_spreadsheet_writes(tmp_path: Path) -> None:
    """A sign, a leading or trailing point, and cells of spaces (blank: the default, or required)."""
    sites = (
        "site,region,max_mw,module_mw,existing_mw,capex_musd_per_mw,pue,life_years\n"
        "north,eu,+100,.5,   ,8,1.2,30\nsouth,us,50,5.,0,7,1.3,30\n"
    )
    case, _ = load_case(write_case(tmp_path / "ok", {"sites.csv": sites}))
    north, south = case.sites["north"], case.sites["south"]
    assert (north.max_mw, north.module_mw, north.existing_mw, south.module_mw) == (100, 0.5, 0, 5)
    blank_required = sites.replace("+100", "  ")
    problems = problems_of(write_case(tmp_path / "bad", {"sites.csv": blank_required}))
    assert_problem(problems, "sites.csv", 2, "max_mw", "  ", "a value is required")


def test_header_forms(tmp_path: Path) -> None:
    """Tabs for commas, a repeated column, a capitalised note column, blank lines above the header."""
    tabs = VALID["periods.csv"].replace(",", "\t")
    repeated = "chip,pflops,kw,capex_usd,life_years,kw\nh1,1.5,1.2,30000,5,1.2\n"
    problems = problems_of(write_case(tmp_path / "bad", {"periods.csv": tabs, "chips.csv": repeated}))
    assert "the header looks separated by tabs" in find(problems, "periods.csv", 1, None).expected
    assert_problem(problems, "chips.csv", 1, "kw", "kw", "each column once (it appears twice)")
    sites = "\n\n" + VALID["sites.csv"].replace("life_years", "life_years,Notes").replace(",30\n", ",30,x\n")
    case, _ = load_case(write_case(tmp_path / "ok", {"sites.csv": sites}))
    assert list(case.sites) == ["north", "south"]
    negative = sites.replace("north,eu,100", "north,eu,-1")
    problems = problems_of(write_case(tmp_path / "row", {"sites.csv": negative}))
    assert find(problems, "sites.csv", 4, "max_mw").value == "-1"


def test_examples_shows_five_then_counts() -> None:
    from planner.csv_table import examples

    assert examples(list("abcde")) == "a, b, c, d, e"
    assert examples(list("abcdef")) == "a, b, c, d, e, … (6 in all)"


def test_a_reported_cell_is_not_reported_again_by_later_checks(tmp_path: Path) -> None:
    """One problem per slip: an id with a leading space is not also an unknown site, a duplicated
    scenario not also a scenario without demand nor a bad sum, an unknown budget period repeated
    not also a duplicate."""
    power = VALID["power.csv"].replace("grid_n,north", "grid_n, north")
    problems = problems_of(write_case(tmp_path / "a", {"power.csv": power}))
    assert [(p.file, p.row, p.column) for p in problems] == [("power.csv", 2, "site")]
    files = {"demand.csv": scenario_demand(["a", "b"]),
             "scenarios.csv": "scenario,probability\na,0.5\nb,0.5\nb,0.5\n"}
    problems = problems_of(write_case(tmp_path / "b", files))
    assert [(p.row, p.column) for p in problems] == [(4, "scenario")]
    budget = "period,capex_limit_musd\nq9,1\nq9,2\n"
    problems = problems_of(write_case(tmp_path / "c", {"budget.csv": budget}))
    assert [(p.file, p.row, p.column) for p in problems] == [("budget.csv", 2, "period")]


def test_an_empty_scenarios_file_is_absent_and_a_blank_scenario_cell_is_base(tmp_path: Path) -> None:
    demand = VALID["demand.csv"].replace("period,", "scenario,period,").replace("\nq", "\n ,q")
    case, warnings = load_case(write_case(tmp_path, {"scenarios.csv": "", "demand.csv": demand}))
    assert case.scenario_probability == {"base": 1.0}
    assert ("base", "q3", "training") in case.demand_eflops
    assert warnings == ["scenarios.csv: the file is empty; treated as absent"]


def test_letter_case_twins_are_named_in_the_file_that_defines_them(tmp_path: Path) -> None:
    demand = scenario_demand(["hi", "HI"])
    _, warnings = load_case(write_case(tmp_path / "a", {"demand.csv": demand}))
    assert [w.split(":")[0] for w in warnings] == ["demand.csv"]
    sites = VALID["sites.csv"] + "North,eu,10,1,1,1.1,20\nNORTH,eu,10,1,1,1.1,20\n"
    power = VALID["power.csv"].replace("grid_n,north", "grid_n,nOrth")
    problems = problems_of(write_case(tmp_path / "b", {"sites.csv": sites, "power.csv": power}))
    assert "'NORTH' differs from it only in letter case" in find(problems, "power.csv", 2, "site").expected


def test_a_look_alike_with_a_space_before_an_added_extension(tmp_path: Path) -> None:
    folder = write_case(tmp_path, {})
    (folder / "Budget.csv .txt").write_text("period,capex_limit_musd\nq3,1\n")
    problem = find(problems_of(folder), "budget.csv", None, None)
    assert "found 'Budget.csv .txt'" in problem.expected


def test_a_boolean_with_spaces_around_it(tmp_path: Path) -> None:
    power = f"{CONTRACT_HEADER},divisible\ngrid_n,north,grid,50,60, true \ngrid_s,south,grid,40,70,\n"
    case, _ = load_case(write_case(tmp_path, {"power.csv": power}))
    assert case.contracts["grid_n"].divisible is True


def test_an_unreadable_input_file_is_one_problem_not_also_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root reads any file, hence the patch: a permission error on sites.csv is named once."""
    real_read_bytes = Path.read_bytes

    def locked(self: Path) -> bytes:
        if self.name == "sites.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    folder = write_case(tmp_path, {})
    monkeypatch.setattr(Path, "read_bytes", locked)
    problems = [p for p in problems_of(folder) if p.file == "sites.csv"]
    assert [(p.row, p.column, p.expected) for p in problems] == [
        (None, None, "a readable file (Permission denied)")
    ]


@pytest.mark.parametrize(
    ("extra", "warned"),
    [("", 1), ("ppa_n,north,ppa,20,50,false,\n", 0), ("ppa_n,north,ppa,20,50,true,2\n", 2)],
    ids=["alone", "a-contract-to-sign-takes-over", "another-existing-one-ends-too"],
)
def test_existing_power_ending_within_the_horizon_is_a_warning(
    tmp_path: Path, extra: str, warned: int
) -> None:
    """Firm power counts installed chips: where the only power ends in period 2 of 3, no chip
    in life in period 3 may be installed there, so a case reads as if chips were never bought."""
    power = (
        "contract,site,kind,mw,price_usd_per_mwh,existing,term_periods\n"
        "grid_n,north,grid,50,60,true,2\ngrid_s,south,grid,40,70,true,\n" + extra
    )
    _, warnings = load_case(write_case(tmp_path, {"power.csv": power}))
    said = [w for w in warnings if "no other contract at site 'north'" in w]
    assert len(said) == warned, warnings  # one per contract that ends
    assert not any("site 'south'" in w for w in warnings if "ends after period" in w)


@pytest.mark.parametrize(
    ("grid_n", "extra", "warned"),
    [
        ("true,3,,", "", 0),
        ("true,2,,", "ppa_n,north,ppa,20,50,false,,2,\n", 0),
        ("true,2,,", "ppa_n,north,ppa,20,50,false,,,0\n", 1),
    ],
    ids=["a-term-to-the-horizon-end", "a-contract-ready-just-in-time", "a-contract-without-firm-power"],
)
def test_existing_power_ending_on_its_edges(tmp_path: Path, grid_n: str, extra: str, warned: int) -> None:
    """Three periods. A term of 3 periods ends with the horizon: nothing to warn of. grid_n ending
    after period 2 is taken over in period 3 by a contract signed in period 1 with a lead of 2
    periods (active from period 3, just in time), but not by one whose firm_fraction is 0 (it
    gives energy, no firm power)."""
    power = (
        "contract,site,kind,mw,price_usd_per_mwh,existing,term_periods,lead_periods,firm_fraction\n"
        f"grid_n,north,grid,50,60,{grid_n}\ngrid_s,south,grid,40,70,true,,,\n" + extra
    )
    _, warnings = load_case(write_case(tmp_path, {"power.csv": power}))
    said = [w for w in warnings if "no other contract at site 'north'" in w]
    assert len(said) == warned, warnings


def test_a_workload_some_chip_can_serve_is_no_warning(tmp_path: Path) -> None:
    """h1 has pflops 0 for inference (chip_performance.csv), h2 serves it at its 2 PFLOPS: the
    workload can be served, so nothing is said (only when every chip has 0 is it a warning)."""
    files = {
        "chips.csv": VALID["chips.csv"] + "h2,2,1.2,30000,5\n",
        "chip_performance.csv": "chip,workload,pflops\nh1,inference,0\n",
    }
    assert load_case(write_case(tmp_path, files))[1] == []


def test_room_for_less_than_a_module_is_a_warning_down_to_round_off(tmp_path: Path) -> None:
    """north: max_mw 1000, 10 MW modules. existing_mw 999.5 leaves 0.5 MW (1 in 2,000 of max_mw):
    less than a module, a warning. existing_mw 999.9999999 leaves 1e-7 MW (1e-10 of max_mw, under
    the 1e-9 taken as round-off): a site built to its cap, nothing said."""
    header = "site,region,max_mw,module_mw,existing_mw,capex_musd_per_mw,pue,life_years\n"
    south = "south,us,50,5,0,7,1.3,30\n"
    for existing, warned in (("999.5", True), ("999.9999999", False)):
        sites = header + f"north,eu,1000,10,{existing},8,1.2,30\n" + south
        _, warnings = load_case(write_case(tmp_path / existing, {"sites.csv": sites}))
        said = [w for w in warnings if "can never build a whole module" in w]
        assert len(said) == warned, warnings


def test_tiny_plan_amounts_are_judged_on_each_workload_s_largest_nonzero_demand(tmp_path: Path) -> None:
    """h1 (5e6 PFLOPS, 1000 kW) serves training's largest demand, 5 EFLOPS in the first period,
    with 5000 / 5e6 = 1e-3 chips drawing 1e-3 IT MW: at the edge, no warning, however small the
    later demands (1 EFLOPS in the last period would take 2e-4 chips). Inference is never demanded
    (0 EFLOPS everywhere): no plan amount to judge, no warning."""
    demand = (
        "period,workload,eflops\n"
        "q3,training,5\nq3,inference,0\nq1,training,3\nq1,inference,0\nq2,training,1\nq2,inference,0\n"
    )
    files = {"demand.csv": demand, "chips.csv": "chip,pflops,kw,capex_usd,life_years\nh1,5e6,1000,1,5\n"}
    assert load_case(write_case(tmp_path, files))[1] == []
