"""Console report of a solved plan (rich tables). Reads result tables; computes nothing new."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from planner.formulation.objective import COST_COMPONENTS
from planner.idle_power import idle_power_by_scenario
from planner.markup import literal
from planner.money import MoneyUnit, fmt, money_unit, shows_as_zero
from planner.plan import PlanResult
from planner.risk import alpha_text
from planner.unpowered import unpowered_by_scenario

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


def plan_money_unit(result: PlanResult) -> MoneyUnit:
    """One unit for every money figure of a solve's report: set by its largest scenario cost."""
    totals = result.results.cost_by_scenario["total"]
    return money_unit(result.objective_musd, result.outcome.bound_musd, *totals.tolist())


def status_line(result: PlanResult) -> str:
    o = result.outcome
    money = plan_money_unit(result)
    mark = ""
    if not result.within_mip_gap:
        mark = "  [bold red]NOT PROVEN OPTIMAL: best plan found[/]"
    elif not result.proven_optimal:
        mark = f"  (optimal within the {fmt(100 * result.config.solver.mip_gap, 3)}% MIP gap asked)"
    return (
        f"[bold]{literal(result.case.name)}[/] under [bold]{literal(result.config.name)}[/] "
        f"({result.config.policy}, {_model_kind(result)}): "
        f"status [bold]{o.status}[/], objective {money(result.objective_musd)} {money.label}, "
        f"bound {money(o.bound_musd)} {money.label}, gap {fmt(100 * o.mip_gap, 3)}%, "
        f"{_stage_gaps(result)}"
        f"build {result.build_seconds:.2f}s, load {o.load_seconds:.2f}s, solve {result.solve_seconds:.2f}s"
        f"{mark}"
    )


def _model_kind(result: PlanResult) -> str:
    """MIP or LP relaxation; a MIP whose integer decisions are all frozen (``--fix-plan``) says so."""
    if not result.config.integer:
        return "LP relaxation"
    return "MIP" if result.outcome.integer_columns else "MIP, no integer decision left free: an LP"


def fixed_plan_line(fixed: dict[str, Any]) -> str:
    """What ``--fix-plan`` (and ``--fix-chips``) froze, in words."""
    periods = "every period" if fixed["through"] is None else f"the periods up to {literal(fixed['through'])}"
    counts = f"{_count(fixed['builds'], 'build')}, {_count(fixed['signings'], 'signing')}"
    if "chip_purchases" not in fixed:
        return (
            f"plan frozen: the buildings and contracts of {literal(fixed['from'])} in {periods} ({counts});"
            " chips and operations optimised"
        )
    return (
        f"plan frozen: the buildings, contracts and chip purchases of {literal(fixed['from'])} in {periods}"
        f" ({counts}, {_count(fixed['chip_purchases'], 'chip purchase')}); operations optimised"
    )


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def _stage_gaps(result: PlanResult) -> str:
    """Plan-on-mean's gap and bound are its second solve's, exact once the mean plan is fixed; the
    mean-demand MIP that chose that plan stopped at a gap of its own, said beside them."""
    return "".join(f"{stage['stage']} gap {fmt(100 * stage['mip_gap'], 3)}%, " for stage in result.stages)


def render_plan(result: PlanResult, console: Console, run_dir: str | None) -> None:
    """Status, cost breakdown, builds, chip mix, contracts, commitments, unmet demand, stranded
    capacity, idle firm power (an extension), risk."""
    res = result.results
    money = plan_money_unit(result)
    console.print(status_line(result))
    o = result.outcome
    console.print(
        f"  model size: {o.rows:,} rows, {o.columns:,} columns ({o.integer_columns:,} integer), "
        f"{o.nonzeros:,} nonzeros"
    )
    if result.fixed_plan is not None:
        console.print(f"  {fixed_plan_line(result.fixed_plan)}", highlight=False)
    for stage in result.stages:
        console.print(
            f"  stage '{literal(stage['stage'])}': status {stage['status']}, "
            f"objective {money(stage['objective_musd'])} {money.label}, gap {fmt(100 * stage['mip_gap'], 3)}%"
        )
    console.print(_cost_table(res.cost_by_scenario, result, money, console.width))
    console.print(power_share_line(res.cost_shares), highlight=False)
    console.print(_frame_table("Build schedule (modules started; MW of IT)", res.builds))
    console.print(_chip_mix(res.chips, result, console.width))
    console.print(_frame_table("Power contracts signed", res.contracts))
    console.print(_commitments_table(res.commitments))
    console.print(_unmet_table(res.unmet, console.width))
    console.print(_stranded_table(res.stranded_by_scenario, money))
    console.print(_idle_power_table(idle_power_by_scenario(res.idle_power, result.case.scenarios), money))
    if res.unpowered_chips is not None:
        unpowered = unpowered_by_scenario(res.unpowered_chips, result.case.scenarios)
        console.print(_unpowered_table(unpowered, money))
    console.print(_risk_table(res.risk, money))
    if run_dir:
        console.print(f"Run folder: [bold]{literal(run_dir)}[/]")


def _credit(shown: str) -> str:
    """A credit as subtracted: ``-12.345``, unless it shows as zero."""
    return shown if shows_as_zero(shown) else f"-{shown}"


def _cost_table(cost: pd.DataFrame, result: PlanResult, money: MoneyUnit, width: int) -> Table:
    probability = ["probability", *[fmt(p, 3) for p in cost["probability"]]]
    rows = [probability]
    for comp in COST_COMPONENTS:
        credit = comp == "salvage"  # shown as the credit it is, but no "-0.000" for none
        rows.append([COST_LABELS[comp], *[_credit(money(v)) if credit else money(v) for v in cost[comp]]])
    rows.append(["[bold]total[/]", *[f"[bold]{money(v)}[/]" for v in cost["total"]]])
    table = matrix_table(
        f"Discounted cost, {money.label} (expected and per scenario)",
        Matrix("component", "scenario", [literal(c) for c in cost.index], rows),
        width,
        "cost_by_scenario.csv",
    )
    if not math.isnan(result.cvar_musd):
        objective = (
            f"objective = expected {money(result.expected_cost_musd)} + "
            f"{result.config.cvar.weight:g} x CVaR{alpha_text(result.config.cvar.alpha)} "
            f"{money(result.cvar_musd)} {money.label}"
        )
        table.caption = objective if table.caption is None else f"{objective}; {table.caption}"
    return table


def power_share_line(cost_shares: pd.DataFrame) -> str:
    """Power's share of the operating cost and of the total cost of ownership, expected (the
    domain notes quote ~40% and ~7%), and its range over the scenarios."""
    expected, scenarios = cost_shares.iloc[-1], cost_shares.iloc[:-1]

    def share(column: str) -> str:
        low, high = scenarios[column].min(), scenarios[column].max()
        spread = f" ({_percent(low)}-{_percent(high)} by scenario)" if len(scenarios) > 1 else ""
        return f"{_percent(expected[column])}{spread}"

    energy = _percent(expected["energy_share_of_opex"])
    return (
        f"Power (capacity charges and energy): {share('power_share_of_opex')} of operating cost, energy alone"
        f" {energy}; {share('power_share_of_ownership')} of the total cost of ownership (capex - salvage +"
        " operating cost; discounted, expected; cost_shares.csv, opex_by_period.csv)"
    )


def _percent(share: float) -> str:
    return "-" if math.isnan(share) else f"{100 * share:.1f}%"


def _frame_table(title: str, frame: pd.DataFrame, limit: int = 60) -> Table:
    if frame.empty:
        return empty_table(title)
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        table.add_column(literal(column), justify="right" if frame[column].dtype.kind in "fi" else "left")
    for _, row in frame.head(limit).iterrows():
        table.add_row(*[fmt(v) if isinstance(v, float) else literal(v) for v in row])
    if len(frame) > limit:
        table.caption = f"{len(frame) - limit} more rows in the run folder"
    return table


COMMITMENT_HEADERS = {
    "now_mw": "now",
    "certain_mw": "certain",
    "contingent_mw_expected": "contingent expected",
    "contingent_mw_min": "contingent min",
    "contingent_mw_max": "contingent max",
    "total_mw_expected": "total expected",
}
"""``commitments.csv``'s MW columns as headed on the console (MW is in the title): headers that wrap
at a space leave the width to the ids."""


def _commitments_table(commitments: pd.DataFrame) -> Table:
    """``commitments.csv`` as printed, with a caption saying what certain and contingent mean."""
    title = "Commitments: certain in every scenario vs contingent (MW)"
    if commitments.empty:
        return empty_table(title, "none: no module started and no contract signed in any scenario")
    table = _frame_table(title, commitments.rename(columns=COMMITMENT_HEADERS))
    meaning = (
        "certain: decided before demand parts, the same in every scenario (now: in the first period),"
        " or frozen by --fix-plan; contingent: in some scenarios only"
    )
    table.caption = meaning if table.caption is None else f"{meaning}; {table.caption}"
    return table


def _chip_mix(chips: pd.DataFrame, result: PlanResult, width: int) -> Table:
    """Chips bought per chip type and period, expected over the scenario tree (thousands)."""
    title = "Chip mix: chips bought, expected over scenarios (thousands)"
    if chips.empty:
        return empty_table(title)
    weighted = chips.assign(expected=chips["bought"] * chips["probability"])
    pivot = weighted.pivot_table(
        index="chip", columns="period", values="expected", aggfunc="sum", fill_value=0.0
    )
    pivot = pivot.reindex(columns=[p for p in result.case.periods if p in pivot.columns])
    rows = [[literal(chip), *[fmt(v / 1000, 1) for v in row]] for chip, row in pivot.iterrows()]
    matrix = Matrix("chip", "period", [literal(p) for p in pivot.columns], rows)
    return matrix_table(title, matrix, width, "chips.csv")


def _unmet_table(unmet: pd.DataFrame, width: int) -> Table:
    title = "Unmet demand (EFLOPS)"
    if unmet.empty:
        return empty_table(title, "none: all demand is served in every scenario")
    pivot = unmet.pivot_table(
        index=["scenario", "workload"], columns="period", values="eflops", aggfunc="sum", fill_value=0.0
    )
    rows = [[literal(f"{w} / {k}"), *[fmt(v, 1) for v in row]] for (w, k), row in pivot.iterrows()]  # type: ignore[misc, has-type]
    matrix = Matrix("scenario / workload", "period", [literal(p) for p in pivot.columns], rows)
    return matrix_table(title, matrix, width, "unmet.csv")


def empty_table(title: str, text: str = "(none)") -> Table:
    """A table with nothing to show, as wide as its title: rich wraps a title to the table's
    width, which ``(none)`` alone made a column of ten-letter lines."""
    table = Table(title=title, title_justify="left", min_width=cell_len(title))
    table.add_column(text)
    return table


@dataclass(frozen=True)
class Matrix:
    """A labelled grid of formatted cells: ``rows[i] = [row label, cell per column]``. Labels and
    cells are rich markup: user ids in them are passed through :func:`literal`."""

    row_name: str
    column_name: str
    columns: list[str]
    rows: list[list[str]]

    def transposed(self) -> Matrix:
        labels = [row[0] for row in self.rows]
        rows = [[column, *[row[j + 1] for row in self.rows]] for j, column in enumerate(self.columns)]
        return Matrix(self.column_name, self.row_name, labels, rows)

    def column_widths(self) -> list[int]:
        """Printed width of the label column and of each data column (markup excluded)."""
        table = [[self.row_name, *self.columns], *self.rows]
        return [max(len(Text.from_markup(row[j]).plain) for row in table) for j in range(len(table[0]))]


# rich draws a border and one space of padding on each side of every column.
CELL_OVERHEAD = 3


def matrix_table(title: str, matrix: Matrix, width: int, csv_name: str) -> Table:
    """The grid as a table that fits ``width``: transposed when that shows more of it (a 60-period
    horizon reads down the page, not across), then cut to the columns that fit, with a caption
    naming the run-folder file that holds the rest. rich would otherwise squeeze every column,
    headers included, to nothing."""
    wide, tall = matrix, matrix.transposed()
    wide_count = _columns_that_fit(wide.column_widths(), width)
    tall_count = _columns_that_fit(tall.column_widths(), width)
    if wide_count < len(wide.columns) and tall_count / len(tall.columns) > wide_count / len(wide.columns):
        chosen, count, corner = tall, tall_count, f"{tall.row_name} \\ {tall.column_name}"
    else:
        chosen, count, corner = wide, wide_count, wide.row_name
    table = Table(title=title, title_justify="left", min_width=min(len(title), width))
    table.add_column(corner)
    for column in chosen.columns[:count]:
        table.add_column(column, justify="right")
    for row in chosen.rows:
        table.add_row(*row[: count + 1])
    hidden = len(chosen.columns) - count
    if hidden:
        table.caption = f"{hidden} more {chosen.column_name} columns in {csv_name}"
    return table


def _columns_that_fit(widths: list[int], width: int) -> int:
    used = widths[0] + CELL_OVERHEAD + 1
    for count, column_width in enumerate(widths[1:]):
        used += column_width + CELL_OVERHEAD
        if used > width:
            return max(1, count)
    return len(widths) - 1


def _stranded_table(stranded: pd.DataFrame, money: MoneyUnit) -> Table:
    table = Table(title="Stranded capacity per scenario (peak over periods)", title_justify="left")
    for column in (
        "scenario",
        "probability",
        f"cost {money.label}",
        "idle chips",
        "idle PFLOPS share",
        "idle PFLOPS",
        "empty shell MW",
        f"stranded capital {money.label}",
        "unused take-or-pay GWh (total)",
    ):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for w, row in stranded.iterrows():
        table.add_row(
            literal(w),
            fmt(row["probability"], 3),
            money(row["cost_musd"]),
            fmt(row["idle_chips_peak"], 0),
            f"{100 * row['idle_pflops_share_peak']:.1f}%",
            fmt(row["idle_pflops_peak"], 0),
            fmt(row["empty_shell_mw_peak"], 1),
            money(row["stranded_capital_musd_peak"]),
            fmt(row["unused_take_or_pay_mwh_total"] / 1000, 1),
        )
    return table


IDLE_POWER_TITLE = "Contracted firm power left idle (an extension beyond stranded capacity)"


def _idle_power_table(by_scenario: pd.DataFrame, money: MoneyUnit) -> Table:
    """``idle_power.csv`` per scenario: the peak over periods of the idle firm MW (summed over
    sites) and the capacity charges paid for idle firm MW over the horizon."""
    table = Table(
        title=IDLE_POWER_TITLE, caption="capacity charges: total over the horizon, undiscounted",
        title_justify="left",
    )
    for column in ("scenario", "peak idle firm MW", f"capacity charges paid for it {money.label}"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for w, row in by_scenario.iterrows():
        table.add_row(
            literal(w), fmt(row["idle_firm_mw_peak"], 1), money(row["idle_capacity_charge_musd_total"])
        )
    return table


def _unpowered_table(by_scenario: pd.DataFrame, money: MoneyUnit) -> Table:
    """``unpowered_chips.csv`` per scenario: the peak over periods of the chips left unpowered
    (summed over sites and chips), their IT MW and their book value."""
    table = Table(
        title="Chips left unpowered (an extension)",
        caption="idle, out of the building and off firm power; peaks over periods;"
        " unpowered_chips.csv has them by period, site and chip",
        title_justify="left",
    )
    for column in ("scenario", "peak chips", "peak IT MW", f"peak book value {money.label}"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for w, row in by_scenario.iterrows():
        table.add_row(
            literal(w),
            fmt(row["unpowered_chips_peak"], 0),
            fmt(row["unpowered_it_mw_peak"], 1),
            money(row["book_value_musd_peak"]),
        )
    return table


def _risk_cell(metric: str, value: float, money: MoneyUnit) -> str:
    """A figure of ``risk.csv`` as printed: money in the run's unit, a share in % as in the
    stranded table above it (the CSV keeps the fraction)."""
    if "_musd" in metric:
        return money(value)
    if "_share" in metric:
        return "-" if math.isnan(value) else f"{100 * value:.1f}%"
    return fmt(value, 3)


def _risk_table(risk: pd.DataFrame, money: MoneyUnit) -> Table:
    """``risk.csv`` as printed: money in the run's one unit (``cost $B`` for ``cost_musd``), shares
    in %; of the worst value's scenarios, every one tied there (``scenarios_at_worst``), not only
    the first."""
    risk = risk.drop(columns="worst_scenario")
    table = Table(title="Risk over scenarios", title_justify="left")
    table.add_column("figure")
    for column in risk.columns:
        table.add_column(literal(column), justify="right")
    for metric, row in risk.iterrows():
        in_money = "_musd" in str(metric)
        label = str(metric).replace("_musd", "") + f" {money.label}" if in_money else str(metric)
        cells = [literal(v) if isinstance(v, str) else _risk_cell(str(metric), v, money) for v in row]
        table.add_row(literal(label), *cells)
    return table
