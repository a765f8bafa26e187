"""Risk over scenarios: expected value, worst scenario and CVaR of cost and of each stranded figure,
over the whole horizon and period by period."""

from __future__ import annotations

import numpy as np
import pandas as pd

STRANDED_METRICS = (
    "idle_chips_peak",
    "idle_pflops_peak",
    "idle_pflops_share_peak",
    "empty_shell_mw_peak",
    "stranded_capital_musd_peak",
    "unused_take_or_pay_mwh_total",
    "idle_chips_period_sum",
    "idle_pflops_period_sum",
    "empty_shell_mw_period_sum",
    "stranded_capital_musd_period_sum",
)
"""Per scenario (:func:`planner.stranded.stranded_by_scenario`), then over scenarios
(:func:`risk_table`): each stranded figure's peak over periods, and its plain sum over periods (the
contract does not say how a figure reported per period is aggregated; a second implementation read
it as the sum; unused take-or-pay, a flow, only as its total)."""

PERIOD_METRICS = (
    "idle_chips",
    "idle_pflops",
    "idle_pflops_share",
    "empty_shell_mw",
    "stranded_capital_musd",
    "unused_take_or_pay_mwh",
)
"""The stranded figures of :func:`planner.stranded.stranded_by_period` whose risk is also reported
period by period."""


def alpha_text(alpha: float) -> str:
    """CVaR's alpha as the model gives it, for column names and labels: ``0.9``, ``0.999999999``,
    ``0`` (the shortest text that reads back as the same float; ``:g``'s six digits made
    0.999999999 a ``1``, an alpha the model refuses)."""
    text = repr(float(alpha))
    return text.removesuffix(".0")


def cvar(values: np.ndarray, probabilities: np.ndarray, alpha: float) -> float:
    """``CVaR_alpha``: the mean of the worst ``1 - alpha`` share of a discrete distribution
    (Rockafellar-Uryasev: ``min_eta eta + E[max(0, x - eta)] / (1 - alpha)``, eta at a support point)."""
    if len(values) == 0:
        return float("nan")
    return float(
        min(eta + np.dot(probabilities, np.maximum(0.0, values - eta)) / (1.0 - alpha) for eta in values)
    )


def risk_table(by_scenario: pd.DataFrame, probability: dict[str, float], alpha: float) -> pd.DataFrame:
    """Expected value, worst scenario and CVaR_alpha of cost and of each stranded figure."""
    rows = [
        {"metric": metric, **_over_scenarios(by_scenario[metric], probability, alpha)}
        for metric in ("cost_musd", *STRANDED_METRICS)
    ]
    return pd.DataFrame(rows).set_index("metric")


def risk_by_period(stranded: pd.DataFrame, probability: dict[str, float], alpha: float) -> pd.DataFrame:
    """The same risk figures period by period: each stranded figure of ``stranded_by_period``
    over the scenarios, in that period."""
    rows = []
    for period, in_period in stranded.groupby("period", sort=False):
        by_scenario = in_period.set_index("scenario")
        rows += [
            {"period": period, "metric": metric, **_over_scenarios(by_scenario[metric], probability, alpha)}
            for metric in PERIOD_METRICS
        ]
    return pd.DataFrame(rows)


TIE_TOLERANCE = 1e-9
"""Relative (and absolute, in the figure's own unit) difference below which two scenarios' figures
tie for the worst: they come from one solve, where tied histories give equal figures up to
round-off."""


def _over_scenarios(values: pd.Series, probability: dict[str, float], alpha: float) -> dict[str, object]:
    """Expected value, worst value and its scenario, and ``CVaR_alpha`` of one figure per scenario.

    ``worst_scenario`` is the first scenario at the worst value; ``scenarios_at_worst`` names every
    one there, joined by ``+`` as tree nodes are (``all`` when they all tie, e.g. all at 0), so that
    a tie does not read as one scenario being worse than the others."""
    p = np.array([probability[w] for w in values.index])
    x = values.to_numpy(dtype=float)
    worst = float(x.max())
    # A NaN figure ties nothing: name the scenario holding it, as the worst value is NaN too.
    at_worst = [str(w) for w, v in zip(values.index, x, strict=True) if _ties(v, worst)] or [
        str(values.index[int(x.argmax())])
    ]
    return {
        "expected": float(np.dot(p, x)),
        "worst": worst,
        "worst_scenario": at_worst[0],
        "scenarios_at_worst": "all" if len(at_worst) == len(x) > 1 else "+".join(at_worst),
        f"cvar_{alpha_text(alpha)}": cvar(x, p, alpha),
    }


def _ties(value: float, worst: float) -> bool:
    return bool(np.isclose(value, worst, rtol=TIE_TOLERANCE, atol=TIE_TOLERANCE))


def worst_and_expected(
    by_scenario: pd.DataFrame, names: dict[str, str], probability: dict[str, float]
) -> dict[str, float]:
    """``<name>_worst`` and ``<name>_expected`` (over scenarios, with their ``probability``) of each
    column of ``by_scenario`` (indexed by scenario) that ``names`` maps to a figure name."""
    weights = pd.Series(probability, dtype=float)
    figures = {}
    for column, name in names.items():
        values = by_scenario[column]
        figures[f"{name}_worst"] = float(values.max())
        figures[f"{name}_expected"] = float((values * weights).sum())
    return figures
