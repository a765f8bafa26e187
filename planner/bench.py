"""``planner bench``: generate a synthetic case of a given size, solve it, and time every step.

The case is written as an ordinary case folder inside the run folder (``<run>/case``) and read
back with the loader, so the benchmark goes through exactly the path of a user's case and the
folder it leaves behind can be solved again with ``planner solve <run>/case``.
"""

from __future__ import annotations

import math
import os
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from planner.config import ModelConfig
from planner.errors import InputError, Problem
from planner.json_text import finite_or_none as _finite
from planner.loader import load_case
from planner.markup import print_warnings
from planner.money import money_unit
from planner.output import write_plan
from planner.plan import PlanResult, solve_case
from planner.runfolder import RunFolder
from planner.synthetic import check_size, size_label, synthetic_case_files, write_case

MIP_TIME_LIMIT_S = 180.0
"""A benchmarked MIP stops after 3 minutes (the scale target's budget) unless told otherwise."""


def bench_config(config: ModelConfig) -> ModelConfig:
    """``config`` with the benchmark's default time limit for MIPs when it sets none; under a
    time limit the automatic warm start (:meth:`SolverSettings.warm_start_seconds`) applies."""
    if config.integer and config.solver.time_limit_s is None:
        return config.with_overrides(time_limit_s=MIP_TIME_LIMIT_S)
    return config


@dataclass(frozen=True)
class BenchSize:
    """The arguments of :func:`planner.synthetic.synthetic_case_files`."""

    sites: int = 20
    chips: int = 8
    periods: int = 40
    quarters: bool = True
    workloads: int = 2
    branching: int = 3
    stages: int = 2
    seed: int = 0

    @property
    def label(self) -> str:
        return size_label(
            self.sites, self.chips, self.periods, self.quarters, self.workloads, self.branching, self.stages
        )


MIN_BYTES_PER_RUN_COLUMN = 4096
"""Memory a model needs at least per chip-dispatch column (``run``, the largest family): the
default bench LP peaks at 562 MiB for 115,200 of them (132,441 columns in all)."""


def physical_memory_bytes() -> int | None:
    """This machine's physical memory, where the OS says (POSIX); else None."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def check_fits_in_memory(size: BenchSize, memory_bytes: int | None) -> None:
    """Refuse a size whose model cannot fit in memory before generating anything: a million
    scenarios would otherwise fill the memory for minutes and end in a MemoryError or the OS's
    out-of-memory kill, with no word to the user."""
    columns_per_scenario = size.periods * size.sites * size.chips * size.workloads
    # Compared in logarithms: branching ** stages may have millions of digits.
    log10_scenarios = size.stages * math.log10(size.branching)
    log10_need = log10_scenarios + math.log10(columns_per_scenario * MIN_BYTES_PER_RUN_COLUMN)
    if memory_bytes is None or log10_need <= math.log10(memory_bytes):
        return
    if log10_scenarios < READABLE_DIGITS:
        scenarios = size.branching**size.stages
        run_columns = scenarios * columns_per_scenario
        gib = run_columns * MIN_BYTES_PER_RUN_COLUMN / 2**30
        counts: tuple[str, ...] = f"{scenarios:,}", f"{run_columns:,}", f"{gib:,.1f}"
    else:
        log10_columns = log10_scenarios + math.log10(columns_per_scenario)
        log10_gib = log10_need - 30 * math.log10(2)
        counts = tuple(_power_of_ten(x) for x in (log10_scenarios, log10_columns, log10_gib))
    expected = (
        f"a case that fits in this machine's memory: {counts[0]} scenarios x "
        f"{size.periods} periods x {size.sites} sites x {size.chips} chips x {size.workloads} workloads "
        f"= {counts[1]} chip-dispatch columns need at least {counts[2]} GiB "
        f"({MIN_BYTES_PER_RUN_COLUMN // 1024} KiB each), and this machine has {memory_bytes / 2**30:,.1f} GiB"
    )
    raise InputError([Problem("bench size", None, None, size.label, expected)])


READABLE_DIGITS = 30
"""Scenario counts up to this many digits are written out in full."""


def _power_of_ten(log10_n: float) -> str:
    exponent = math.floor(log10_n)
    return f"about {10 ** (log10_n - exponent):.1f}e{exponent}"


def peak_rss_mib() -> float:
    """High-water mark of this process's resident memory (``ru_maxrss``: KiB on Linux, bytes on
    macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def run_bench(size: BenchSize, config: ModelConfig, run_folder: Callable[[], RunFolder]) -> dict[str, Any]:
    """Generate, write, read back, build and solve; the figures (also ``bench.json`` in the run
    folder ``run_folder()`` opens, next to ``case/`` and ``solver.log``)."""
    started = time.perf_counter()
    try:
        check_size(size.sites, size.chips, size.periods, size.workloads, size.branching, size.stages)
    except ValueError as exc:
        raise InputError([Problem("bench size", None, None, size.label, str(exc))]) from exc
    check_fits_in_memory(size, physical_memory_bytes())
    files = synthetic_case_files(**asdict(size))
    with run_folder() as folder:
        final_dir = folder.final
        write_case(folder.file("case"), files)
        generated = time.perf_counter()
        case, warnings = load_case(folder.file("case"))
        read = time.perf_counter()
        result = solve_case(case, config, log_file=folder.file("solver.log"))
        solved = time.perf_counter()
        outcome = result.outcome
        tree = result.planning_model.sets.info_tree
        solve_case_seconds = solved - read
        figures = {
            "size": asdict(size),
            "label": size.label,
            "model": config.name,
            "policy": config.policy,
            "integer": config.integer,
            "unpowered_chips": config.unpowered_chips,
            "scenarios": len(case.scenarios),
            "tree_nodes": len(tree.nodes),
            "tree_leaves": len(tree.leaf_paths()),
            "contracts": len(case.contracts),
            "rows": outcome.rows,
            "columns": outcome.columns,
            "nonzeros": outcome.nonzeros,
            "integer_columns": outcome.integer_columns,
            "rescaled": outcome.rescaled,
            "generate_seconds": generated - started,
            "read_seconds": read - generated,
            "build_seconds": result.build_seconds,
            "load_seconds": outcome.load_seconds,
            "solve_seconds": result.solve_seconds,
            "other_seconds": solve_case_seconds
            - result.build_seconds
            - outcome.load_seconds
            - result.solve_seconds,
            "total_seconds": time.perf_counter() - started,
            "peak_rss_mib": peak_rss_mib(),
            "time_limit_s": config.solver.time_limit_s,
            "status": outcome.status,
            "mip_gap": _finite(outcome.mip_gap),
            "objective_musd": _finite(result.objective_musd),
            "bound_musd": _finite(outcome.bound_musd),
            "warm_start": outcome.warm_start,
            **plan_shape(result),
            "cost_breakdown_musd": result.results.expected_breakdown_musd,
            "warnings": warnings,
            "case_dir": str(Path(final_dir) / "case"),
            "run_dir": str(final_dir),
        }
        folder.write_json("bench.json", figures)
        write_plan(folder, result, warnings, str(final_dir))
        folder.commit()
    return figures


def plan_shape(result: PlanResult) -> dict[str, Any]:
    """How much of the case the plan uses, read from its result tables: sites with a building
    (existing or built in some scenario) and the expected share of demand left unmet, in
    EFLOPS-years (as ``compare`` counts unmet demand)."""
    case, res = result.case, result.results
    built = set(res.builds["site"]) if not res.builds.empty else set()
    used = built | {s for s, site in case.sites.items() if site.existing_mw > 0}
    p, years = case.scenario_probability, case.period_years
    demand = sum(p[w] * years[t] * v for (w, t, _k), v in case.demand_eflops.items())
    unmet = res.expected_unmet_eflops_years(p, years)
    return {
        "sites_with_buildings": len(used),
        "sites_built": len(built),
        "unmet_share": unmet / demand if demand else 0.0,
    }


ROWS = (
    ("rows", "rows", "{:,}"),
    ("columns", "columns", "{:,}"),
    ("nonzeros", "nonzeros", "{:,}"),
    ("integer_columns", "integer columns", "{:,}"),
    ("rescaled", "rescaled for HiGHS", "{}"),
    ("generate_seconds", "generate + write case (s)", "{:.2f}"),
    ("read_seconds", "read case, load_case (s)", "{:.2f}"),
    ("build_seconds", "build Pyomo model (s)", "{:.2f}"),
    ("load_seconds", "load: compile + pass to HiGHS (s)", "{:.2f}"),
    ("solve_seconds", "solve (s)", "{:.2f}"),
    ("other_seconds", "results and rest (s)", "{:.2f}"),
    ("total_seconds", "total (s)", "{:.2f}"),
    ("peak_rss_mib", "peak memory (MiB)", "{:,.0f}"),
    ("sites_with_buildings", "sites with buildings", "{:,}"),
    ("unmet_share", "expected demand unmet (%)", "{:.2%}"),
    ("time_limit_s", "time limit (s)", "{:,.0f}"),
    ("status", "status", "{}"),
    ("mip_gap", "gap (%)", "{:.3f}"),
    ("objective_musd", "objective ({unit})", "{:,.3f}"),
    ("bound_musd", "bound ({unit})", "{:,.3f}"),
)


def render_bench(figures: dict[str, Any], console: Console) -> None:
    size = figures["size"]
    title = (
        f"bench {figures['label']}: {size['sites']} sites, {size['chips']} chips, "
        f"{size['periods']} {'quarters' if size['quarters'] else 'years'}, {size['workloads']} workloads, "
        f"{figures['scenarios']} scenarios ({figures['tree_nodes']} tree nodes), "
        f"{figures['model']} {'MIP' if figures['integer'] else 'LP'}"
    )
    console.print(title, highlight=False, markup=False)
    money = money_unit(figures["objective_musd"], figures["bound_musd"])
    table = Table()
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, label, form in ROWS:
        label = label.format(unit=money.label)
        value = figures[key]
        if value is None:
            text = "-"
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        elif key == "mip_gap":
            text = form.format(100 * value)
        elif key in ("objective_musd", "bound_musd"):
            text = money(value)
        else:
            text = form.format(value)
        table.add_row(label, text)
    warm = figures.get("warm_start")
    if warm is not None:
        table.add_row(f"warm start: LP bound ({money.label})", money(warm["lp_bound_musd"]))
        table.add_row(f"warm start: first plan ({money.label})", money(warm["objective_musd"]))
        table.add_row("warm start: fractional integers", f"{warm['fractional_columns']:,}")
        table.add_row("warm start (s)", f"{warm['seconds']:.2f}")
    console.print(table)
    print_warnings(console, figures["warnings"])
    console.print(
        f"run folder: {figures['run_dir']} (case in {figures['case_dir']})", highlight=False, markup=False
    )
