"""Reading a solved model's values: what counts as a solver's round-off, and the few plain-number
readings of solved decisions (running chips, idle chips, active contract shares) that both the plan
tables and the stranded figures use."""

from __future__ import annotations

from collections.abc import Iterable

import pyomo.environ as pyo

from planner.case import Case
from planner.formulation.power import available_mwh, energy_needed_mwh_per_chip
from planner.formulation.sets import Sets
from planner.formulation.variables import Index

ROUND_OFF = 1e-9
"""A solved value at most this share of the largest value of its kind is solver round-off (the
flagship's tables hold 2e-10 chips where others count 1e5). The cut-off is relative because a case
in small units can serve all demand with 5e-8 chips of 1000 EFLOPS each."""
FLOOR = 1e-12
"""Below this a value is round-off whatever its kind."""


def noise_level(values: Iterable[float]) -> float:
    """The largest value of a kind of decision that still counts as round-off."""
    return max(FLOOR, ROUND_OFF * max((abs(v) for v in values), default=0.0))


def solved_values(var: pyo.Var) -> dict[Index, float]:
    """The variable's solved values above round-off (:func:`noise_level` of its own values)."""
    values = {k: (v or 0.0) for k, v in var.extract_values().items()}
    cut = noise_level(values.values())
    return {k: v for k, v in values.items() if v > cut}


def above_noise(value: float, scale: float) -> float:
    """``max(0, value)`` for a difference of values of magnitude ``scale``, with a solver's rounding
    (1e-16 MW of empty shell) read as 0."""
    return value if value > noise_level((scale,)) else 0.0


def idle_chips(installed: float, running: float) -> float:
    """Chips installed but not running, the same in the stranded and the capacity tables."""
    return above_noise(installed - running, installed)


def running_chips(run: dict[Index, float]) -> dict[tuple[str, str, int, str], float]:
    """(chip, site, period index, scenario) -> chips running, over all workloads."""
    running: dict[tuple[str, str, int, str], float] = {}
    for (c, s, _k, t, w), v in run.items():
        running[c, s, t, w] = running.get((c, s, t, w), 0.0) + v
    return running


def active_value(sets: Sets, active: dict[Index, float], q: str, n: int) -> float:
    """:func:`planner.formulation.power.active_share` on the solved (round-off free) values."""
    t = sets.info_tree.nodes[n].t
    if (q, t) in sets.existing_active:
        return sets.existing_active[(q, t)]
    return active.get((q, sets.long_lead_node[n]), 0.0)


def energy_needed_mwh(
    case: Case, sets: Sets, running: dict[tuple[str, str, int, str], float]
) -> dict[tuple[str, int, str], float]:
    """(site, period index, scenario) -> MWh the running chips there need: the energy balance's
    right-hand side on the solved values (``running``: :func:`running_chips`)."""
    need: dict[tuple[str, int, str], float] = {}
    for (c, s, t, w), chips in running.items():
        need[s, t, w] = need.get((s, t, w), 0.0) + chips * energy_needed_mwh_per_chip(case, sets, s, c, t)
    return need


def take_or_pay_floor_mwh(
    case: Case, sets: Sets, active: dict[Index, float], q: str, n: int, t: int
) -> float:
    """Contract ``q``'s take-or-pay floor in period ``t`` (info node ``n``): ``min_take`` of the
    energy its active share makes available."""
    contract = case.contracts[q]
    return contract.min_take * available_mwh(case, sets, q, t) * active_value(sets, active, q, n)
