"""LP-and-fix: a first plan for a hard MIP, and often the proof that it is good enough.

1. Solve the LP relaxation. Its objective ``L`` is a valid lower bound of the MIP.
2. Fix every integer column that the LP leaves integral (in capacity plans nearly all of them:
   most sites are never built in most periods) and solve the small remaining MIP.
3. Its best plan ``U`` is handed to HiGHS as a start. When ``(U - L) / U <= mip_gap`` already,
   the remaining MIP is stopped at once and the plan is *proven* within the gap by ``L``, so the
   full branch and bound is skipped.

The restricted MIP only ever sees plans of the full model, so whatever it returns is feasible
there; the LP bound is a bound of the full model. With ``mip_gap = 0`` step 3 only skips the full
solve when the plan equals the LP bound, i.e. when it is optimal.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np

from planner.config import SolverSettings

INTEGRALITY_TOLERANCE = 1e-6


@dataclass(frozen=True)
class WarmStart:
    """What LP-and-fix found within its time."""

    lp_bound_musd: float
    """Optimal LP relaxation: a lower bound of the MIP (-inf when the LP did not finish)."""
    values: np.ndarray | None
    """Column values of the best plan found (None: none found)."""
    objective_musd: float
    seconds: float
    fractional_columns: int
    """Integer columns left free in the restricted MIP (the LP's fractional ones)."""
    interrupted: bool = False
    """Ctrl-C during the warm start: the caller must stop too."""

    @property
    def gap(self) -> float:
        if self.values is None or not math.isfinite(self.lp_bound_musd):
            return math.inf
        return relative_gap(self.objective_musd, self.lp_bound_musd)

    def proves(self, mip_gap: float) -> bool:
        """The plan is within ``mip_gap`` of the LP bound (so of the MIP optimum)."""
        return self.gap <= mip_gap


def relative_gap(objective: float, bound: float) -> float:
    """HiGHS's definition: |objective - bound| / |objective|."""
    if not math.isfinite(bound) or not math.isfinite(objective):
        return math.inf
    return abs(objective - bound) / max(abs(objective), 1e-9)


def lp_and_fix(
    lp: highspy.HighsLp,
    settings: SolverSettings,
    seconds_left: float,
    on_progress: Callable[[float, float, float], None] | None = None,
) -> WarmStart:
    """Run LP-and-fix on ``lp`` (an integer model) within ``seconds_left`` (the LP may use all of
    it; the restricted MIP at most ``settings.warm_start_s``). ``on_progress(elapsed, plan,
    bound)`` is told of the restricted MIP's plans against the LP bound."""
    started = time.perf_counter()
    integrality = list(lp.integrality_)
    relaxed = _quiet_highs(settings)
    if settings.lp_solver != "choose":
        relaxed.setOptionValue("solver", settings.lp_solver)
    relaxed.setOptionValue("time_limit", max(seconds_left, 1e-3))
    lp.integrality_ = []
    try:
        relaxed.passModel(lp)
    finally:
        lp.integrality_ = integrality
    relaxed.HandleKeyboardInterrupt = True
    relaxed.solve()
    status = relaxed.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return WarmStart(
            -math.inf,
            None,
            math.nan,
            time.perf_counter() - started,
            0,
            interrupted=status == highspy.HighsModelStatus.kInterrupt,
        )
    lp_bound = relaxed.getInfo().objective_function_value
    x = np.asarray(relaxed.getSolution().col_value)
    del relaxed

    is_integer = np.array([kind == highspy.HighsVarType.kInteger for kind in integrality])
    integral = is_integer & (np.abs(x - np.round(x)) <= INTEGRALITY_TOLERANCE)
    lower, upper = np.array(lp.col_lower_), np.array(lp.col_upper_)
    lower[integral] = upper[integral] = np.round(x[integral])

    restricted = _quiet_highs(settings)
    # Its own gap is measured against its own (higher) bound: aim tighter, the callback stops it.
    restricted.setOptionValue("mip_rel_gap", settings.mip_gap / 4)
    time_left = seconds_left - (time.perf_counter() - started)
    restricted.setOptionValue("time_limit", max(min(settings.warm_start_s, time_left), 1e-3))
    restricted.passModel(lp)
    restricted.changeColsBounds(len(lower), np.arange(len(lower), dtype=np.int32), lower, upper)
    proven = [False]

    def stop_when_proven(event: object) -> None:
        plan = event.data_out.mip_primal_bound
        if on_progress is not None:
            on_progress(time.perf_counter() - started, plan, lp_bound)
        if math.isfinite(plan) and relative_gap(plan, lp_bound) <= settings.mip_gap:
            proven[0] = True
            event.data_in.user_interrupt = True

    restricted.cbMipInterrupt.subscribe(stop_when_proven)
    restricted.HandleKeyboardInterrupt = True
    restricted.solve()
    interrupted = restricted.getModelStatus() == highspy.HighsModelStatus.kInterrupt and not proven[0]
    fractional = int((is_integer & ~integral).sum())
    seconds = time.perf_counter() - started
    if restricted.getInfo().primal_solution_status != 2:
        return WarmStart(lp_bound, None, math.nan, seconds, fractional, interrupted)
    return WarmStart(
        lp_bound,
        np.asarray(restricted.getSolution().col_value),
        restricted.getInfo().objective_function_value,
        seconds,
        fractional,
        interrupted,
    )


def _quiet_highs(settings: SolverSettings) -> highspy.Highs:
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("random_seed", settings.random_seed)
    if settings.threads:
        highs.setOptionValue("threads", settings.threads)
    return highs
