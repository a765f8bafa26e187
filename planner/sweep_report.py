"""Output of ``planner sweep``: the variants table, its CSV, the tornado chart, the console view."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from planner.markup import literal
from planner.money import MoneyUnit, fmt, money_unit
from planner.output import largest_mip_gap, range_holding, run_status, write_result_tables
from planner.plan import stages_proven
from planner.runfolder import RunFolder, safe_name
from planner.solve import PROVEN_GAP
from planner.sweep import BASE, PlanWriter, SweepTask, VariantOutcome

CAPEX_COMPONENTS = ("buildings_capex", "chips_capex", "power_capex")


VARIANT_COLUMNS = (
    "case",
    "group",
    "status",
    "objective_musd",
    "expected_cost_musd",
    "delta_musd",
    "delta_pct",
    "delta_low_musd",
    "delta_high_musd",
    "capex_musd",
    "energy_musd",
    "unmet_demand_musd",
    "salvage_musd",
    "stranded_capital_musd_peak_expected",
    "idle_pflops_share_peak_expected",
    "empty_shell_mw_peak_expected",
    "unused_take_or_pay_mwh_total_expected",
    "mip_gap",
    "within_mip_gap",
    "bound_musd",
    "fingerprint",
    "seconds",
    "error",
)
"""variants.csv's columns, the same whichever variants failed (a failed one has blanks)."""


def variants_table(outcomes: list[VariantOutcome]) -> pd.DataFrame:
    """One row per variant: objective, change against base, main cost and stranded figures."""
    base = next((o for o in outcomes if o.case == BASE and o.ok), None)
    base_objective = base.summary["objective_musd"] if base and base.summary else math.nan
    base_bound = _bound(base.summary) if base and base.summary else math.nan
    rows = []
    for o in outcomes:
        row: dict[str, object] = {
            "case": o.case,
            "group": o.group,
            "status": "failed",
            "objective_musd": math.nan,
        }
        if o.ok:
            s = o.summary
            assert s is not None  # set when the variant did not fail
            breakdown = s["cost_breakdown_musd"]
            risk = s["risk"]
            delta = s["objective_musd"] - base_objective
            low, high = (0.0, 0.0) if o is base else _delta_range(s, delta, base_objective, base_bound)
            row.update(
                status=run_status(s),
                objective_musd=s["objective_musd"],
                expected_cost_musd=s["expected_cost_musd"],
                delta_musd=delta,
                delta_pct=100 * delta / base_objective if base_objective else math.nan,
                delta_low_musd=low,
                delta_high_musd=high,
                capex_musd=sum(breakdown[c] for c in CAPEX_COMPONENTS),
                energy_musd=breakdown["energy"],
                unmet_demand_musd=breakdown["unmet_demand"],
                salvage_musd=breakdown["salvage"],
                stranded_capital_musd_peak_expected=risk["stranded_capital_musd_peak"]["expected"],
                idle_pflops_share_peak_expected=risk["idle_pflops_share_peak"]["expected"],
                empty_shell_mw_peak_expected=risk["empty_shell_mw_peak"]["expected"],
                unused_take_or_pay_mwh_total_expected=risk["unused_take_or_pay_mwh_total"]["expected"],
                mip_gap=largest_mip_gap(s),
                within_mip_gap=s["within_mip_gap"],
                bound_musd=s["bound_musd"],
                fingerprint=s["fingerprint"],
            )
        row["seconds"] = o.seconds
        row["error"] = o.error or ""
        rows.append(row)
    return pd.DataFrame(rows, columns=list(VARIANT_COLUMNS))


def _delta_range(
    summary: dict[str, Any], delta: float, base_objective: float, base_bound: float
) -> tuple[float, float]:
    """Where the change of the optima lies, given both solves' bounds (a MIP stopped at its gap,
    or at a time limit): from this bound less base's plan to this plan less base's bound. NaN
    when either solve has no finite bound."""
    low, high = _bound(summary) - base_objective, summary["objective_musd"] - base_bound
    if math.isnan(low) or math.isnan(high):
        return math.nan, math.nan
    return range_holding(delta, low, high)


def _bound(summary: dict[str, Any]) -> float:
    """The solve's bound on its objective; NaN when HiGHS had no finite one, or when an earlier
    step stopped short of its optimum (plan-on-mean's mean-demand MIP: another plan it could have
    fixed would cost another amount, which no bound of the second solve covers)."""
    bound = summary["bound_musd"]
    return math.nan if bound is None or not stages_proven(summary.get("stages") or []) else float(bound)


PLANS = "plans"
"""The run-folder subfolder holding one folder of result tables per solved variant."""


def variant_plan_writer(folder: RunFolder, tasks: list[SweepTask]) -> PlanWriter:
    """Writes a solved variant's tables into ``plans/<n>-<variant>/``, as a solve folder has them:
    numbered in sweep order, so that names differing only in characters a file name cannot hold
    stay apart."""
    folders = plan_folder_names([task.name for task in tasks])

    def write(outcome: VariantOutcome) -> None:
        assert outcome.results is not None  # run_sweep calls it for solved variants only
        plan = f"{PLANS}/{folders[outcome.case]}/"
        write_result_tables(folder, outcome.results, prefix=plan)
        folder.write_json(f"{plan}summary.json", outcome.summary)

    return write


def plan_folder_names(names: list[str]) -> dict[str, str]:
    """``<n>-<variant>`` per variant, in sweep order, the numbers zero-padded to the widest so that
    the folders sort in that order."""
    width = len(str(max(len(names) - 1, 0)))
    return {name: f"{i:0{width}d}-{safe_name(name)[:80]}" for i, name in enumerate(names)}


def write_sweep(folder: RunFolder, table: pd.DataFrame) -> None:
    from planner.charts import plot_tornado, write_html

    # The contract's table has each variant's time; timings.csv has it too, as compare's folder does.
    folder.write_table("timings", table[["case", "seconds"]])
    folder.write_table("variants", table)
    base = table.loc[table["case"] == BASE, "objective_musd"]
    base_objective = float(base.iloc[0]) if len(base) else math.nan
    money = sweep_money_unit(table)
    chart = plot_tornado(table[table["case"] != BASE], base_objective, folder.file("tornado.png"), money)
    write_html(folder.file("index.html"), "planner sweep", [("Tornado", chart), ("Variants", table)])


MONEY_COLUMNS = (
    "objective_musd",
    "delta_musd",
    "capex_musd",
    "energy_musd",
    "stranded_capital_musd_peak_expected",
)
"""The money a sweep shows: its unit is set by the largest of them."""


def sweep_money_unit(table: pd.DataFrame) -> MoneyUnit:
    """One unit for the sweep's console table and its tornado: the largest money figure shown."""
    return money_unit(*[float(v) for column in MONEY_COLUMNS if column in table for v in table[column]])


def render_sweep(table: pd.DataFrame, console: Console, run_dir: str) -> None:
    money = sweep_money_unit(table)
    unit = money.label
    view = Table(
        title="Sweep variants (money discounted and expected over scenarios; a risk-averse model's"
        " objective adds weight x CVaR)",
        title_justify="left",
    )
    for column in (
        "case",
        "group",
        "status",
        f"objective {unit}",
        f"vs base {unit}",
        "vs base %",
        f"capex {unit}",
        f"energy {unit}",
        f"stranded cap. {unit} (exp. peak)",
        "gap %",
        "s",
    ):
        view.add_column(column, justify="left" if column in ("case", "group", "status") else "right")
    for row in table.to_dict(orient="records"):
        if row["status"] == "failed":
            name, group = literal(row["case"]), literal(row["group"])
            view.add_row(name, group, "[red]failed[/]", *["-"] * 7, fmt(row["seconds"], 1))
            continue

        view.add_row(
            literal(row["case"]),
            literal(row["group"]),
            row["status"],
            money(row["objective_musd"]),
            money(row["delta_musd"]),
            fmt(row["delta_pct"], 2),
            money(row["capex_musd"]),
            money(row["energy_musd"]),
            money(row["stranded_capital_musd_peak_expected"]),
            fmt(100 * row["mip_gap"], 3) if row["mip_gap"] is not None else "-",
            fmt(row["seconds"], 1),
        )
    console.print(view)
    # A range of round-off around 0 (a proven optimum's bound a hair off its plan) is no doubt.
    round_off = PROVEN_GAP * max(1.0, abs(table["objective_musd"]).max())
    unsure = table[(table["delta_low_musd"] < -round_off) & (table["delta_high_musd"] > round_off)]
    if len(unsure):
        ranges = "; ".join(
            f"{row['case']} between {money(row['delta_low_musd'])} and {money(row['delta_high_musd'])}"
            for row in unsure.to_dict(orient="records")
        )
        console.print(
            f"Within the solves' MIP gaps the change against base may have either sign ({unit}): {ranges}"
            " (every variant's range: delta_low_musd, delta_high_musd in variants.csv)",
            highlight=False,
            markup=False,
        )
    for row in table[table["status"] == "failed"].to_dict(orient="records"):
        console.print(f"[red]{literal(row['case'])} failed:[/]", highlight=False)
        console.print(row["error"], highlight=False, markup=False)
    plans = f", {PLANS}/ (each variant's tables)" if (Path(run_dir) / PLANS).is_dir() else ""
    console.print(f"Run folder: [bold]{literal(run_dir)}[/] (variants.csv, tornado.png{plans})")


def variant_warnings(outcomes: list[VariantOutcome], said: list[str]) -> dict[str, list[str]]:
    """Each solved variant's warnings (its inputs, and a frozen plan's fit to them) that the run
    has not already given for the base case (``said``), by variant."""
    found = {
        o.case: [w for w in (o.summary or {}).get("warnings") or [] if w not in said] for o in outcomes
    }
    return {variant: items for variant, items in found.items() if items}
