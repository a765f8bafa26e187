"""A solved plan as data: the JSON summary and the files of its run folder."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import pandas as pd

from planner.case import Case
from planner.config import ModelConfig
from planner.json_text import finite_or_none as _finite
from planner.plan import PlanResult
from planner.results import Results
from planner.runfolder import RunFolder
from planner.unpowered import unpowered_by_scenario


def plan_summary(
    result: PlanResult, run_dir: str | None, warnings: list[str] | None = None
) -> dict[str, Any]:
    """The ``--json`` object of ``planner solve`` (also ``summary.json`` in the run folder), with
    the case's ``warnings`` when given (a solve in a compare or sweep worker has none to give)."""
    outcome = result.outcome
    res = result.results
    summary = {
        "case": result.case.name,
        "model": result.config.name,
        "policy": result.config.policy,
        "integer": result.config.integer,
        "status": outcome.status,
        "proven_optimal": result.proven_optimal,
        "within_mip_gap": result.within_mip_gap,
        "mip_gap_asked": result.config.solver.mip_gap if result.config.integer else None,
        "objective_musd": _finite(result.objective_musd),
        "expected_cost_musd": _finite(result.expected_cost_musd),
        "cvar_musd": _finite(result.cvar_musd),
        "cvar_alpha": result.config.cvar.alpha,
        "cvar_weight": result.config.cvar.weight,
        "mip_gap": _finite(outcome.mip_gap),
        "bound_musd": _finite(outcome.bound_musd),
        "build_seconds": result.build_seconds,
        "load_seconds": outcome.load_seconds,
        "solve_seconds": result.solve_seconds,
        "rows": outcome.rows,
        "columns": outcome.columns,
        "nonzeros": outcome.nonzeros,
        "integer_columns": outcome.integer_columns,
        "rescaled": outcome.rescaled,
        "warm_start": outcome.warm_start,
        "cost_breakdown_musd": res.expected_breakdown_musd,
        "cost_by_scenario_musd": _numbers_by_row(res.cost_by_scenario.iloc[:-1]),
        "stranded": _numbers_by_row(res.stranded_by_scenario),
        "risk": {
            metric: {k: (v if isinstance(v, str) else float(v)) for k, v in row.items()}
            for metric, row in res.risk.to_dict(orient="index").items()
        },
        "stages": result.stages,
        "fixed_plan": result.fixed_plan,
        "fingerprint": result.case.fingerprint,
        # Which optimum HiGHS returns among equal-cost plans, and how fast, depends on its version.
        "solver": f"HiGHS {version('highspy')}",
        "run_dir": run_dir,
    }
    if res.unpowered_chips is not None:
        peaks = unpowered_by_scenario(res.unpowered_chips, result.case.scenarios)
        summary["unpowered_chips"] = _numbers_by_row(peaks)
    if warnings is not None:
        summary["warnings"] = warnings
    return summary


def _numbers_by_row(table: pd.DataFrame) -> dict[Any, dict[str, float]]:
    """``{row label: {column: value}}`` of an all-numbers table, as JSON takes it."""
    rows = table.to_dict(orient="index")
    return {label: {str(k): float(v) for k, v in row.items()} for label, row in rows.items()}


def run_status(summary: dict[str, Any]) -> str:
    """A run's status: its final solve's, unless an earlier one (plan-on-mean's mean-demand MIP)
    ended otherwise, e.g. at its time limit: then the plan rests on that step's best plan."""
    earlier = [stage["status"] for stage in summary.get("stages") or [] if stage["status"] != "optimal"]
    status: str = summary["status"]
    return earlier[0] if status == "optimal" and earlier else status


def largest_mip_gap(summary: dict[str, Any]) -> float | None:
    """The largest MIP gap of a run's solves (None when none reports one): plan-on-mean's second
    solve is exact once the long-lead plan is fixed, but that plan comes from its mean-demand MIP,
    stopped at its own gap, which its final gap alone would hide."""
    gaps = [summary["mip_gap"], *(stage["mip_gap"] for stage in summary.get("stages", []))]
    known = [gap for gap in gaps if gap is not None]
    return max(known) if known else None


def range_holding(point: float, low: float, high: float) -> tuple[float, float]:
    """``(low, high)`` widened to hold ``point``: a bound a round-off above its plan (3e-14 on
    small cases) must not put a figure outside its own range."""
    return min(low, high, point), max(low, high, point)


def write_plan(folder: RunFolder, result: PlanResult, warnings: list[str], final_dir: str) -> None:
    """Every result table as CSV, the summary, the model settings and the inputs' fingerprint."""
    write_result_tables(folder, result.results)
    folder.write_json("summary.json", plan_summary(result, final_dir, warnings))
    write_inputs_record(folder, result.case, [result.config], warnings)


INDEXED_TABLES = (
    "cost_by_scenario",
    "stranded_by_scenario",
    "risk",
    "capex_by_period",
    "cost_shares",
    "opex_by_period",
)
"""Result tables whose index is a column of their own (scenario, metric, period)."""


def write_result_tables(folder: RunFolder, results: Results, suffix: str = "", prefix: str = "") -> None:
    """Every result table as ``<prefix><table><suffix>.csv`` (``compare`` gives each strategy its
    suffix, ``sweep`` each variant its subfolder as prefix)."""
    for name, table in results.tables().items():
        folder.write_table(f"{prefix}{name}{suffix}", table, index=name in INDEXED_TABLES)


def write_inputs_record(
    folder: RunFolder, case: Case, configs: list[ModelConfig], warnings: list[str]
) -> None:
    """What a run was made of: the model settings (``model.json``, or ``models.json`` by name when
    there are several), the fingerprint of the case's inputs and its warnings (``warnings.txt``)."""
    if len(configs) == 1:
        folder.write_json("model.json", configs[0].model_dump())
    else:
        folder.write_json("models.json", {config.name: config.model_dump() for config in configs})
    folder.write_text("inputs_fingerprint.txt", f"sha256 {case.fingerprint}\n")
    if warnings:
        folder.write_text("warnings.txt", "\n".join(warnings) + "\n")
