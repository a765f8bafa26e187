"""``idle_power.csv``: contracted firm power left idle and the capacity charges paid for it (an
extension beyond the contract's stranded figures)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Cli
from factory import chip, config, contract, make_case, site, solve
from hypothesis import given
from test_properties import PROPERTY, cases

from planner.case import Case
from planner.compare import compare_strategies
from planner.idle_power import IDLE_POWER_COLUMNS
from planner.report import IDLE_POWER_TITLE

NUMBERS = [column for column in IDLE_POWER_COLUMNS if column not in ("scenario", "period", "site")]


def test_idle_firm_power_and_its_charges_by_hand() -> None:
    """One period of 2 years; demand 3 EFLOPS, so 3 chips of 1 MW (1 musd each: none more); PUE 1.2.

    Site s1: existing q1 (10 MW, firm 0.5, capacity 0.1 musd/MW-year) and indivisible q2 (4 MW, firm
    1, 0.05 musd/MW-year, 1 musd/MW to sign); its firm 5 MW cover the 3.6 MW load, so q2 is left
    unsigned. firm 5, needed 1.2 * 3 = 3.6, idle 1.4; charges 0.1 * 10 * 2 = 2, of which
    2 * 1.4 / 5 = 0.56 pay for idle MW. The existing q0 holds no firm power (firm 0): its charges
    pay for energy only and are left out. Site s2 has only such a contract: no row.
    """
    case = make_case(
        {"p1": 3},
        {"p1": 2.0},
        sites=[site("s1", pue=1.2), site("s2")],
        chips=[chip(capex_usd=1e6)],
        contracts=[
            contract("q0", mw=5, firm_fraction=0.0, capacity_cost_musd_per_mw_year=0.3),
            contract("q0b", site="s2", mw=5, firm_fraction=0.0, capacity_cost_musd_per_mw_year=0.3),
            contract("q1", mw=10, firm_fraction=0.5, capacity_cost_musd_per_mw_year=0.1),
            contract("q2", mw=4, capacity_cost_musd_per_mw_year=0.05, capex_musd_per_mw=1.0, existing=False),
        ],
    )
    table = solve(case).results.idle_power
    assert list(table.columns) == list(IDLE_POWER_COLUMNS)
    assert table[["scenario", "period", "site"]].values.tolist() == [["base", "p1", "s1"]]
    assert table[NUMBERS].iloc[0].tolist() == pytest.approx([5.0, 3.6, 1.4, 2.0, 0.56], rel=1e-6)


def test_an_indivisible_contract_forces_firm_power_above_need() -> None:
    """Demand 5 EFLOPS (5 MW at PUE 1): the existing q1 (2 MW) is too small, and the cheapest way
    to the other 3 MW is the indivisible q2 of 8 MW (capacity 0.1 musd/MW-year; the divisible q3
    costs 10 musd/MW to sign). firm 10, idle 5; charges 0.1 * 8 = 0.8, of which 0.8 * 5 / 10 = 0.4
    idle (q1 is free)."""
    case = make_case(
        {"p1": 5},
        sites=[site("s1")],
        chips=[chip(capex_usd=1e6)],
        contracts=[
            contract("q1", mw=2),
            contract("q2", mw=8, capacity_cost_musd_per_mw_year=0.1, existing=False),
            contract("q3", mw=8, capex_musd_per_mw=10.0, divisible=True, existing=False),
        ],
    )
    row = solve(case).results.idle_power.iloc[0]
    assert row[NUMBERS].tolist() == pytest.approx([10.0, 5.0, 5.0, 0.8, 0.4], rel=1e-6)


def test_compare_gives_idle_firm_power_worst_and_expected() -> None:
    """The existing q1 holds 5 firm MW (10 MW, firm 0.5) for 1 musd of capacity charges a year.
    Unit chips at 1 musd: demand 1 in p1, then 2 in ``hi`` or 1 in ``lo`` in p2 (seen too late to
    plan apart: both buy a 2nd chip), 3 or 1 in p3 (``hi`` buys a 3rd). Idle firm MW: ``hi`` 4, 3,
    2; ``lo`` 4, 3, 3: peak 4 in both. Charges for idle MW: ``hi`` 0.8 + 0.6 + 0.4 = 1.8, ``lo``
    0.8 + 0.6 + 0.6 = 2.0: worst 2.0, expected 0.25 x 1.8 + 0.75 x 2.0 = 1.95."""
    case = make_case(
        {"hi": {"p1": 1, "p2": 2, "p3": 3}, "lo": {"p1": 1, "p2": 1, "p3": 1}},
        {"p1": 1.0, "p2": 1.0, "p3": 1.0},
        chips=[chip(capex_usd=1e6)],
        contracts=[contract("q1", mw=10, firm_fraction=0.5, capacity_cost_musd_per_mw_year=0.1)],
        probabilities={"hi": 0.25, "lo": 0.75},
    )
    comparison = compare_strategies(case, [config()], workers=1, with_value_of_information=False)
    figures = comparison.figures()["phased"]
    names = ["idle_firm_mw_peak_worst", "idle_firm_mw_peak_expected"]
    assert figures[names].tolist() == pytest.approx([4.0, 4.0], rel=1e-6)
    names = ["idle_capacity_charge_musd_worst", "idle_capacity_charge_musd_expected"]
    assert figures[names].tolist() == pytest.approx([2.0, 1.95], rel=1e-6)


@PROPERTY
@given(case=cases())
def test_idle_firm_power_is_within_the_firm_power(case: Case) -> None:
    """Row 5 holds (``needed_mw <= firm_mw``); idle firm MW and the charges paid for them are
    within ``[0, firm_mw]`` and ``[0, capacity_charge_musd]``; only sites with firm power have rows."""
    table = solve(case).results.idle_power
    tol = 1e-6
    assert (table["firm_mw"] > 0).all()
    assert (table["needed_mw"] <= table["firm_mw"] + tol).all()
    assert (table["idle_firm_mw"] >= 0).all()
    assert (table["idle_firm_mw"] <= table["firm_mw"]).all()
    assert (table["idle_capacity_charge_musd"] >= 0).all()
    assert (table["idle_capacity_charge_musd"] <= table["capacity_charge_musd"] + tol).all()
    assert table["idle_firm_mw"].to_numpy() == pytest.approx(
        (table["firm_mw"] - table["needed_mw"]).clip(lower=0).to_numpy(), abs=tol
    )


def test_solve_writes_idle_power_and_prints_it(cli: Cli, tiny_case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = cli("solve", tiny_case_dir, "--out", out)
    assert result.exit_code == 0, result.output
    assert (out / "idle_power.csv").is_file()
    assert (out / "idle_power.csv").read_text().splitlines()[0] == ",".join(IDLE_POWER_COLUMNS)
    text = result.stdout
    assert IDLE_POWER_TITLE in " ".join(text.split())
    assert text.index("Stranded capacity per scenario") < text.index(IDLE_POWER_TITLE.split(" (")[0])
    assert "peak idle firm MW" in text
