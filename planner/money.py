"""How reports print money: one unit for a whole run, $B for Stargate-sized figures, $M below."""

from __future__ import annotations

import math
from dataclasses import dataclass


def fmt(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    # "z": a value a solver tolerance below zero (e.g. -1e-12 of unmet demand) is 0.000, not -0.000.
    return f"{value:z,.{digits}f}"


@dataclass(frozen=True)
class MoneyUnit:
    """How a report prints money: ``$B`` for Stargate-sized figures, ``$M`` for smaller ones."""

    label: str
    musd_per_unit: float

    def __call__(self, musd: float | None, digits: int = 3) -> str:
        return fmt(None if musd is None else musd / self.musd_per_unit, digits)


BILLIONS = MoneyUnit("$B", 1000.0)
MILLIONS = MoneyUnit("$M", 1.0)


def shows_as_zero(shown: str) -> bool:
    """Whether a formatted figure (``0.000``, ``-0.000``, ``0``) reads as zero at its precision."""
    return shown.strip("-0.,") == ""


def money_unit(*musd: float | None) -> MoneyUnit:
    """$B when the largest of ``musd`` is 10 $B or more; $M otherwise, where $B with three
    decimals would read 0.010 or -0.001 (inputs/tiny's 9.986 $M)."""
    finite = [abs(v) for v in musd if v is not None and math.isfinite(v)]
    return BILLIONS if finite and max(finite) >= 10_000 else MILLIONS
