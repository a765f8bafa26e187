"""Output of ``planner compare``: the side-by-side table, JSON, CSV tables, charts and HTML."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from rich.console import Console
from rich.table import Table

from planner.compare import Comparison
from planner.json_text import finite_or_none
from planner.markup import literal
from planner.money import MoneyUnit, fmt, money_unit, shows_as_zero
from planner.output import run_status
from planner.risk import alpha_text
from planner.runfolder import RunFolder

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

MONEY = "money"
"""The unit of a money figure: $B or $M, the same for the whole comparison (:func:`money_unit`)."""

FIGURE_LABELS = {
    "objective_musd": ("Objective (the model's own)", MONEY, 1.0),
    "expected_cost_musd": ("Expected discounted cost", MONEY, 1.0),
    "worst_scenario_cost_musd": ("Cost in the worst scenario", MONEY, 1.0),
    "cvar_cost_musd": ("CVaR of cost (at the model's alpha)", MONEY, 1.0),
    "cvar_alpha": ("CVaR alpha", "", 1.0),
    "capex_total_musd": ("Capex, all years (undiscounted, expected)", MONEY, 1.0),
    "idle_pflops_share_peak_worst": ("Idle PFLOPS share, peak (worst scenario)", "%", 100.0),
    "idle_pflops_share_peak_expected": ("Idle PFLOPS share, peak (expected)", "%", 100.0),
    "empty_shell_mw_peak_worst": ("Empty shell MW, peak (worst scenario)", "MW", 1.0),
    "empty_shell_mw_peak_expected": ("Empty shell MW, peak (expected)", "MW", 1.0),
    "stranded_capital_musd_peak_worst": ("Stranded capital, peak (worst scenario)", MONEY, 1.0),
    "stranded_capital_musd_peak_expected": ("Stranded capital, peak (expected)", MONEY, 1.0),
    "unused_take_or_pay_mwh_worst": ("Unused take-or-pay, total (worst scenario)", "GWh", 1e-3),
    "unused_take_or_pay_mwh_expected": ("Unused take-or-pay, total (expected)", "GWh", 1e-3),
    "idle_firm_mw_peak_worst": ("Idle firm power, peak (worst scenario)", "MW", 1.0),
    "idle_firm_mw_peak_expected": ("Idle firm power, peak (expected)", "MW", 1.0),
    "idle_capacity_charge_musd_worst": ("Capacity charges for idle firm MW (worst scenario)", MONEY, 1.0),
    "idle_capacity_charge_musd_expected": ("Capacity charges for idle firm MW (expected)", MONEY, 1.0),
    "unpowered_chips_peak_worst": ("Chips left unpowered, peak (worst scenario)", "chips", 1.0),
    "unpowered_chips_peak_expected": ("Chips left unpowered, peak (expected)", "chips", 1.0),
    "unpowered_book_value_musd_peak_worst": ("Unpowered chips, book value peak (worst scenario)", MONEY, 1.0),
    "unpowered_book_value_musd_peak_expected": ("Unpowered chips, book value peak (expected)", MONEY, 1.0),
    "power_share_of_opex_expected": ("Power share of operating cost (expected)", "%", 100.0),
    "power_share_of_ownership_expected": ("Power share of total cost of ownership (expected)", "%", 100.0),
    "unmet_eflops_years_expected": ("Unmet demand (expected)", "EFLOPS-years", 1.0),
    "mip_gap": ("Gap, plan to bound (largest of its solves)", "%", 100.0),
    "solve_seconds": ("Solve time", "s", 1.0),
}


TIMING_FIGURES = ("solve_seconds",)
"""Figures that differ from run to run of the same input: kept out of comparison.csv."""


def comparison_summary(comparison: Comparison, run_dir: str | None, warnings: list[str]) -> dict[str, Any]:
    """The ``--json`` object of ``planner compare`` (also ``summary.json``), with the case's warnings."""
    figures = comparison.figures()
    money = _money_unit(figures)
    capex = comparison.capex_by_year()
    strategies: dict[str, dict[str, object]] = {}
    for name, task in comparison.strategies.items():
        if not task.ok:
            strategies[name] = {"objective_musd": None, "status": "failed", "error": task.error}
            continue
        assert task.summary is not None  # set when the task did not fail
        entry: dict[str, object] = {str(k): finite_or_none(v) for k, v in figures[name].items()}
        entry["status"] = run_status(task.summary)
        entry["stages"] = task.summary["stages"]
        entry["proven_optimal"] = task.summary["proven_optimal"]
        entry["within_mip_gap"] = task.summary["within_mip_gap"]
        entry["policy"] = task.summary["policy"]
        entry["bound_musd"] = task.summary["bound_musd"]
        entry["capex_by_period_musd"] = {str(p): float(v) for p, v in capex[name].items()}
        entry["stranded"] = task.summary["stranded"]
        entry["cost_breakdown_musd"] = task.summary["cost_breakdown_musd"]
        strategies[name] = entry
    return {
        "case": comparison.case.name,
        "strategies": strategies,
        "differences_vs_first": {
            name: {k: finite_or_none(v) for k, v in column.items()}
            for name, column in comparison.differences().items()
        },
        "evpi_musd": comparison.evpi_musd,
        "vss_musd": comparison.vss_musd,
        "vss_unmet_demand_musd": comparison.vss_unmet_demand_musd,
        "value_of_information_models": comparison.reference_models,
        "value_of_information_solves": comparison.reference_solves,
        "evpi_range_musd": comparison.evpi_range_musd,
        "vss_range_musd": comparison.vss_range_musd,
        "evpi_reading": evpi_reading(comparison, money),
        "vss_reading": vss_reading(comparison, money),
        "perfect_information": comparison.perfect_information_table().to_dict(orient="records"),
        "run_dir": run_dir,
        "warnings": warnings,
    }


def render_comparison(comparison: Comparison, console: Console, run_dir: str | None) -> None:
    figures = comparison.figures()
    names = list(comparison.strategies)
    money = _money_unit(figures)
    table = Table(title=f"Strategies compared on {literal(comparison.case.name)}", title_justify="left")
    table.add_column("figure")
    table.add_column("unit")
    for name in names:
        table.add_column(literal(name), justify="right")
    for name in names[1:]:
        table.add_column(literal(f"{name} - {names[0]}"), justify="right")
    for key, (label, unit, scale) in FIGURE_LABELS.items():
        if key not in figures.index:
            continue
        row = cast("pd.Series", figures.loc[key])  # a label of a unique index: one row
        if unit == MONEY:
            unit, scale = money.label, 1.0 / money.musd_per_unit
        if key == "cvar_alpha":
            values = [_alpha(row[n]) for n in names]
            deltas = [_alpha_difference(row[n], row[names[0]]) for n in names[1:]]
        else:
            values = [fmt(row[n] * scale, 3) for n in names]
            deltas = [_signed(row[n] * scale - row[names[0]] * scale) for n in names[1:]]
        table.add_row(label, unit, *values, *deltas)
    console.print(table)
    for name, task in comparison.strategies.items():
        if task.summary is None:  # the task failed
            console.print(f"[bold red]{literal(name)} failed:[/] {literal(task.error)}", highlight=False)
        elif (status := run_status(task.summary)) != "optimal":
            console.print(f"[yellow]{literal(name)}: status {status}, best plan found[/]")
    capex = comparison.capex_by_year()
    capex_table = Table(
        title=f"Capex committed by year, {money.label} (undiscounted, expected)", title_justify="left"
    )
    capex_table.add_column("period")
    for name in capex.columns:
        capex_table.add_column(literal(name), justify="right")
    for period, row in capex.iterrows():
        capex_table.add_row(literal(period), *[money(v, 2) for v in row])
    console.print(capex_table)
    console.print(
        f"EVPI {money(comparison.evpi_musd)} {money.label}: {evpi_reading(comparison, money)}",
        highlight=False,
    )
    console.print(
        f"VSS  {money(comparison.vss_musd)} {money.label}: {vss_reading(comparison, money)}",
        highlight=False,
    )
    policies: list[str] = [config.policy for config in comparison.configs.values()]
    shared = [p for p, name in comparison.reference_models.items() if policies.count(p) > 1]
    if shared:  # several models of one policy: say which one the figures use
        used = ", ".join(f"{p} model '{comparison.reference_models[p]}'" for p in shared)
        neutral = all(comparison.configs[comparison.reference_models[p]].cvar.weight == 0 for p in shared)
        which = "the first risk-neutral one" if neutral else "the first risk-neutral one, else the first"
        console.print(f"EVPI and VSS use {literal(used)} ({which}).", highlight=False)
    for policy, solve in comparison.reference_solves.items():  # solved for the figures, not shown above
        cost = solve["expected_cost_musd"]
        gap = f", gap {100 * solve['mip_gap']:.3f}%" if solve["mip_gap"] is not None else ""
        said = f"expected cost {money(cost)} {money.label}, " if cost is not None else ""
        console.print(
            f"EVPI and VSS rest on the shipped {policy} model, solved for them (not compared): "
            f"{said}status {solve['status']}{gap}.",
            highlight=False,
        )
    if run_dir:
        console.print(f"Run folder: [bold]{literal(run_dir)}[/] (index.html has the charts)")


def evpi_reading(comparison: Comparison, money: MoneyUnit) -> str:
    if comparison.evpi_musd is None:
        return "EVPI unavailable: a solve failed."
    return (
        f"Knowing in advance which demand scenario comes would be worth {money(comparison.evpi_musd)}"
        f" {money.label}{_within(comparison.evpi_range_musd, money)} in expected cost: the most worth"
        " paying for better forecasts or for delaying commitments."
    )


def vss_reading(comparison: Comparison, money: MoneyUnit) -> str:
    if comparison.vss_musd is None:
        return "VSS unavailable: a solve failed."
    unmet = comparison.vss_unmet_demand_musd
    of_which = (
        f" The unmet-demand penalty accounts for {money(unmet)} {money.label} of it (demand the mean"
        " plan's buildings and power cannot serve, priced at parameters.csv"
        f" unmet_penalty_musd_per_eflops_year), the other costs for"
        f" {money(comparison.vss_musd - unmet)} {money.label}."
        if unmet is not None and not shows_as_zero(money(unmet))
        else ""
    )
    return (
        "Planning on the scenario tree instead of on the mean forecast saves"
        f" {money(comparison.vss_musd)} {money.label}{_within(comparison.vss_range_musd, money)}"
        f" in expected cost: the price of ignoring demand uncertainty.{of_which}"
    )


def _within(interval: tuple[float, float] | None, money: MoneyUnit) -> str:
    """Where a figure made of MIP results lies given their gaps; nothing when they are exact at the
    figure's shown precision."""
    if interval is None:
        return ""
    low, high = money(interval[0]), money(interval[1])
    return "" if low == high else f" (between {low} and {high} {money.label} given the MIP gaps)"


def _money_unit(figures: pd.DataFrame) -> MoneyUnit:
    """One unit for the comparison, set by its dearest strategy in its worst scenario."""
    keys = [key for key in ("objective_musd", "worst_scenario_cost_musd") if key in figures.index]
    return money_unit(*[float(v) for key in keys for v in figures.loc[key]])  # type: ignore[arg-type]  # a row


def _alpha(value: float) -> str:
    """An alpha as the model gives it (0.999999999 is not 1.000), "-" for a failed strategy's."""
    return "-" if math.isnan(value) else alpha_text(value)


def _signed(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:+z,.3f}"  # z: no "-0.000" for a tolerance below zero


def _alpha_difference(alpha: float, first: float) -> str:
    """The difference of two alphas as printed: 0.9001 - 0.9 is +0.0001 (not +0.000, nor the
    floats' +0.00010000000000000009), 0.9999999999 - 0.999999999 is +0.0000000009."""
    if math.isnan(alpha) or math.isnan(first):
        return "-"
    return f"{(Decimal(alpha_text(alpha)) - Decimal(alpha_text(first))).normalize():+f}"


def write_comparison(folder: RunFolder, comparison: Comparison, run_dir: str, warnings: list[str]) -> None:
    """CSV tables per strategy, the side-by-side table, charts (PNG) and an HTML page."""
    from planner.charts import (
        plot_capacity_vs_demand,
        plot_capex_by_year,
        plot_stranded_capital,
        write_html,
    )
    from planner.output import write_result_tables

    figures = comparison.figures()
    money = _money_unit(figures)
    timings = figures.index.intersection(list(TIMING_FIGURES))
    # Timings vary run to run: apart, the tables of the same input are the same bytes every time.
    folder.write_table("timings", figures.loc[timings].rename_axis("figure"), index=True)
    figures = figures.drop(index=timings)
    folder.write_table("comparison", figures.rename_axis("figure"), index=True)
    status = comparison.status_table()
    folder.write_table("status", status)
    folder.write_table("capex_by_year", comparison.capex_by_year().rename_axis("period"), index=True)
    if comparison.perfect_information:
        folder.write_table("perfect_information", comparison.perfect_information_table())
    folder.write_json("summary.json", comparison_summary(comparison, run_dir, warnings))
    ok = {name: task.results for name, task in comparison.strategies.items() if task.results is not None}
    for name, results in ok.items():
        write_result_tables(folder, results, f"-{name}")  # every table a solve's folder has
    charts = {
        "Installed vs demanded compute": plot_capacity_vs_demand(
            {n: r.capacity_by_period for n, r in ok.items()}, folder.file("capacity_vs_demand.png")
        ),
        "Stranded capital per scenario": plot_stranded_capital(
            {n: r.stranded_by_scenario for n, r in ok.items()},
            folder.file("stranded_capital.png"),
            money,
        ),
        "Capex by year": plot_capex_by_year(
            {n: r.capex_by_period for n, r in ok.items()}, folder.file("capex_by_year.png"), money
        ),
    }
    sections: list[tuple[str, str | Path | pd.DataFrame]] = [
        (
            "Value of information",
            f"{evpi_reading(comparison, money)} {vss_reading(comparison, money)}",
        ),
        ("Status of each strategy's solves", status.set_index("strategy")),
        ("Figures", figures),
    ]
    sections += [(title, path) for title, path in charts.items()]
    write_html(folder.file("index.html"), f"planner compare: {comparison.case.name}", sections)
