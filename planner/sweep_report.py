"""Output of ``planner sweep``: the variants table, its CSV, the tornado chart, the console view.
A sweep under several models adds the strategies table (:mod:`planner.sweep_strategies`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from planner.markup import literal
from planner.money import MoneyUnit, fmt, money_unit
from planner.output import largest_mip_gap, range_holding, run_status, write_result_tables
from planner.plan import stages_proven
from planner.runfolder import MAX_NAME_BYTES, RunFolder, safe_name
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

REPLAN_COLUMNS = (
    "replanned_status",
    "replanned_objective_musd",
    "replanned_bound_musd",
    "regret_musd",
    "regret_low_musd",
    "regret_high_musd",
    "replanned_error",
)
"""What ``--replan`` adds to variants.csv, after :data:`VARIANT_COLUMNS`: each variant's free re-plan
under the same model, and the regret of the frozen plan (its objective less the re-plan's) with the
range both solves' bounds leave it."""
REPLANNED_SECONDS = "replanned_seconds"
"""The re-plan's solve time: in the table for timings.csv, not in variants.csv."""


def variants_table(outcomes: list[VariantOutcome]) -> pd.DataFrame:
    """One row per variant: objective, change against base, main cost and stranded figures."""
    base = next((o for o in outcomes if o.case == BASE and o.ok), None)
    base_objective = base.summary["objective_musd"] if base and base.summary else math.nan
    base_bound = objective_bound(base.summary) if base and base.summary else math.nan
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
            low, high = (0.0, 0.0) if o is base else delta_range(s, delta, base_objective, base_bound)
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
        if o.replan is not None:
            row |= regret_figures(o, o.replan)
        rows.append(row)
    replanned = any(o.replan is not None for o in outcomes)
    extra = [*REPLAN_COLUMNS, REPLANNED_SECONDS] if replanned else []
    return pd.DataFrame(rows, columns=[*VARIANT_COLUMNS, *extra])


def regret_figures(frozen: VariantOutcome, replan: VariantOutcome) -> dict[str, object]:
    """A frozen plan's solve against its free re-plan (same variant, same model, so the same kind
    of objective): the re-plan's status, objective and bound, and the regret, the frozen objective
    less the re-planned one, with the range the difference of the two optima lies in given both
    bounds (as a change against base: frozen bound - re-planned plan to frozen plan - re-planned
    bound). The regret is blank when either solve failed, its range also without a finite bound."""
    row: dict[str, object] = {
        "replanned_status": "failed",
        "replanned_objective_musd": math.nan,
        "replanned_bound_musd": math.nan,
        "regret_musd": math.nan,
        "regret_low_musd": math.nan,
        "regret_high_musd": math.nan,
        "replanned_error": replan.error or "",
        REPLANNED_SECONDS: replan.seconds,
    }
    if replan.summary is None:
        return row
    objective = replan.summary["objective_musd"]
    row.update(
        replanned_status=run_status(replan.summary),
        replanned_objective_musd=objective,
        replanned_bound_musd=replan.summary["bound_musd"],
    )
    if frozen.summary is not None:
        regret = frozen.summary["objective_musd"] - objective
        low, high = delta_range(frozen.summary, regret, objective, objective_bound(replan.summary))
        row.update(regret_musd=regret, regret_low_musd=low, regret_high_musd=high)
    return row


def delta_range(
    summary: dict[str, Any], delta: float, base_objective: float, base_bound: float
) -> tuple[float, float]:
    """Where the change of the optima lies, given both solves' bounds (a MIP stopped at its gap,
    or at a time limit): from this bound less base's plan to this plan less base's bound. NaN
    when either solve has no finite bound."""
    low, high = objective_bound(summary) - base_objective, summary["objective_musd"] - base_bound
    if math.isnan(low) or math.isnan(high):
        return math.nan, math.nan
    return range_holding(delta, low, high)


def objective_bound(summary: dict[str, Any]) -> float:
    """The solve's bound on its objective; NaN when HiGHS had no finite one, or when an earlier
    step stopped short of its optimum (plan-on-mean's mean-demand MIP: another plan it could have
    fixed would cost another amount, which no bound of the second solve covers)."""
    bound = summary["bound_musd"]
    return math.nan if bound is None or not stages_proven(summary.get("stages") or []) else float(bound)


PLANS = "plans"
"""The run-folder subfolder holding one folder of result tables per solved variant."""
REPLANNED_FOLDER = "-replanned"
"""After a variant's plan folder's name, its free re-plan's (``<n>-<variant>-replanned``): the number
keeps it apart from every other variant's folder."""


def variant_plan_writer(folder: RunFolder, tasks: list[SweepTask], per_model: bool = False) -> PlanWriter:
    """Writes a solved variant's tables into ``plans/<n>-<variant>/`` (``plans/<model>/<n>-<variant>/``
    ``per_model``: a sweep of several models), as a solve folder has them: numbered in sweep order,
    so that names differing only in characters a file name cannot hold stay apart. A re-plan
    (``--replan``) goes to ``<n>-<variant>-replanned/`` beside it."""
    folders = plan_folder_names([task.name for task in tasks])

    def write(outcome: VariantOutcome) -> None:
        assert outcome.results is not None  # run_sweep calls it for solved variants only
        model = f"{outcome.model}/" if per_model else ""  # a model's name is safe in file names
        replanned = REPLANNED_FOLDER if outcome.replanned else ""
        plan = f"{PLANS}/{model}{folders[outcome.case]}{replanned}/"
        write_result_tables(folder, outcome.results, prefix=plan)
        folder.write_json(f"{plan}summary.json", outcome.summary)

    return write


def plan_folder_names(names: list[str]) -> dict[str, str]:
    """``<n>-<variant>`` per variant, in sweep order, the numbers zero-padded to the widest so that
    the folders sort in that order. The variant's part leaves room for the number and a re-plan's
    :data:`REPLANNED_FOLDER`; names cut alike stay apart by their numbers."""
    width = len(str(max(len(names) - 1, 0)))
    part_bytes = MAX_NAME_BYTES - width - len("-") - len(REPLANNED_FOLDER)  # digits, "-": a byte each
    return {name: f"{i:0{width}d}-{safe_name(name, part_bytes)}" for i, name in enumerate(names)}


def outcomes_by_model(outcomes: list[VariantOutcome]) -> dict[str, list[VariantOutcome]]:
    """The outcomes of each model, in the order they come (``run_sweep``: model by model)."""
    by_model: dict[str, list[VariantOutcome]] = {}
    for outcome in outcomes:
        by_model.setdefault(outcome.model, []).append(outcome)
    return by_model


def variants_tables(outcomes: list[VariantOutcome]) -> dict[str, pd.DataFrame]:
    """Each model's variants table, against that model's own base, by model."""
    return {model: variants_table(group) for model, group in outcomes_by_model(outcomes).items()}


def variants_csv(tables: Mapping[str, pd.DataFrame], replanned_seconds: bool = False) -> pd.DataFrame:
    """variants.csv: one model's table as it is (the v1 contract's columns); several models' one
    after the other, with a first column ``model``. ``replanned_seconds``: each re-plan's solve time
    too, at the end (``--json``'s records carry it as they carry ``seconds``; the file leaves it to
    timings.csv, so that ``seconds`` stays its only column that differs between runs of one input)."""
    wanted = (*VARIANT_COLUMNS, *REPLAN_COLUMNS, *((REPLANNED_SECONDS,) if replanned_seconds else ()))
    columns = [c for c in wanted if c in next(iter(tables.values()))]
    if len(tables) == 1:
        return next(iter(tables.values()))[columns]
    parts = [table.assign(model=model)[["model", *columns]] for model, table in tables.items()]
    return pd.concat(parts, ignore_index=True)


def tornado_file(model: str, several: bool) -> str:
    """``tornado.png``; ``tornado-<model>.png`` in a sweep of several models."""
    return f"tornado-{model}.png" if several else "tornado.png"


def write_sweep(
    folder: RunFolder, tables: Mapping[str, pd.DataFrame], strategies: pd.DataFrame | None = None
) -> None:
    """variants.csv, timings.csv, a tornado chart per model and index.html; ``strategies``
    (several models) as strategies.csv, first on the page."""
    from planner.charts import write_html

    table = variants_csv(tables)
    keys = ["model", "case"] if len(tables) > 1 else ["case"]
    # The contract's table has each variant's time; timings.csv has it too, as compare's folder does,
    # and each re-plan's (--replan).
    timings = pd.concat([t.assign(model=m) for m, t in tables.items()], ignore_index=True)
    seconds = [c for c in ("seconds", REPLANNED_SECONDS) if c in timings]
    folder.write_table("timings", timings[[*keys, *seconds]])
    folder.write_table("variants", table)
    sections: list[tuple[str, str | Path | pd.DataFrame]] = []
    if strategies is not None:
        folder.write_table("strategies", strategies)
        sections.append(("Strategies", strategies))
    sections += _tornadoes(folder, tables, sweep_money_unit(table))
    write_html(folder.file("index.html"), "planner sweep", [*sections, ("Variants", table)])


def _tornadoes(
    folder: RunFolder, tables: Mapping[str, pd.DataFrame], money: MoneyUnit
) -> list[tuple[str, str | Path | pd.DataFrame]]:
    """One tornado chart per model, each against its own base, all in one money unit."""
    from planner.charts import plot_tornado

    several = len(tables) > 1
    charts: list[tuple[str, str | Path | pd.DataFrame]] = []
    for model, table in tables.items():
        base = table.loc[table["case"] == BASE, "objective_musd"]
        base_objective = float(base.iloc[0]) if len(base) else math.nan
        path = folder.file(tornado_file(model, several))
        variants = table[table["case"] != BASE]
        chart = plot_tornado(variants, base_objective, path, money, model if several else "")
        charts.append((f"Tornado: {model}" if several else "Tornado", chart))
    return charts


MONEY_COLUMNS = (
    "objective_musd",
    "replanned_objective_musd",
    "regret_musd",
    "delta_musd",
    "capex_musd",
    "energy_musd",
    "stranded_capital_musd_peak_expected",
)
"""The money a sweep shows: its unit is set by the largest of them."""


def sweep_money_unit(table: pd.DataFrame) -> MoneyUnit:
    """One unit for the sweep's console table and its tornado: the largest money figure shown."""
    return money_unit(*[float(v) for column in MONEY_COLUMNS if column in table for v in table[column]])


MONEY_NOTE = (
    "money discounted and expected over scenarios; a risk-averse model's objective adds weight x CVaR"
)


def render_sweep(table: pd.DataFrame, console: Console, run_dir: str) -> None:
    money = sweep_money_unit(table)
    console.print(variants_view(table, money, f"Sweep variants ({MONEY_NOTE})"))
    print_unsure_changes(table, money, console)
    print_negative_regrets(table, money, console)
    print_failures(table, console)
    print_run_folder(console, run_dir, "variants.csv, tornado.png")


def variants_view(table: pd.DataFrame, money: MoneyUnit, title: str) -> Table:
    """One model's variants table as the console shows it; with ``--replan``, each variant's
    re-planned objective (its status when not optimal) and the frozen plan's regret after the
    objective."""
    unit = money.label
    replanned = "regret_musd" in table
    view = Table(title=title, title_justify="left")
    for column in (
        "case",
        "group",
        "status",
        f"objective {unit}",
        *((f"re-planned {unit}", f"regret {unit}") if replanned else ()),
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
        failed = row["status"] == "failed"
        regret = []
        if replanned:
            regret = [
                status_money_cell(row["replanned_status"], row["replanned_objective_musd"], money),
                money(row["regret_musd"]),
            ]
        if failed:
            figures = ["-"] * 6
        else:
            figures = [
                money(row["delta_musd"]),
                fmt(row["delta_pct"], 2),
                money(row["capex_musd"]),
                money(row["energy_musd"]),
                money(row["stranded_capital_musd_peak_expected"]),
                fmt(100 * row["mip_gap"], 3) if row["mip_gap"] is not None else "-",
            ]
        view.add_row(
            literal(row["case"]),
            literal(row["group"]),
            "[red]failed[/]" if failed else row["status"],
            "-" if failed else money(row["objective_musd"]),
            *regret,
            *figures,
            fmt(row["seconds"], 1),
        )
    return view


def status_money_cell(status: object, value: object, money: MoneyUnit) -> str:
    """A solve's money figure as the console shows it: "failed" in red, else the figure ("-" when
    blank) with the solve's status beside it when not optimal."""
    if status == "failed":
        return "[red]failed[/]"
    number = float(value) if isinstance(value, int | float) else math.nan
    cell = money(number) if math.isfinite(number) else "-"
    return cell if status == "optimal" else f"{cell} ({literal(str(status))})"


def print_unsure_changes(table: pd.DataFrame, money: MoneyUnit, console: Console, model: str = "") -> None:
    """The variants whose change against base may have either sign within the MIP gaps."""
    under = f" under {model}" if model else ""
    print_either_sign(
        console,
        table,
        ("delta_low_musd", "delta_high_musd"),
        money,
        f"the change against base{under}",
        "every variant's range: delta_low_musd, delta_high_musd in variants.csv",
    )


def print_either_sign(
    console: Console,
    table: pd.DataFrame,
    low_high: tuple[str, str],
    money: MoneyUnit,
    what: str,
    where: str,
) -> None:
    """Names the rows whose range (``low_high`` columns) holds both signs: ``what`` (a change, a
    difference) may be either way within the solves' MIP gaps. ``where``: the columns to read."""
    low, high = low_high
    objectives = table[[c for c in table.columns if c.startswith("objective_musd")]]
    # A range of round-off around 0 (a proven optimum's bound a hair off its plan) is no doubt.
    round_off = PROVEN_GAP * max(1.0, abs(objectives).max().max())
    unsure = table[(table[low] < -round_off) & (table[high] > round_off)]
    if not len(unsure):
        return
    ranges = "; ".join(
        f"{row['case']} between {money(row[low])} and {money(row[high])}"
        for row in unsure.to_dict(orient="records")
    )
    console.print(
        f"Within the solves' MIP gaps {what} may have either sign ({money.label}): {ranges} ({where})",
        highlight=False,
        markup=False,
    )


def print_failures(table: pd.DataFrame, console: Console) -> None:
    """Each failed variant's reason; one that failed alike under several models (an edit that
    cannot be applied) once, naming them. A re-plan's (``--replan``) that failed for another reason
    than its frozen solve (an edit that failed fails both: said once) is said as the re-plan's."""
    reasons: dict[tuple[str, str, str], list[str]] = {}
    for row in table.to_dict(orient="records"):
        if row["status"] == "failed":
            reasons.setdefault((row["case"], "", row["error"]), []).append(row.get("model", ""))
        if row.get("replanned_status") == "failed" and row["replanned_error"] != row["error"]:
            reasons.setdefault((row["case"], " re-planned", row["replanned_error"]), []).append(
                row.get("model", "")
            )
    for (case, which, error), models in reasons.items():
        under = f" under {', '.join(models)}" if any(models) else ""
        console.print(f"[red]{literal(case)}{which} failed{literal(under)}:[/]", highlight=False)
        console.print(error, highlight=False, markup=False)


def print_negative_regrets(table: pd.DataFrame, money: MoneyUnit, console: Console, model: str = "") -> None:
    """The variants where the frozen plan cost less than its re-plan (``--replan``), beyond
    round-off. Where the plan is one the model could choose itself, the frozen problem is a
    restriction of the free one and the regret is at least 0 between the optima: a negative one
    inside the MIP gaps (a regret range that holds 0, or no range) is a re-plan stopped at its gap
    with a dearer plan than the frozen one. One whose whole range is below 0 is a plan the model
    cannot choose: decisions in periods its policy does not take them in (all-at-once builds and
    signs in the first period only, a phased plan has later ones), or parts of modules or of
    indivisible contracts (a plan from an LP run)."""
    if "regret_musd" not in table:
        return
    objectives = table[["objective_musd", "replanned_objective_musd"]]
    round_off = PROVEN_GAP * max(1.0, float(abs(objectives).max().max(skipna=True) or 0.0))
    negative = table[table["regret_musd"] < -round_off]
    beyond = negative["regret_high_musd"] < -round_off
    under = f" under {model}" if model else ""

    def listed(rows: pd.DataFrame) -> str:
        return "; ".join(
            f"{row['case']} {money(row['regret_musd'])}"
            + (
                f" (between {money(row['regret_low_musd'])} and {money(row['regret_high_musd'])})"
                if math.isfinite(row["regret_high_musd"])
                else " (no range: a solve without a finite bound)"
            )
            for row in rows.to_dict(orient="records")
        )

    if (~beyond).any():
        console.print(
            f"Negative regret{under} within the solves' MIP gaps ({money.label}):"
            f" {listed(negative[~beyond])}."
            " Either the re-plan stopped at its MIP gap or time limit with a plan dearer than the frozen"
            " one (a smaller --mip-gap or a longer --time-limit narrows it), or the frozen plan is one the"
            " model cannot choose itself (decisions in periods its policy does not take them in, or parts"
            " of modules from an LP run).",
            highlight=False,
            markup=False,
        )
    if beyond.any():
        console.print(
            f"The frozen plan costs less than re-planning{under} beyond both solves' MIP gaps"
            f" ({money.label}): {listed(negative[beyond])}. The model cannot choose that plan itself:"
            " it decides in periods the model's policy does not (all-at-once builds and signs in the"
            " first period only), or holds parts of modules or of indivisible contracts (a plan from an"
            " LP run).",
            highlight=False,
            markup=False,
        )


def print_run_folder(console: Console, run_dir: str, files: str) -> None:
    """The run folder and its main ``files``, and plans/ when written."""
    plans = f", {PLANS}/ (each variant's tables)" if (Path(run_dir) / PLANS).is_dir() else ""
    console.print(f"Run folder: [bold]{literal(run_dir)}[/] ({literal(files)}{plans})")


def variant_warnings(outcomes: list[VariantOutcome], said: list[str]) -> dict[str, list[str]]:
    """Each solved variant's warnings (its inputs, and a frozen plan's fit to them; its re-plan's
    too, with ``--replan``, each once) that the run has not already given for the base case
    (``said``), by variant."""

    def given(outcome: VariantOutcome | None) -> list[str]:
        return ((outcome.summary if outcome else None) or {}).get("warnings") or []

    found = {
        o.case: [w for w in dict.fromkeys([*given(o), *given(o.replan)]) if w not in said] for o in outcomes
    }
    return {variant: items for variant, items in found.items() if items}


VariantWarnings = dict[str, list[str]] | dict[str, dict[str, list[str]]]
"""By variant; by model, then variant, in a sweep of several models."""


def sweep_warnings(outcomes: list[VariantOutcome], said: list[str]) -> VariantWarnings:
    """:func:`variant_warnings`, by model when the sweep ran several."""
    by_model = outcomes_by_model(outcomes)
    if len(by_model) == 1:
        return variant_warnings(outcomes, said)
    found = {model: variant_warnings(group, said) for model, group in by_model.items()}
    return {model: items for model, items in found.items() if items}


def warnings_by_variant(said: VariantWarnings) -> list[tuple[str, list[str]]]:
    """``(who, warnings)``: who is the variant, or ``<variant> under <model>, <model>...`` by model
    (the models that gave the variant the same warnings, once: most come from its edited case)."""
    models: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for key, value in said.items():
        if isinstance(value, dict):  # by model, then variant
            for variant, items in value.items():
                models.setdefault((variant, tuple(items)), []).append(key)
        else:
            models.setdefault((key, tuple(value)), [])
    return [
        (f"{variant} under {', '.join(names)}" if names else variant, list(items))
        for (variant, items), names in models.items()
    ]
