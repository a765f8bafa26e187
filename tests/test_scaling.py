"""``planner.scaling``: the factors, the exact round trip, and when ``scale = "auto"`` applies."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pytest
import scipy.sparse as sp

from planner.config import AUTO_SCALE_MIN_COLUMNS, SolverSettings
from planner.scaling import Scaling, choose_scaling

# Rows: a demand row (chips x 2 PFLOPS/1000 + unmet >= 5), an energy row (MWh >= 2.1 per chip),
# a contract row (MWh <= 4e6 x share). Columns: chips, unmet, energy, share (integer in a MIP).
A = sp.csc_matrix(
    np.array(
        [
            [2e-3, 1.0, 0.0, 0.0],
            [-2.1, 0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0, -4e6],
        ]
    )
)
FAMILIES = ["run", "unmet", "energy", "sign"]
UNITS = {"run": 1e3, "energy": 1e3, "sign": 1e3}


def test_factors_are_powers_of_two_and_integer_columns_keep_their_unit() -> None:
    scaling = choose_scaling(A, FAMILIES, np.array([False, False, False, True]), UNITS)
    assert scaling.col.tolist() == [1024.0, 1.0, 1024.0, 1.0]
    for factor in np.concatenate([scaling.row, scaling.col]):
        assert np.log2(factor) == int(np.log2(factor))
    # Each row is divided by 2^round(log2(sqrt(largest x smallest))) of its passed coefficients:
    # row 0 holds 2e-3 x 1024 = 2.048 and 1: sqrt 1.43, 2^1; row 1 holds 2.1 x 1024 and 1024:
    # sqrt 1484, 2^11; row 2 holds 1024 and 4e6: sqrt 64,000, 2^16.
    assert scaling.row.tolist() == [2.0, 2048.0, 65536.0]


def test_values_and_duals_map_back_exactly() -> None:
    scaling = choose_scaling(A, FAMILIES, np.zeros(4, dtype=bool), UNITS)
    x = np.array([1234.5, 0.25, 2592.45, 0.3])
    passed_x = x / scaling.col  # what HiGHS works with
    assert np.array_equal(scaling.model_values(passed_x), x)
    passed = sp.diags(1 / scaling.row) @ A @ sp.diags(scaling.col)
    # The passed rows, at the passed values, are the model's rows divided by their factors.
    np.testing.assert_allclose(passed @ passed_x, (A @ x) / scaling.row, rtol=1e-15)
    # A dual of a passed row is per unit of its (divided) right-hand side.
    assert scaling.model_row_duals(np.array([3.0, 4.0, 5.0])).tolist() == pytest.approx(
        [3.0 / scaling.row[0], 4.0 / scaling.row[1], 5.0 / scaling.row[2]]
    )


def test_identity_changes_nothing() -> None:
    scaling = Scaling.identity(3, 4)
    assert scaling.model_values(np.arange(4.0)).tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    "scale, columns, integer_columns, expected",
    [
        ("auto", AUTO_SCALE_MIN_COLUMNS, 0, True),
        ("auto", AUTO_SCALE_MIN_COLUMNS - 1, 0, False),
        ("auto", 10 * AUTO_SCALE_MIN_COLUMNS, 1, False),  # MIPs: HiGHS's tolerances in model units
        ("on", 10, 5, True),
        ("off", 10 * AUTO_SCALE_MIN_COLUMNS, 0, False),
    ],
)
def test_when_models_are_rescaled(
    scale: Literal["auto", "on", "off"], columns: int, integer_columns: int, expected: bool
) -> None:
    assert SolverSettings(scale=scale).scales(columns, integer_columns) is expected
