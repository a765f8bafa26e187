"""A sweep under several models (``planner sweep --model phased --model all-at-once``): the
strategies table, one row per variant with each model's objective and expected discounted cost, the
difference of each later model's expected cost against the first's (with the range both MIP gaps
leave it) and each model's expected peak of stranded capital; and the console view of such a sweep.

The models are compared on expected cost, not on their objectives: a risk-averse model's objective
adds ``weight x CVaR``, so two models that choose the same plan would differ by that term alone.
The range comes from the solves' bounds, which bound the objectives: it is given only when both
models are risk neutral (objective = expected cost).

strategies.csv's columns carry the model names in brackets: ``objective_musd[phased]``,
``diff_expected_cost_musd[all-at-once - phased]`` (the later model less the first one).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd
from rich.console import Console
from rich.table import Table

from planner.markup import literal
from planner.money import MoneyUnit
from planner.output import run_status
from planner.solve import PROVEN_GAP
from planner.sweep import VariantOutcome
from planner.sweep_report import (
    delta_range,
    objective_bound,
    print_either_sign,
    print_failures,
    print_negative_regrets,
    print_run_folder,
    print_unsure_changes,
    status_money_cell,
    sweep_money_unit,
    tornado_file,
    variants_csv,
    variants_view,
)

STRANDED = "stranded_capital_musd_peak_expected"


def status_column(model: str) -> str:
    return f"status[{model}]"


def objective_column(model: str) -> str:
    return f"objective_musd[{model}]"


def expected_cost_column(model: str) -> str:
    return f"expected_cost_musd[{model}]"


def stranded_column(model: str) -> str:
    return f"{STRANDED}[{model}]"


def diff_columns(model: str, first: str) -> tuple[str, str, str]:
    """The difference of expected costs ``model - first`` (musd) and the low and high ends of its
    range."""
    pair = f"{model} - {first}"
    return (
        f"diff_expected_cost_musd[{pair}]",
        f"diff_expected_cost_low_musd[{pair}]",
        f"diff_expected_cost_high_musd[{pair}]",
    )


def strategies_columns(models: list[str]) -> list[str]:
    """case, group; status, objective and expected cost per model; the differences of expected
    cost against the first model; the stranded-capital peak per model."""
    per_model = [
        column
        for model in models
        for column in (status_column(model), objective_column(model), expected_cost_column(model))
    ]
    diffs = [column for model in models[1:] for column in diff_columns(model, models[0])]
    return ["case", "group", *per_model, *diffs, *map(stranded_column, models)]


def strategies_table(by_model: Mapping[str, list[VariantOutcome]]) -> pd.DataFrame:
    """One row per variant (base first, in sweep order) comparing the models' solves of it;
    ``by_model``: each model's outcomes, every model in the same variant order."""
    models = list(by_model)
    first = models[0]
    rows = []
    for i, head in enumerate(by_model[first]):
        solved = {model: outcomes[i] for model, outcomes in by_model.items()}
        assert all(o.case == head.case for o in solved.values())  # run_sweep keeps the tasks' order
        row: dict[str, object] = {"case": head.case, "group": head.group}
        for model, outcome in solved.items():
            row[status_column(model)] = run_status(outcome.summary) if outcome.summary else "failed"
            row[objective_column(model)] = _summary_musd(outcome, "objective_musd")
            row[expected_cost_column(model)] = _summary_musd(outcome, "expected_cost_musd")
            row[stranded_column(model)] = _stranded_musd(outcome)
        for model in models[1:]:
            difference = _difference_musd(solved[model], solved[first])
            row.update(zip(diff_columns(model, first), difference, strict=True))
        rows.append(row)
    return pd.DataFrame(rows, columns=strategies_columns(models))


def _summary_musd(outcome: VariantOutcome, key: str) -> float:
    return float(outcome.summary[key]) if outcome.summary else math.nan


def _stranded_musd(outcome: VariantOutcome) -> float:
    if not outcome.summary:
        return math.nan
    return float(outcome.summary["risk"]["stranded_capital_musd_peak"]["expected"])


def _difference_musd(outcome: VariantOutcome, first: VariantOutcome) -> tuple[float, float, float]:
    """``outcome - first`` in expected cost, and where the difference of the optima lies given both
    solves' bounds, as a variant's change against base: blank when either failed or has no bound,
    or is risk averse (its bound is one on an objective that adds CVaR, not on expected cost)."""
    if not (outcome.summary and first.summary):
        return math.nan, math.nan, math.nan
    first_cost = float(first.summary["expected_cost_musd"])
    diff = float(outcome.summary["expected_cost_musd"]) - first_cost
    if _risk_averse(outcome.summary) or _risk_averse(first.summary):
        return diff, math.nan, math.nan
    low, high = delta_range(outcome.summary, diff, first_cost, objective_bound(first.summary))
    return diff, low, high


def _risk_averse(summary: Mapping[str, object]) -> bool:
    weight = summary.get("cvar_weight")
    return isinstance(weight, int | float) and weight > 0


def strategies_view(strategies: pd.DataFrame, models: list[str], money: MoneyUnit) -> Table:
    """The console's strategies table: expected cost per model (its status when not optimal), the
    differences against the first model, the stranded-capital peak per model."""
    unit = money.label
    first = models[0]
    view = Table(
        title=f"Sweep strategies: expected discounted cost per model, difference against {literal(first)}"
        " (stranded: expected peak of stranded capital)",
        title_justify="left",
    )
    view.add_column("case")
    view.add_column("group")
    for model in models:
        view.add_column(f"{literal(model)} {unit}", justify="right")
    for model in models[1:]:
        view.add_column(f"{literal(model)} - {literal(first)} {unit}", justify="right")
    for model in models:
        view.add_column(f"stranded {literal(model)} {unit}", justify="right")
    for row in strategies.to_dict(orient="records"):
        objectives = [
            status_money_cell(row[status_column(model)], row[expected_cost_column(model)], money)
            for model in models
        ]
        diffs = [_money_cell(row[diff_columns(model, first)[0]], money) for model in models[1:]]
        stranded = [_money_cell(row[stranded_column(model)], money) for model in models]
        view.add_row(literal(row["case"]), literal(row["group"]), *objectives, *diffs, *stranded)
    return view


def _money_cell(value: object, money: MoneyUnit) -> str:
    return status_money_cell("optimal", value, money)


def _objective_adds_cvar(strategies: pd.DataFrame, model: str) -> bool:
    """Whether ``model``'s objective differs from its expected cost in some variant (a CVaR term)."""
    objective, cost = strategies[objective_column(model)], strategies[expected_cost_column(model)]
    scale = max(1.0, float(objective.abs().max(skipna=True) or 0.0))
    return bool(((objective - cost).abs() > PROVEN_GAP * scale).any())


def render_model_sweep(
    tables: Mapping[str, pd.DataFrame], strategies: pd.DataFrame, console: Console, run_dir: str
) -> None:
    """A sweep of several models: the strategies table, then each model's variants table as a
    sweep of that model alone shows it, all in one money unit; failures once."""
    models = list(tables)
    table = variants_csv(tables)
    money = sweep_money_unit(table)
    console.print(strategies_view(strategies, models, money))
    with_cvar = [model for model in models if _objective_adds_cvar(strategies, model)]
    if with_cvar:
        console.print(
            f"{', '.join(with_cvar)}: the objective adds weight x CVaR to the expected cost; the models are"
            " compared on expected cost (each objective is objective_musd[<model>] in strategies.csv).",
            highlight=False,
            markup=False,
        )
    for model in models[1:]:
        pair = diff_columns(model, models[0])
        print_either_sign(
            console,
            strategies,
            pair[1:],
            money,
            f"the difference {model} - {models[0]}",
            f"every variant's range: {pair[1]}, {pair[2]} in strategies.csv",
        )
    for model, model_table in tables.items():
        console.print(variants_view(model_table, money, f"Sweep variants under {literal(model)}"))
        print_unsure_changes(model_table, money, console, model)
        print_negative_regrets(model_table, money, console, model)
    print_failures(table, console)
    charts = ", ".join(tornado_file(model, True) for model in models)
    print_run_folder(console, run_dir, f"strategies.csv, variants.csv, {charts}")
