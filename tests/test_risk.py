"""Risk over scenarios: the worst value names every scenario tied there, not only the first.

Hand figures: three scenarios a, b, c with probabilities 0.2, 0.3, 0.5.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import cast

import pandas as pd
from conftest import Cli
from pytest import approx
from rich.console import Console

from planner.compare_report import _alpha_difference
from planner.money import MILLIONS
from planner.report import _risk_table
from planner.risk import STRANDED_METRICS, risk_table

PROBABILITY = {"a": 0.2, "b": 0.3, "c": 0.5}


def _risk(cost: list[float], idle: list[float], alpha: float = 0.5) -> pd.DataFrame:
    by_scenario = pd.DataFrame({"cost_musd": cost}, index=list(PROBABILITY))
    for metric in STRANDED_METRICS:
        by_scenario[metric] = idle
    return risk_table(by_scenario, PROBABILITY, alpha=alpha)


def test_a_tie_for_the_worst_names_every_scenario_there() -> None:
    """b and c both cost 3 (c off by round-off): worst 3, both named; a alone is worst in idle."""
    risk = _risk(cost=[1.0, 3.0, 3.0 + 3e-12], idle=[5.0, 1.0, 0.0])
    assert cast(pd.Series, risk.loc["cost_musd", ["expected", "worst"]]).tolist() == approx(
        [0.2 + 0.9 + 1.5, 3.0]
    )
    assert cast(pd.Series, risk.loc["cost_musd", ["worst_scenario", "scenarios_at_worst"]]).tolist() == [
        "b",
        "b+c",
    ]
    assert cast(
        pd.Series, risk.loc["idle_chips_peak", ["worst_scenario", "scenarios_at_worst"]]
    ).tolist() == ["a", "a"]


def test_all_tied_reads_all_and_a_real_difference_is_no_tie() -> None:
    """Nothing idle anywhere: no scenario is worse than another. A difference of 1e-6 of the value
    is a real one (ties are round-off, below 1e-9)."""
    risk = _risk(cost=[2.0, 2.0 * (1 + 1e-6), 2.0], idle=[0.0, 0.0, 0.0])
    assert cast(
        pd.Series, risk.loc["idle_chips_peak", ["worst_scenario", "scenarios_at_worst"]]
    ).tolist() == ["a", "all"]
    assert risk.loc["cost_musd", "scenarios_at_worst"] == "b"


def test_the_console_prints_every_tied_scenario_once() -> None:
    risk = _risk(cost=[1.0, 3.0, 3.0], idle=[0.0, 0.0, 0.0])
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(_risk_table(risk, MILLIONS))
    printed = cast(io.StringIO, console.file).getvalue()
    assert "scenarios_at_worst" in printed and "worst_scenario" not in printed
    cost_row = next(line for line in printed.splitlines() if line.startswith("│ cost $M"))
    assert "b+c" in cost_row
    idle_row = next(line for line in printed.splitlines() if line.startswith("│ idle_chips_peak"))
    assert " all " in idle_row


def test_a_nan_figure_is_named_not_an_error() -> None:
    risk = _risk(cost=[1.0, float("nan"), 2.0], idle=[0.0, 0.0, 0.0])
    assert cast(pd.Series, risk.loc["cost_musd", ["worst_scenario", "scenarios_at_worst"]]).tolist() == [
        "b",
        "b",
    ]


def test_an_alpha_near_one_is_named_as_given_not_rounded_to_one(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path
) -> None:
    """``:g`` kept six digits: alpha 0.999999999 was labelled ``cvar_1`` in risk.csv and summary.json,
    ``CVaR1`` on the console and 1.000 in compare, an alpha the model refuses."""
    model = tmp_path / "near-one.toml"
    model.write_text('name = "near-one"\npolicy = "phased"\n[cvar]\nalpha = 0.999999999\nweight = 1\n')
    solved = cli("solve", tiny_case_dir, "--model", model, "--out", tmp_path / "run")
    assert "x CVaR0.999999999 " in solved.stdout
    assert "cvar_0.999999999" in (tmp_path / "run" / "risk.csv").read_text().splitlines()[0].split(",")
    compared = cli(
        "compare", tiny_case_dir, "--model", model, "--workers", "1", "--json", "--out", tmp_path / "compare"
    )
    assert json.loads(compared.stdout)["strategies"]["near-one"]["cvar_alpha"] == 0.999999999
    console = cli(
        "compare", tiny_case_dir, "--model", model, "--workers", "1", "--out", tmp_path / "compare2"
    )
    alpha_row = next(line for line in console.stdout.splitlines() if "CVaR alpha" in line)
    assert "0.999999999" in alpha_row
    assert _risk([1.0, 2.0, 3.0], [0.0, 0.0, 0.0], alpha=0.9).columns[-1] == "cvar_0.9"  # as before
    assert _risk([1.0, 2.0, 3.0], [0.0, 0.0, 0.0], alpha=0.0).columns[-1] == "cvar_0"  # as before
    assert _risk([1.0, 2.0, 3.0], [0.0, 0.0, 0.0], alpha=1 - 2**-53).columns[-1] == "cvar_0.9999999999999999"


def test_compare_prints_the_difference_of_two_close_alphas(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path
) -> None:
    """Alphas 1e-4 apart differed by +0.000 in compare's difference column."""
    models: list[object] = []
    for name, alpha in (("a", 0.9), ("b", 0.9001), ("c", 0.9)):
        model = tmp_path / f"{name}.toml"
        model.write_text(f'name = "{name}"\npolicy = "phased"\n[cvar]\nalpha = {alpha}\nweight = 1\n')
        models += ["--model", model]
    compared = cli("compare", tiny_case_dir, *models, "--workers", "1", "--out", tmp_path / "compare")
    alpha_row = next(line for line in compared.stdout.splitlines() if "CVaR alpha" in line)
    assert [cell.strip() for cell in alpha_row.split("│")[3:-1]] == ["0.9", "0.9001", "0.9", "+0.0001", "+0"]
    # The difference of the texts as printed, not of the floats (+8.99999963444e-10 at 12 digits).
    assert _alpha_difference(0.9999999999, 0.999999999) == "+0.0000000009"
    assert _alpha_difference(0.5, 0.9) == "-0.4" and _alpha_difference(float("nan"), 0.9) == "-"



    """The stranded table above it printed 73.0% and this one 0.730 for the same figure."""
    risk = _risk(cost=[1.0, 3.0, 2.0], idle=[0.73, 0.2, 0.1])
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(_risk_table(risk, MILLIONS))
    lines = cast(io.StringIO, console.file).getvalue().splitlines()
    share_row = next(line for line in lines if "idle_pflops_share_peak" in line)
    assert [cell.strip() for cell in share_row.split("│")[2:4]] == ["25.6%", "73.0%"]
    chips_row = next(line for line in lines if "idle_chips_peak" in line)
    assert "0.256" in chips_row  # a count stays a count
