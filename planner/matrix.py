"""Hand a built model to HiGHS as a matrix.

The model is compiled once by Pyomo's ``LinearStandardFormCompiler`` into a CSC matrix and passed
whole with ``highspy.passModel``; the per-constraint persistent interface is several times slower
at scale (``shared/domain/performance.md``). Large LPs are rescaled on the way
(:mod:`planner.scaling`); duals are mapped back to the model's rows here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler, LinearStandardFormInfo

from planner.formulation.objective import MONEY_ROWS
from planner.formulation.variables import SOLVER_UNITS, Index
from planner.magnitudes import MagnitudeError, out_of_range
from planner.scaling import Scaling, choose_scaling, scale_lp

if TYPE_CHECKING:
    import scipy.sparse as sp

INF = highspy.kHighsInf


@dataclass(frozen=True)
class CompiledModel:
    """A model as HiGHS gets it: ``lp`` is in solver units, ``scaling`` maps answers back."""

    repn: LinearStandardFormInfo
    """Pyomo's standard form: ``columns`` and ``rows`` in the order of ``lp``'s."""
    lp: highspy.HighsLp
    integer_columns: int
    scaling: Scaling
    rescaled: bool


def compile_model(
    model: pyo.ConcreteModel, scales: Callable[[int, int], bool] | None = None
) -> CompiledModel:
    """Pyomo model -> standard-form matrices -> ``HighsLp``, rescaled (:mod:`planner.scaling`)
    when ``scales(columns, integer_columns)`` says so."""
    repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    a_matrix = repn.A.tocsc()
    lp, is_integer = _to_highs_lp(repn, a_matrix)
    integer_columns = int(is_integer.sum())
    rescaled = scales is not None and scales(lp.num_col_, integer_columns)
    if rescaled:
        families = [v.parent_component().local_name for v in repn.columns]
        scaling = choose_scaling(a_matrix, families, is_integer, SOLVER_UNITS)
        scale_lp(lp, a_matrix, scaling)
    else:
        scaling = Scaling.identity(lp.num_row_, lp.num_col_)
    return CompiledModel(repn, lp, integer_columns, scaling, rescaled)


def check_numbers(compiled: CompiledModel, highs: highspy.Highs) -> None:
    """Raise :class:`MagnitudeError` when ``highs`` would drop, refuse or read as infinite a
    number of ``compiled`` (:mod:`planner.magnitudes`)."""
    rows = compiled.repn.rows
    found = out_of_range(
        compiled.lp, highs, lambda row: rows[row][0].parent_component().local_name in MONEY_ROWS
    )
    if found:
        raise MagnitudeError(found, compiled.repn)


def _to_highs_lp(repn: LinearStandardFormInfo, a_matrix: sp.csc_array) -> tuple[highspy.HighsLp, np.ndarray]:
    """The standard-form matrices as a ``HighsLp`` (rows keep their sense: mixed form), and which
    columns are integer."""
    n_rows, n_cols = a_matrix.shape
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    cost = repn.c.toarray()[0] if repn.c.shape[0] else np.zeros(n_cols)
    lp.col_cost_ = cost
    lp.offset_ = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
    lower = np.array([-INF if v.lb is None else v.lb for v in repn.columns], dtype=float)
    upper = np.array([INF if v.ub is None else v.ub for v in repn.columns], dtype=float)
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    rhs = np.asarray(repn.rhs, dtype=float)
    sense = np.array([multiplier for _con, multiplier in repn.rows], dtype=int)
    lp.row_lower_ = np.where(sense >= 0, np.where(sense == 0, rhs, -INF), rhs)
    lp.row_upper_ = np.where(sense <= 0, np.where(sense == 0, rhs, INF), rhs)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a_matrix.indptr
    lp.a_matrix_.index_ = a_matrix.indices
    lp.a_matrix_.value_ = a_matrix.data
    is_integer = np.array([v.is_integer() or v.is_binary() for v in repn.columns], dtype=bool)
    if is_integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous for flag in is_integer
        ]
    return lp, is_integer


def row_duals(repn: LinearStandardFormInfo, row_dual: np.ndarray) -> dict[str, dict[Index, float]]:
    """Duals keyed by constraint name and index: d(objective) / d(right-hand side)."""
    duals: dict[str, dict[Index, float]] = {}
    for (con, _multiplier), dual in zip(repn.rows, row_dual, strict=True):
        index = con.index()
        key = index if isinstance(index, tuple) else (index,)
        table = duals.setdefault(con.parent_component().local_name, {})
        table[key] = table.get(key, 0.0) + float(dual)
    return duals
