"""Every stranded, risk, plan and energy figure of a run folder, on one case worked by hand.

``cases/rich_reports``: scenarios hi (0.7) and lo (0.3) share p1 and split at p2 (periods of 1, 1
and 2 years); demand hi 2, 4, 4 and lo 2, 1, 1 EFLOPS. Chip c1: 2 EFLOPS, 1 MW, 1 musd, life 2
years. Site s1: 1 MW existing, modules of 3 MW (1 musd/MW, life 10, ready one period after the
start), PUE 1.2; s2 alike with 2 MW existing but no power, so it never gets chips. Power at s1: an
existing grid contract at 100 $/MWh, and a divisible PPA of 5 MW at 10 $/MWh with a 0.4 take-or-pay
share and a one-period lead. A running chip needs 1 MW x 1.2 x 0.8 x 1000 h = 960 MWh a year.

The plan: one module at s1 started in p1 (ready p2, 4 MW in all); one chip in p1 and one more in
p2, bought before p2's demand is known (the same in both scenarios), and in hi one more in p3 as
p1's chip retires; a PPA share of 0.384 signed in p1 (1.92 MW: exactly hi's 1920 MWh a year).

Mutation testing showed that each figure below could be computed wrongly (kw for pflops, the sum
for the peak, unweighted means, existing MW left out, the chip's life for the shell's...) with
every other test passing.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import cast

import pandas as pd
import pytest
from click.testing import Result

CASE = Path(__file__).parent / "cases" / "rich_reports"


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    """The case solved to optimality from the CLI: its console output and its run folder."""
    from click.testing import CliRunner

    from planner.cli import main

    root = tmp_path_factory.mktemp("rich")
    case, out = root / "rich_reports", root / "run"
    shutil.copytree(CASE, case)
    result = CliRunner().invoke(main, ["solve", str(case), "--mip-gap", "0", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result, out


@pytest.fixture(scope="module")
def run_folder(solved: tuple[Result, Path]) -> Path:
    return solved[1]


def _table(run_folder: Path, name: str, index: list[str]) -> pd.DataFrame:
    return pd.read_csv(run_folder / f"{name}.csv", keep_default_na=False).set_index(index)


def approx(value: object) -> object:
    return pytest.approx(value, rel=1e-6, abs=1e-6)


def test_stranded_by_period(run_folder: Path) -> None:
    """lo, p2: 2 chips (4000 PFLOPS) run 0.5 for demand 1: 1.5 idle, 3000 PFLOPS, share 0.75.
    Shells: s1 4 MW built, 2 installed; s2 2 MW existing, empty: 4 MW empty. Stranded capital: the
    chips' book values at p2's start are 0.5 and 1 (average 0.75) x 1.5 idle = 1.125; s1's module
    keeps 0.9 x 3 = 2.7 musd over 4 built MW (existing MW have none) x 2 empty = 1.35; s2's
    existing shell has no book value: 2.475. Take-or-pay: floor 0.4 x 1920 = 768 MWh against 480
    needed by the running chips: 288 unused.
    lo, p3 (2 years): p1's chip has retired; 1 chip runs 0.5: idle 0.5, 1000 of 2000 PFLOPS. Empty
    3 + 2 = 5 MW. Capital: 0.5 x 0.5 musd + 3 x (0.8 x 3 / 4) = 2.05. Floor 1536 against 960: 576.
    hi: no idle chip; 2 MW empty at s1 (and 2 at s2): 2 x 0.675 = 1.35 in p2, 2 x 0.6 = 1.2 in p3."""
    table = _table(run_folder, "stranded_by_period", ["scenario", "period"])
    columns = ["idle_chips", "idle_pflops", "installed_pflops", "idle_pflops_share", "empty_shell_mw",
               "built_mw", "installed_it_mw", "stranded_capital_musd", "unused_take_or_pay_mwh"]
    assert cast(pd.Series, table.loc[("lo", "p2"), columns]).tolist() == approx(
        [1.5, 3000, 4000, 0.75, 4, 6, 2, 2.475, 288]
    )
    assert cast(pd.Series, table.loc[("lo", "p3"), columns]).tolist() == approx(
        [0.5, 1000, 2000, 0.5, 5, 6, 1, 2.05, 576]
    )
    assert cast(pd.Series, table.loc[("hi", "p2"), columns]).tolist() == approx(
        [0, 0, 4000, 0, 4, 6, 2, 1.35, 0]
    )
    assert cast(pd.Series, table.loc[("hi", "p3"), columns]).tolist() == approx(
        [0, 0, 4000, 0, 4, 6, 2, 1.2, 0]
    )
    assert cast(pd.Series, table.loc[("hi", "p1"), columns]).tolist() == approx(
        [0, 0, 2000, 0, 2, 3, 1, 0, 0]
    )


def test_risk_over_scenarios(run_folder: Path) -> None:
    """Peaks per scenario, then expected (0.7 hi + 0.3 lo), worst and CVaR: idle chips 1.5 in lo,
    0 in hi (expected 0.45); share 0.75 (0.225); empty shell 4 and 5 (4.3); stranded capital
    1.35 and 2.475 (1.6875); unused take-or-pay is a total over periods: 288 + 576 = 864 (259.2).
    Plain sums over periods (p1 as in hi: 2 MW empty, nothing else): lo 0 + 1.5 + 0.5 = 2 idle chips,
    4000 PFLOPS, 2 + 4 + 5 = 11 shell MW, 0 + 2.475 + 2.05 = 4.525 musd; hi 0, 0, 2 + 4 + 4 = 10 MW and
    0 + 1.35 + 1.2 = 2.55 musd; expected 0.6, 1200, 10.3 and 3.1425."""
    risk = _table(run_folder, "risk", ["metric"])
    expected_worst = {
        "idle_chips_peak": (0.45, 1.5),
        "idle_pflops_peak": (900, 3000),
        "idle_pflops_share_peak": (0.225, 0.75),
        "empty_shell_mw_peak": (4.3, 5),
        "stranded_capital_musd_peak": (1.6875, 2.475),
        "unused_take_or_pay_mwh_total": (259.2, 864),
        "idle_chips_period_sum": (0.6, 2),
        "idle_pflops_period_sum": (1200, 4000),
        "empty_shell_mw_period_sum": (10.3, 11),
        "stranded_capital_musd_period_sum": (3.1425, 4.525),
    }
    for metric, figures in expected_worst.items():
        assert (risk.loc[metric, "expected"], risk.loc[metric, "worst"]) == approx(figures), metric
        worst_scenario = cast(str, risk.loc[metric, "worst_scenario"])  # stubs: NA == NA has no type
        assert worst_scenario == risk.loc[metric, "scenarios_at_worst"] == "lo", metric


def test_plan_tables(run_folder: Path) -> None:
    """One module (3 MW) started in p1 and ready in p2; the PPA's 0.384 share (1.92 MW) signed in
    p1 and active from p2, its lead; the existing contract active from p1."""
    builds = _table(run_folder, "builds", ["site", "period"])
    assert cast(pd.Series, builds.loc[("s1", "p1"), ["modules", "mw"]]).tolist() == approx([1, 3])
    assert builds.loc[("s1", "p1"), "ready_period"] == "p2"
    assert len(builds) == 1
    contracts = _table(run_folder, "contracts", ["contract"])
    assert cast(pd.Series, contracts.loc["ppa", ["share", "mw"]]).tolist() == approx([0.384, 1.92])
    assert (contracts.loc["ppa", "period"], contracts.loc["ppa", "active_from"]) == ("p1", "p2")
    assert (contracts.loc["q1", "period"], contracts.loc["q1", "active_from"]) == ("existing", "p1")
    assert contracts["active_until"].tolist() == ["p3", "p3"]  # no term: to the end


@pytest.mark.parametrize(
    ("start", "term", "until"),
    [(0, None, "p3"), (1, None, "p3"), (0, 1, "p1"), (1, 1, "p2"), (0, 2, "p2"), (1, 5, "p3"),
     (3, 1, "beyond horizon")],
)
def test_a_contracts_last_active_period(start: int, term: int | None, until: str) -> None:
    """contracts.csv's active_until: the last period of ``term_periods`` periods from active_from,
    the last period without a term or when the term outlasts the horizon."""
    from planner.results import _last_active

    assert _last_active(("p1", "p2", "p3"), start, term) == until


def test_energy_and_dispatch(run_folder: Path) -> None:
    """The PPA's available energy is its signed share: 0.384 x 5 MW x 1000 h = 1920 MWh in p2 and
    3840 in p3 (2 years); its floor 0.4 of that. lo's p2 takes the floor, 768 MWh, for 480 needed.
    Dispatch in lo's p2: 0.5 chips for 1 EFLOPS on 0.5 IT MW."""
    energy = _table(run_folder, "energy", ["scenario", "period", "contract"])
    columns = ["active_share", "mwh", "available_mwh", "take_or_pay_floor_mwh"]
    assert cast(pd.Series, energy.loc[("lo", "p2", "ppa"), columns]).tolist() == approx(
        [0.384, 768, 1920, 768]
    )
    assert cast(pd.Series, energy.loc[("hi", "p3", "ppa"), columns]).tolist() == approx(
        [0.384, 3840, 3840, 1536]
    )
    dispatch = _table(run_folder, "dispatch", ["scenario", "period", "site", "chip", "workload"])
    lo_p2 = dispatch.loc[("lo", "p2", "s1", "c1", "w")]  # type: ignore[index]  # stubs: no 5-label key
    assert lo_p2[["running_chips", "eflops", "it_mw"]].tolist() == approx([0.5, 1, 0.5])
    capacity = _table(run_folder, "capacity_by_period", ["scenario", "period"])
    lo_p3 = cast(pd.Series, capacity.loc[("lo", "p3")])  # a row (pandas-stubs read a pair as row, column)
    assert lo_p3.tolist() == approx([2, 1, 1])  # installed counts idle chips


def _cells(output: str, first: str, containing: str) -> list[str]:
    """The cells of the console table row that starts with ``first`` and holds ``containing``."""
    [line] = [ln for ln in output.splitlines() if ln.startswith(f"│ {first} ") and containing in ln]
    return [cell.strip() for cell in line.strip("│").split("│")]


def test_console_report(solved: tuple[Result, Path]) -> None:
    """The console shows the same figures in its units: lo's stranded row (peaks; take-or-pay in
    GWh: 864 MWh = 0.9), and salvage as a credit (negative)."""
    output = solved[0].output
    lo = _cells(output, "lo", "75.0%")
    assert lo[1:] == ["0.300", "4.024", "2", "75.0%", "3,000", "5.0", "2.475", "0.9"]
    salvage = _cells(output, "Salvage", "")
    assert all(cell.startswith("-") for cell in salvage[1:]), salvage
    # The risk table's money is in the run's one unit ($M here), labelled so, like every other table.
    capital = _cells(output, "stranded_capital_peak $M", "lo")
    assert capital[1:] == ["1.688", "2.475", "lo", "2.475"]
    assert "unused take-or-pay GWh (total)" in " ".join(output.split())
