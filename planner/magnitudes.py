"""Numbers HiGHS would not take as written, found before the solve.

HiGHS reads a matrix value of magnitude at most ``small_matrix_value`` (1e-9) as 0, refuses a
model with one of at least ``large_matrix_value`` (1e15), and takes a cost or a right-hand side
of at least ``infinite_cost`` / ``infinite_bound`` (1e20) as infinite. Each of these gives a
wrong plan or none: with ``module_mw = 1e-12`` HiGHS dropped the module from "chips must fit in
built IT MW" and reported "optimal" with all demand unmet; with ``mw = 1e12`` it refused the model
and planner printed "no plan: status optimal". The cells are each legal; their products are not.

A dropped value only matters when the decision it multiplies can be large enough for the term to
count. On a column with a finite upper bound ``u`` it is reported when ``|a| * u`` exceeds
:data:`NEGLIGIBLE`. On an unbounded column it is reported unless the row holds money (the CVaR
tail, the budget): there the decision's own cost bounds it, and a cost term far below a cent per
MWh changes nothing HiGHS's tolerances would not; in a physical row the decision can grow without
limit (chips of 1e-6 kW: HiGHS dropped them from the building and called 2e9 of them "optimal"
with no building at all).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import highspy
import numpy as np

if TYPE_CHECKING:
    from pyomo.repn.plugins.standard_form import LinearStandardFormInfo

NEGLIGIBLE = 1e-7
"""A dropped term at most this large (HiGHS's primal feasibility tolerance) cannot change a plan."""


@dataclass(frozen=True)
class OutOfRange:
    """One number HiGHS would change: ``what`` is ``small``, ``large``, ``cost`` or ``rhs``."""

    what: str
    value: float
    row: int | None
    column: int | None
    limit: float


class MagnitudeError(Exception):
    """The compiled model holds numbers HiGHS would drop, refuse or take as infinite; ``repn`` is
    Pyomo's standard form, whose ``rows`` and ``columns`` the indices of ``found`` point into."""

    def __init__(self, found: list[OutOfRange], repn: LinearStandardFormInfo) -> None:
        self.found = found
        self.repn = repn
        super().__init__(f"{len(found)} number(s) out of HiGHS's range")


def out_of_range(
    lp: highspy.HighsLp, highs: highspy.Highs, is_money_row: Callable[[int], bool] = lambda _row: False
) -> list[OutOfRange]:
    """What ``highs`` (with its options) would not take from ``lp`` as written; the matrix is
    column-wise, as ``planner.solve`` passes it. ``is_money_row(row)``: the row's coefficients are
    costs (asked only of rows holding a value HiGHS would drop)."""
    small = _option(highs, "small_matrix_value")
    large = _option(highs, "large_matrix_value")
    infinite_cost = _option(highs, "infinite_cost")
    infinite_bound = _option(highs, "infinite_bound")
    values = np.asarray(lp.a_matrix_.value_, dtype=float)
    rows = np.asarray(lp.a_matrix_.index_)
    columns = np.repeat(np.arange(lp.num_col_), np.diff(np.asarray(lp.a_matrix_.start_)))
    magnitude = np.abs(values)
    upper = np.abs(np.asarray(lp.col_upper_, dtype=float))[columns]
    tiny = (magnitude > 0) & (magnitude <= small)
    bounded = np.isfinite(upper)
    dropped = tiny & bounded & (magnitude * upper > NEGLIGIBLE)
    # Unbounded: in a physical row the decision can grow until the dropped term counts (2e9 chips
    # of 1e-6 kW filled no building); in a money row its own cost keeps it in bounds.
    for i in np.flatnonzero(tiny & ~bounded):
        dropped[i] = not is_money_row(int(rows[i]))
    found = [
        OutOfRange(what, values[i], int(rows[i]), int(columns[i]), limit)
        for what, limit, where in (("small", small, dropped), ("large", large, magnitude >= large))
        for i in np.flatnonzero(where)
    ]
    cost = np.asarray(lp.col_cost_, dtype=float)
    found += [
        OutOfRange("cost", cost[j], None, int(j), infinite_cost)
        for j in np.flatnonzero(np.abs(cost) >= infinite_cost)
    ]
    for side in (lp.row_lower_, lp.row_upper_):
        bound = np.abs(np.asarray(side, dtype=float))
        # An infinite side is a one-sided row, as planner builds it; a finite one read as infinite is lost.
        found += [
            OutOfRange("rhs", float(side[i]), int(i), None, infinite_bound)
            for i in np.flatnonzero((bound >= infinite_bound) & np.isfinite(bound))
        ]
    return found


def _option(highs: highspy.Highs, name: str) -> float:
    return float(highs.getOptionValue(name)[1])
