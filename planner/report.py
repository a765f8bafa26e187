"""Console report of a solved plan (rich tables). Reads result tables; computes nothing new."""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console
from rich.table import Table

from planner.formulation.objective import COST_COMPONENTS
from planner.plan import PlanResult

COST_LABELS = {
    "buildings_capex": "Buildings capex",
    "chips_capex": "Chips capex",
    "power_capex": "Power capex",
    "site_om": "Site fixed O&M",
    "chip_om": "Chip O&M",
    "capacity_charge": "Power capacity charges",
    "energy": "Energy",
    "unmet_demand": "Unmet demand penalty",
    "salvage": "Salvage (credit)",
}


def fmt(value: float, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    # "z": a value a solver tolerance below zero (e.g. -1e-12 of unmet demand) is 0.000, not -0.000.
    return f"{value:z,.{digits}f}"


def status_line(result: PlanResult) -> str:
    o = result.outcome
    mark = "" if o.is_proven_optimal else "  [bold red]NOT PROVEN OPTIMAL: best plan found[/]"
    return (
        f"[bold]{result.case.name}[/] under [bold]{result.config.name}[/] "
        f"({result.config.policy}, {'MIP' if result.config.integer else 'LP relaxation'}): "
        f"status [bold]{o.status}[/], objective {fmt(result.objective_musd / 1000, 3)} $B, "
        f"bound {fmt(o.bound_musd / 1000, 3)} $B, gap {fmt(100 * o.mip_gap, 3)}%, "
        f"build {result.build_seconds:.2f}s, load {o.load_seconds:.2f}s, solve {result.solve_seconds:.2f}s"
        f"{mark}"
    )


def render_plan(result: PlanResult, console: Console, run_dir: str | None) -> None:
    """Status, cost breakdown, builds, chip mix, contracts, unmet demand, stranded capacity."""
    res = result.results
    console.print(status_line(result))
    o = result.outcome
    console.print(
        f"  model size: {o.rows:,} rows, {o.columns:,} columns ({o.integer_columns:,} integer), "
        f"{o.nonzeros:,} nonzeros"
    )
    for stage in result.stages:
        console.print(
            f"  stage '{stage['stage']}': status {stage['status']}, "
            f"objective {fmt(stage['objective_musd'] / 1000, 3)} $B, gap {fmt(100 * stage['mip_gap'], 3)}%"
        )
    console.print(_cost_table(res.cost_by_scenario, result))
    console.print(_frame_table("Build schedule (modules started; MW of IT)", res.builds))
    console.print(_chip_mix(res.chips, result))
    console.print(_frame_table("Power contracts signed", res.contracts))
    console.print(_unmet_table(res.unmet))
    console.print(_stranded_table(res.stranded_by_scenario))
    console.print(_risk_table(res.risk))
    if run_dir:
        console.print(f"Run folder: [bold]{run_dir}[/]")


def _cost_table(cost: pd.DataFrame, result: PlanResult) -> Table:
    table = Table(title="Discounted cost, $B (expected and per scenario)", title_justify="left")
    table.add_column("component")
    for column in cost.index:
        table.add_column(str(column), justify="right")
    table.add_row("probability", *[fmt(p, 3) for p in cost["probability"]])
    for comp in COST_COMPONENTS:
        sign = "-" if comp == "salvage" else ""
        table.add_row(COST_LABELS[comp], *[sign + fmt(v / 1000, 3) for v in cost[comp]])
    table.add_row("[bold]total[/]", *[f"[bold]{fmt(v / 1000, 3)}[/]" for v in cost["total"]])
    if not math.isnan(result.cvar_musd):
        table.caption = (
            f"objective = expected {fmt(result.expected_cost_musd / 1000, 3)} + "
            f"{result.config.cvar.weight:g} x CVaR{result.config.cvar.alpha:g} "
            f"{fmt(result.cvar_musd / 1000, 3)} $B"
        )
    return table


def _frame_table(title: str, frame: pd.DataFrame, limit: int = 60) -> Table:
    table = Table(title=title, title_justify="left")
    if frame.empty:
        table.add_column("(none)")
        return table
    for column in frame.columns:
        table.add_column(str(column), justify="right" if frame[column].dtype.kind in "fi" else "left")
    for _, row in frame.head(limit).iterrows():
        table.add_row(*[fmt(v) if isinstance(v, float) else str(v) for v in row])
    if len(frame) > limit:
        table.caption = f"{len(frame) - limit} more rows in the run folder"
    return table


def _chip_mix(chips: pd.DataFrame, result: PlanResult) -> Table:
    """Chips bought per chip type and period, expected over the scenario tree (thousands)."""
    table = Table(title="Chip mix: chips bought, expected over scenarios (thousands)", title_justify="left")
    if chips.empty:
        table.add_column("(none)")
        return table
    weighted = chips.assign(expected=chips["bought"] * chips["probability"])
    pivot = weighted.pivot_table(
        index="chip", columns="period", values="expected", aggfunc="sum", fill_value=0.0
    )
    pivot = pivot.reindex(columns=[p for p in result.case.periods if p in pivot.columns])
    table.add_column("chip")
    for period in pivot.columns:
        table.add_column(str(period), justify="right")
    for chip, row in pivot.iterrows():
        table.add_row(str(chip), *[fmt(v / 1000, 1) for v in row])
    return table


def _unmet_table(unmet: pd.DataFrame) -> Table:
    table = Table(title="Unmet demand (EFLOPS)", title_justify="left")
    if unmet.empty:
        table.add_column("none: all demand is served in every scenario")
        return table
    pivot = unmet.pivot_table(
        index=["scenario", "workload"], columns="period", values="eflops", aggfunc="sum", fill_value=0.0
    )
    table.add_column("scenario / workload")
    for period in pivot.columns:
        table.add_column(str(period), justify="right")
    for (w, k), row in pivot.iterrows():
        table.add_row(f"{w} / {k}", *[fmt(v, 1) for v in row])
    return table


def _stranded_table(stranded: pd.DataFrame) -> Table:
    table = Table(title="Stranded capacity per scenario (peak over periods)", title_justify="left")
    for column in (
        "scenario",
        "probability",
        "cost $B",
        "idle chips",
        "idle PFLOPS share",
        "idle PFLOPS",
        "empty shell MW",
        "stranded capital $B",
        "unused take-or-pay GWh",
    ):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for w, row in stranded.iterrows():
        table.add_row(
            str(w),
            fmt(row["probability"], 3),
            fmt(row["cost_musd"] / 1000, 3),
            fmt(row["idle_chips_peak"], 0),
            f"{100 * row['idle_pflops_share_peak']:.1f}%",
            fmt(row["idle_pflops_peak"], 0),
            fmt(row["empty_shell_mw_peak"], 1),
            fmt(row["stranded_capital_musd_peak"] / 1000, 3),
            fmt(row["unused_take_or_pay_mwh_total"] / 1000, 1),
        )
    return table


def _risk_table(risk: pd.DataFrame) -> Table:
    table = Table(title="Risk over scenarios", title_justify="left")
    table.add_column("figure")
    for column in risk.columns:
        table.add_column(str(column), justify="right")
    for metric, row in risk.iterrows():
        table.add_row(str(metric), *[v if isinstance(v, str) else fmt(v, 3) for v in row])
    return table
