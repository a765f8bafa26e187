"""``cost_shares.csv`` and ``opex_by_period.csv``: power's share of the operating cost and of the
total cost of ownership (an extension; the domain notes quote ~40% and ~7%), on a case solved by
hand and on random cases."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Cli
from factory import chip, contract, make_case, site, solve
from hypothesis import given
from test_properties import PROPERTY, cases

from planner.case import Case
from planner.formulation.indexing import Indexing


def test_cost_shares_by_hand() -> None:
    """Two 1-year periods at 10%; demand 1 EFLOPS: one chip (1 MW, 1 musd, 1 musd a year of O&M,
    bought in p1 for both), one free 10 MW module (0.5 musd per MW-year of fixed O&M), a 10 MW
    contract at 0.1 musd per MW-year and 100 $/MWh (1 MW x 1000 h = 0.1 musd a year).

    Each year: site O&M 5, chip O&M 1, capacity 1, energy 0.1: 7.1, power 1.1. Discounted:
    opex 7.1 x (1 + 1/1.1) = 13.5545..., power 1.1 x 2.1/1.1 = 2.1, ownership = chip 1 (no salvage:
    its life ends with the horizon) + opex."""
    case = make_case(
        {"p1": 1, "p2": 1},
        {"p1": 1.0, "p2": 1.0},
        sites=[site(fixed_om_musd_per_mw_year=0.5)],
        chips=[chip(capex_usd=1e6, opex_usd_per_year=1e6)],
        contracts=[contract(mw=10, price_usd_per_mwh=100, capacity_cost_musd_per_mw_year=0.1)],
        discount_rate=0.1,
    )
    results = solve(case).results
    opex = 7.1 * (1 + 1 / 1.1)
    expected = results.cost_shares.iloc[-1]
    assert expected["opex_musd"] == pytest.approx(opex, rel=1e-9)
    assert expected["power_musd"] == pytest.approx(1.1 * (1 + 1 / 1.1), rel=1e-9)
    assert expected["ownership_musd"] == pytest.approx(1 + opex, rel=1e-9)
    assert expected["power_share_of_opex"] == pytest.approx(1.1 / 7.1, rel=1e-9)
    assert expected["energy_share_of_opex"] == pytest.approx(0.1 / 7.1, rel=1e-9)
    assert expected["power_share_of_ownership"] == pytest.approx(2.1 / (1 + opex), rel=1e-9)
    by_period = results.opex_by_period
    assert list(by_period.index) == ["p1", "p2"]
    columns = ["site_om", "chip_om", "capacity_charge", "energy", "total", "power_share"]
    for i in range(2):  # undiscounted: the same every year
        paid = by_period[columns].iloc[i].tolist()
        assert paid == pytest.approx([5.0, 1.0, 1.0, 0.1, 7.1, 1.1 / 7.1], rel=1e-9)


@PROPERTY
@given(case=cases())
def test_opex_by_period_discounted_adds_up_to_the_expected_opex(case: Case) -> None:
    """``sum_t d[t] * opex_by_period[t]`` is the expected discounted operating cost of
    cost_shares (two readings of the same terms); every share lies in [0, 1]."""
    results = solve(case).results
    discount = Indexing(case).discount
    total = sum(d * v for d, v in zip(discount, results.opex_by_period["total"], strict=True))
    expected = results.cost_shares.iloc[-1]
    assert total == pytest.approx(expected["opex_musd"], rel=1e-6, abs=1e-6)
    shares = results.cost_shares[["power_share_of_opex", "energy_share_of_opex", "power_share_of_ownership"]]
    values = shares.to_numpy().ravel()
    finite = values[~(values != values)]  # blank where nothing is paid
    assert ((finite >= -1e-9) & (finite <= 1 + 1e-9)).all()
    assert (results.cost_shares["ownership_musd"] >= results.cost_shares["opex_musd"] - 1e-6).all()


def test_solve_writes_cost_shares_and_prints_the_power_share(
    cli: Cli, tiny_case_dir: Path, tmp_path: Path
) -> None:
    result = cli("solve", tiny_case_dir, "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert "of the total cost of ownership" in " ".join(result.output.split())
    for name in ("cost_shares.csv", "opex_by_period.csv"):
        assert (tmp_path / "run" / name).is_file()
