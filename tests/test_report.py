"""The console report's period-by-scenario grids stay readable at any horizon.

rich squeezes a table wider than the console until every column, headers included, is empty: a
60-quarter chip mix printed as a wall of blank cells. The grids are turned (periods down the page)
or cut (with a caption naming the run-folder file that holds the rest) instead.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from conftest import Cli
from rich.console import Console

from planner.report import Matrix, matrix_table

WIDTH = 100


def _printed(matrix: Matrix, width: int = WIDTH) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(matrix_table("Chip mix", matrix, width, "chips.csv"))
    return cast(io.StringIO, console.file).getvalue()


def _grid(row_labels: list[str], column_labels: list[str]) -> Matrix:
    rows = [[label, *[f"{i}.{j}" for j in range(len(column_labels))]] for i, label in enumerate(row_labels)]
    return Matrix("chip", "period", column_labels, rows)


def test_a_grid_that_fits_is_printed_as_laid_out() -> None:
    printed = _printed(_grid(["h100", "b200"], ["2026", "2027", "2028"]))
    header = next(line for line in printed.splitlines() if "chip" in line)
    assert header.split("┃")[1:5] == [" chip ", " 2026 ", " 2027 ", " 2028 "]
    assert "1.2" in printed
    assert "more" not in printed


def test_a_long_horizon_is_turned_so_every_period_and_header_shows() -> None:
    periods = [f"{2026 + q // 4}Q{q % 4 + 1}" for q in range(60)]
    printed = _printed(_grid(["h100", "b200"], periods))
    lines = printed.splitlines()
    assert any("period \\ chip" in line and "h100" in line and "b200" in line for line in lines)
    for q, period in enumerate(periods):
        row = next(line for line in lines if f" {period} " in line)
        assert f" 0.{q} " in row and f" 1.{q} " in row
    assert max(len(line) for line in lines) <= WIDTH


def test_a_grid_too_wide_both_ways_is_cut_with_a_caption_naming_the_file() -> None:
    periods = [f"p{q:02d}" for q in range(40)]
    scenarios = [f"scenario-{w:02d}" for w in range(30)]
    printed = _printed(_grid(scenarios, periods))
    lines = printed.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    header = next(line for line in lines if "p00" in line or "scenario-00" in line)
    shown = len(header.split("┃")) - 3
    assert 0 < shown < 40
    assert any(f"{40 - shown} more period columns in chips.csv" in line for line in lines)


def test_markup_does_not_count_towards_a_columns_width() -> None:
    rows = [["[bold]total[/]", "[bold]1.000[/]"]]
    assert Matrix("component", "scenario", ["expected"], rows).column_widths() == [9, 8]


def test_ids_with_square_brackets_are_printed_as_written() -> None:
    """Cells are markup; ids pass through ``literal`` so that rich neither drops ``[v2]`` nor
    raises MarkupError on ``[/b]``, and the widths count the id as printed."""
    from planner.markup import literal

    matrix = _grid([literal("h100[/b]"), literal("b200")], [literal("lo[v2]"), literal("2027")])
    assert matrix.column_widths() == [8, 6, 4]
    printed = _printed(matrix)
    header = next(line for line in printed.splitlines() if "chip" in line)
    assert header.split("┃")[1:4] == [" chip     ", " lo[v2] ", " 2027 "]
    assert "│ h100[/b] │" in printed


def test_a_small_case_prints_money_in_millions(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    """$B with three decimals read 0.010 for a 10 musd plan, and 0.000 for every smaller cost."""
    result = cli("solve", tiny_case_dir, "--out", tmp_path / "run", "--json")
    objective = json.loads(result.stdout)["objective_musd"]
    assert objective < 10_000
    printed = cli("solve", tiny_case_dir, "--out", tmp_path / "run2").stdout
    assert f"objective {objective:,.3f} $M" in printed
    assert "Discounted cost, $M" in printed and "stranded capital $M" in printed
    assert "$B" not in printed


def test_the_chip_mix_is_expected_over_scenarios() -> None:
    """2000 chips bought in hi's p3 (probability 0.7), none in lo's, 1000 in p1 (both): the grid
    shows 1.0 and 1.4 thousand, not the 2.0 of one scenario or the sum of all."""
    import pandas as pd

    from planner.report import _chip_mix

    chips = pd.DataFrame(
        {
            "chip": ["c1", "c1", "c1"],
            "site": ["s1", "s1", "s1"],
            "period": ["p1", "p3", "p3"],
            "node": ["all", "hi", "lo"],
            "probability": [1.0, 0.7, 0.3],
            "bought": [1000.0, 2000.0, 0.0],
            "fleet": [1000.0, 3000.0, 1000.0],
        }
    )
    result = SimpleNamespace(case=SimpleNamespace(periods=("p1", "p2", "p3")))
    console = Console(file=io.StringIO(), width=WIDTH, color_system=None)
    console.print(_chip_mix(chips, result, WIDTH))  # type: ignore[arg-type]
    [row] = [line for line in cast(io.StringIO, console.file).getvalue().splitlines() if "c1" in line]
    assert [cell.strip() for cell in row.strip("│").split("│")] == ["c1", "1.0", "1.4"]


@pytest.mark.parametrize(
    ("shown", "credit"), [("12.345", "-12.345"), ("0.000", "0.000"), ("1,000", "-1,000")]
)
def test_salvage_shows_as_a_credit_but_never_as_minus_zero(shown: str, credit: str) -> None:
    from planner.report import _credit

    assert _credit(shown) == credit


def test_a_table_with_nothing_to_show_keeps_its_title_on_one_line() -> None:
    """rich wraps a title to its table's width: "(none)" alone printed "Chip mix: chips bought, ..."
    as a column of ten-letter lines."""
    from planner.report import empty_table

    title = "Chip mix: chips bought, expected over scenarios (thousands)"
    console = Console(file=io.StringIO(), width=120, color_system=None)
    console.print(empty_table(title))
    lines = cast(io.StringIO, console.file).getvalue().splitlines()
    assert lines[0].strip() == title
    assert "(none)" in lines[2]
